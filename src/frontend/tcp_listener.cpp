#include "frontend/tcp_listener.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <deque>

#include "common/bytes.hpp"

namespace dcp::frontend {

using namespace net::ops;

struct TcpListener::Connection {
    explicit Connection(asio::ip::tcp::socket s)
        : socket(std::move(s)), idle(socket.get_executor()), slot(socket.get_executor()) {}

    void close() {
        if (closed) return;
        closed = true;
        asio::error_code ignored;
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        idle.cancel();
        slot.cancel();
    }

    asio::ip::tcp::socket socket;
    asio::steady_timer idle;  // idle timeout while reading
    asio::steady_timer slot;  // woken when a query in flight completes
    std::deque<std::vector<std::uint8_t>> outbox;
    std::size_t in_flight = 0;
    bool writing = false;
    bool closed = false;
};

TcpListener::TcpListener(asio::io_context& io, const asio::ip::tcp::endpoint& local,
                         proxy::QueryProcessor& processor, Counters& counters, TcpLimits limits,
                         std::atomic<std::size_t>& connections, net::ListenShare share)
    : io_(io),
      acceptor_(io),
      processor_(processor),
      counters_(counters),
      limits_(limits),
      connections_(connections) {
    if (share.duplicate_of >= 0) {
        acceptor_.assign(local.protocol(), net::duplicate_descriptor(share.duplicate_of));
        return;
    }
    if (share.check_free) {
        asio::ip::tcp::acceptor probe(io);
        probe.open(local.protocol());
        probe.set_option(asio::socket_base::reuse_address(true));
        if (local.address().is_v6()) probe.set_option(asio::ip::v6_only(true));
        probe.bind(local);  // throws "address in use" when another process has it
    }
    acceptor_.open(local.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    if (local.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(true));
    if (share.reuse_port) net::set_reuse_port(acceptor_.native_handle());
    acceptor_.bind(local);
    acceptor_.listen(asio::socket_base::max_listen_connections);
}

void TcpListener::start() {
    asio::co_spawn(io_, accept_loop(), [alive = alive_](std::exception_ptr e) {
        if (e && *alive) spdlog::critical("TCP listener stopped by an internal error");
    });
}

void TcpListener::stop() {
    *alive_ = false;
    asio::error_code ignored;
    acceptor_.close(ignored);
}

net::awaitable<void> TcpListener::accept_loop() {
    auto alive = alive_;
    while (*alive) {
        auto [ec, socket] = co_await acceptor_.async_accept(net::use_nothrow);
        if (!*alive || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
            co_return;
        }
        if (ec) {
            // Out of descriptors and the like: back off briefly instead of spinning.
            asio::steady_timer pause(io_, std::chrono::milliseconds(50));
            co_await pause.async_wait(net::use_nothrow);
            continue;
        }
        if (connections_.fetch_add(1) >= limits_.max_connections) {
            connections_.fetch_sub(1);
            ++counters_.tcp_refused_limit;
            asio::error_code ignored;
            socket.close(ignored);
            continue;
        }
        ++counters_.tcp_connections;
        socket.set_option(asio::ip::tcp::no_delay(true));
        auto c = std::make_shared<Connection>(std::move(socket));
        asio::co_spawn(io_, serve(c), [this, alive, c](std::exception_ptr e) {
            if (!*alive) return;
            if (e) ++counters_.handler_exceptions;
            c->close();
            --connections_;
        });
    }
}

net::awaitable<void> TcpListener::serve(std::shared_ptr<Connection> c) {
    auto alive = alive_;
    std::array<std::uint8_t, 2> prefix{};
    while (*alive && !c->closed) {
        while (c->in_flight >= limits_.max_queries_in_flight && !c->closed) {
            c->slot.expires_at(asio::steady_timer::time_point::max());
            co_await c->slot.async_wait(net::use_nothrow);
        }
        c->idle.expires_after(limits_.idle_timeout);
        auto r = co_await (asio::async_read(c->socket, asio::buffer(prefix), net::use_nothrow) ||
                           c->idle.async_wait(net::use_nothrow));
        if (r.index() == 1) {
            if (c->in_flight == 0 && c->outbox.empty()) {
                ++counters_.tcp_idle_closed;
                co_return;
            }
            continue;  // answers still owed: not idle
        }
        if (std::get<0>(std::get<0>(r))) co_return;  // closed by the client or an error
        const std::size_t len = load_u16_be(prefix.data());
        if (len == 0) co_return;
        std::vector<std::uint8_t> query(len);
        c->idle.expires_after(limits_.idle_timeout);
        auto body = co_await (asio::async_read(c->socket, asio::buffer(query), net::use_nothrow) ||
                              c->idle.async_wait(net::use_nothrow));
        if (body.index() == 1 || std::get<0>(std::get<0>(body))) co_return;
        ++counters_.queries_tcp;
        ++c->in_flight;
        asio::co_spawn(io_, handle(c, std::move(query)), [this, alive, c](std::exception_ptr e) {
            if (e && *alive) {
                ++counters_.handler_exceptions;
                c->close();
            }
        });
    }
}

net::awaitable<void> TcpListener::handle(std::shared_ptr<Connection> c,
                                         std::vector<std::uint8_t> query) {
    std::vector<std::uint8_t> reply;
    const bool ok = co_await processor_.process(query, proxy::ClientTransport::Tcp, reply);
    --c->in_flight;
    c->slot.cancel();
    if (c->closed) co_return;
    if (!ok) {
        // Not DNS: this client is not speaking the protocol, stop listening to it.
        c->close();
        co_return;
    }
    // The 2-byte length goes in front of the reply itself: no second buffer.
    std::array<std::uint8_t, 2> length{};
    store_u16_be(length.data(), static_cast<std::uint16_t>(reply.size()));
    reply.insert(reply.begin(), length.begin(), length.end());
    c->outbox.push_back(std::move(reply));
    if (!c->writing) {
        c->writing = true;
        asio::co_spawn(io_, write_loop(c), [this, alive = alive_, c](std::exception_ptr e) {
            if (e && *alive) {
                ++counters_.handler_exceptions;
                c->close();
            }
        });
    }
}

net::awaitable<void> TcpListener::write_loop(std::shared_ptr<Connection> c) {
    // The only writer of this connection: answers go out one after another, whole.
    while (!c->outbox.empty() && !c->closed) {
        const auto [ec, n] = co_await asio::async_write(c->socket, asio::buffer(c->outbox.front()),
                                                        net::use_nothrow);
        if (ec) {
            c->close();
            break;
        }
        c->outbox.pop_front();
    }
    c->writing = false;
}

}  // namespace dcp::frontend
