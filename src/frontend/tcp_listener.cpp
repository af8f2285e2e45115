#include "frontend/tcp_listener.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <array>
#include <deque>

#include "common/bytes.hpp"
#include "dns/tcp_frame.hpp"
#include "net/endpoint.hpp"

namespace dcp::frontend {

using namespace net::ops;
using Clock = std::chrono::steady_clock;

struct TcpListener::Connection {
    explicit Connection(asio::ip::tcp::socket s)
        : socket(std::move(s)), wake(socket.get_executor()), write_timer(socket.get_executor()) {}

    void close() {
        if (closed) return;
        closed = true;
        asio::error_code ignored;
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        wake.cancel();
        write_timer.cancel();
    }
    // The reader re-checks its state: a query completed, answers were written, or the
    // connection closed. Everything runs on one thread, so no wake-up can be missed between
    // the reader's check and its wait.
    void notify() { wake.cancel(); }
    net::awaitable<void> until_notified() {
        wake.expires_at(Clock::time_point::max());
        co_await wake.async_wait(net::use_nothrow);
    }
    // Answers owed to the client: queries being resolved or answers not yet written.
    [[nodiscard]] bool owes() const { return in_flight > 0 || writing || !outbox.empty(); }

    asio::ip::tcp::socket socket;
    asio::ip::tcp::endpoint peer;    // the client (for QueryEvents)
    asio::steady_timer wake;         // the reader's deadline, cancelled by notify()
    asio::steady_timer write_timer;  // how long the client may take to accept an answer
    dns::TcpFrameReader reader;
    std::deque<std::vector<std::uint8_t>> outbox;  // length-prefixed answers, in order
    std::size_t outbox_bytes = 0;  // memory the queued answers hold (their capacity)
    std::size_t in_flight = 0;
    bool writing = false;
    bool closed = false;
    bool counted = true;            // holds a slot of the connection limit (false once evicted)
    bool waits_for_worker = false;  // paused: the worker's queries in flight are at the limit
    Clock::time_point last_activity = Clock::now();  // bytes read or answers written
    Clock::time_point quiet_since = Clock::now();    // whole queries read or answers written
    std::list<Connection*>::iterator live;           // where it is in TcpListener::live_
};

TcpListener::TcpListener(asio::io_context& io, const asio::ip::tcp::endpoint& local,
                         proxy::QueryProcessor& processor, Counters& counters, TcpLimits limits,
                         std::atomic<std::size_t>& connections, net::ListenShare share)
    : io_(io),
      acceptor_(io),
      processor_(processor),
      counters_(counters),
      limits_(limits),
      connections_(connections),
      parked_(acceptor_, local.protocol()) {
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

void TcpListener::start(bool active) {
    set_active(active);
}

std::string TcpListener::describe() const {
    asio::error_code ec;
    return net::to_string(acceptor_.local_endpoint(ec)) + " (TCP)";
}

void TcpListener::set_active(bool on) {
    accepting_ = on;
    if (!on) {
        if (!loop_running_) {
            parked_.park();
            return;
        }
        cancelled_ = true;
        asio::error_code ignored;
        acceptor_.cancel(ignored);  // the loop ends at once; its completion parks
        return;
    }
    if (auto back = parked_.unpark(); !back) {
        spdlog::error("cannot accept on the shared TCP socket again: {}", back.error().message());
        return;
    }
    if (!loop_running_) spawn_accept_loop();
    // Else a cancelled loop is ending: its completion starts the next one.
}

void TcpListener::spawn_accept_loop() {
    loop_running_ = true;
    cancelled_ = false;
    asio::co_spawn(io_, accept_loop(), [this, alive = alive_.token()](std::exception_ptr e) {
        if (!alive) return;
        loop_running_ = false;
        if (e) {
            spdlog::critical("TCP listener stopped by an internal error");
        } else if (accepting_ && cancelled_) {
            spawn_accept_loop();  // accepting again before the cancelled loop had ended
        } else if (!accepting_) {
            parked_.park();
        }
    });
}

void TcpListener::stop() {
    alive_.end();
    asio::error_code ignored;
    acceptor_.close(ignored);
    parked_.close();
}

TcpListener::Connection* TcpListener::quietest_evictable() const {
    const auto now = Clock::now();
    Connection* best = nullptr;
    for (Connection* c : live_) {
        if (c->closed || c->owes() || now - c->quiet_since < limits_.evict_quiet_after) continue;
        if (!best || c->quiet_since < best->quiet_since) best = c;
    }
    return best;
}

net::awaitable<void> TcpListener::accept_loop() {
    const auto alive = alive_.token();
    while (alive && accepting_) {
        auto [ec, socket] = co_await acceptor_.async_accept(net::use_nothrow);
        if (!alive || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
            co_return;
        }
        if (ec) {
            // Out of descriptors and the like: back off briefly instead of spinning.
            ++counters_.tcp_accept_errors;
            asio::steady_timer pause(io_, std::chrono::milliseconds(50));
            co_await pause.async_wait(net::use_nothrow);
            continue;
        }
        if (connections_.fetch_add(1) >= limits_.max_connections) {
            // Under pressure a server may close its idle connections (RFC 7766 6.2.3): the one
            // quiet the longest gives its slot to the newcomer, so that connections held open
            // doing nothing cannot lock well-behaved clients out.
            if (Connection* victim = quietest_evictable()) {
                victim->counted = false;
                connections_.fetch_sub(1);
                ++counters_.tcp_evicted;
                victim->close();
            } else {
                connections_.fetch_sub(1);
                ++counters_.tcp_refused_limit;
                asio::error_code ignored;
                socket.close(ignored);
                continue;
            }
        }
        ++counters_.tcp_connections;
        asio::error_code ignored;
        socket.set_option(asio::ip::tcp::no_delay(true), ignored);
        auto c = std::make_shared<Connection>(std::move(socket));
        c->peer = c->socket.remote_endpoint(ignored);
        c->live = live_.insert(live_.end(), c.get());
        asio::co_spawn(io_, serve(c), [this, alive, c](std::exception_ptr e) {
            if (!alive) return;
            if (e) ++counters_.handler_exceptions;
            c->close();
            live_.erase(c->live);
            if (c->counted) --connections_;
        });
    }
}

// Reads queries as they come (waiting for readability, then reading what is there without
// blocking, so that a deadline never cancels a read halfway and loses bytes of the stream).
// Deadlines: a query must arrive whole within the idle timeout of the one before it (a client
// dribbling bytes holds a connection no longer than an idle one); a connection that owes
// nothing closes after the idle timeout; while answers are owed, the write deadline
// (write_loop) bounds how long a client that does not read can hold it.
net::awaitable<void> TcpListener::serve(std::shared_ptr<Connection> c) {
    const auto alive = alive_.token();
    asio::error_code ec;
    c->socket.non_blocking(true, ec);
    if (ec) co_return;
    bool eof = false;
    Clock::time_point partial_since = Clock::now();
    while (alive && !c->closed) {
        // Every whole query buffered goes to the resolver, as far as the limits allow.
        bool paused = false;
        for (;;) {
            // What is queued and what is owed count against the bound: an answer still to
            // come is counted at a typical size until it is queued at its own.
            if (c->in_flight >= limits_.max_queries_in_flight ||
                c->outbox_bytes + c->in_flight * kOwedAnswerEstimate >=
                    limits_.max_queued_answer_bytes) {
                paused = true;
                break;
            }
            if (in_flight_ >= limits_.max_queries_in_flight_per_worker) {
                c->waits_for_worker = true;  // woken when any query of this worker completes
                paused = true;
                break;
            }
            const auto query = c->reader.next();
            if (!query) {
                ++counters_.tcp_bad_frames;
                co_return;  // a zero length: not DNS over TCP
            }
            if (!*query) break;
            dispatch(c, **query);
            partial_since = Clock::now();
        }
        if (paused) {
            co_await c->until_notified();
            continue;
        }
        if (eof) break;

        const bool partial = c->reader.buffered() > 0;
        Clock::time_point deadline = Clock::time_point::max();
        if (partial) {
            deadline = partial_since + limits_.idle_timeout;
        } else if (!c->owes()) {
            deadline = c->last_activity + limits_.idle_timeout;
        }
        if (Clock::now() >= deadline) {
            ++(partial ? counters_.tcp_read_timeouts : counters_.tcp_idle_closed);
            co_return;
        }
        c->wake.expires_at(deadline);
        auto r = co_await (c->socket.async_wait(asio::socket_base::wait_read, net::use_nothrow) ||
                           c->wake.async_wait(net::use_nothrow));
        if (r.index() == 1) continue;  // deadline or notify(): look again
        if (std::get<0>(std::get<0>(r))) co_return;
        const auto space = c->reader.space();
        const std::size_t n = c->socket.read_some(asio::buffer(space.data(), space.size()), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
        if (ec == asio::error::eof) {
            // Half-close: the client has sent its last query. Whole queries already received
            // are still answered, then the connection closes (RFC 7766 6.2.4).
            eof = true;
            continue;
        }
        if (ec) co_return;
        if (c->reader.buffered() == 0) partial_since = Clock::now();
        c->reader.commit(n);
        c->last_activity = Clock::now();
    }
    while (c->owes() && !c->closed) co_await c->until_notified();
}

void TcpListener::dispatch(const std::shared_ptr<Connection>& c, Bytes query) {
    ++counters_.queries_tcp;
    ++c->in_flight;
    ++in_flight_;
    c->quiet_since = Clock::now();
    asio::co_spawn(io_, handle(c, std::vector<std::uint8_t>(query.begin(), query.end())),
                   [this, alive = alive_.token(), c](std::exception_ptr e) {
                       if (e && alive) {
                           ++counters_.handler_exceptions;
                           c->close();
                       }
                   });
}

net::awaitable<void> TcpListener::handle(std::shared_ptr<Connection> c,
                                         std::vector<std::uint8_t> query) {
    std::vector<std::uint8_t> reply;
    const proxy::ClientAddress client{c->peer.data(), static_cast<socklen_t>(c->peer.size())};
    const bool ok = co_await processor_.process(query, proxy::ClientTransport::Tcp, client, reply);
    --c->in_flight;
    --in_flight_;
    c->notify();
    if (in_flight_ < limits_.max_queries_in_flight_per_worker) {
        for (Connection* other : live_) {
            if (!other->waits_for_worker) continue;
            other->waits_for_worker = false;
            other->notify();
        }
    }
    if (c->closed) co_return;
    if (!ok) {
        // Not DNS: this client is not speaking the protocol, stop listening to it.
        c->close();
        co_return;
    }
    // Framed in a buffer of its own size: the processor's holds 4 KiB at least, which 128
    // small answers queued for a client that does not read would keep for nothing.
    std::vector<std::uint8_t> framed;
    framed.reserve(reply.size() + 2);
    framed.push_back(static_cast<std::uint8_t>(reply.size() >> 8));
    framed.push_back(static_cast<std::uint8_t>(reply.size()));
    framed.insert(framed.end(), reply.begin(), reply.end());
    reply = {};
    if (!c->outbox.empty() && c->outbox_bytes + framed.size() > limits_.max_queued_answer_bytes) {
        // Answers owed when reading paused came in larger than counted, and the client still
        // does not read (the kernel's buffer is full, or the outbox would be empty): the bound
        // holds, so the connection closes, as a write timeout would close it later.
        ++counters_.tcp_write_timeouts;
        c->close();
        co_return;
    }
    c->outbox_bytes += framed.capacity();  // what it holds in memory, not only its length
    c->outbox.push_back(std::move(framed));
    if (!c->writing) {
        c->writing = true;
        asio::co_spawn(io_, write_loop(c), [this, alive = alive_.token(), c](std::exception_ptr e) {
            if (e && alive) {
                ++counters_.handler_exceptions;
                c->close();
            }
        });
    }
}

net::awaitable<void> TcpListener::write_loop(std::shared_ptr<Connection> c) {
    // The only writer of this connection: answers go out whole, several per system call when
    // they queue up. A client that accepts none of them within the idle timeout is not reading:
    // the connection closes, and what was queued for it is freed.
    constexpr std::size_t kMaxGather = 16;
    std::array<asio::const_buffer, kMaxGather> buffers;
    while (!c->outbox.empty() && !c->closed) {
        std::size_t count = 0;
        for (const auto& answer : c->outbox) {
            if (count == kMaxGather) break;
            buffers[count++] = asio::buffer(answer);
        }
        c->write_timer.expires_after(limits_.idle_timeout);
        const auto r = co_await (
            asio::async_write(c->socket, std::span(buffers.data(), count), net::use_nothrow) ||
            c->write_timer.async_wait(net::use_nothrow));
        if (r.index() == 1) {
            if (!c->closed) ++counters_.tcp_write_timeouts;
            c->close();
            break;
        }
        if (std::get<0>(std::get<0>(r))) {
            c->close();
            break;
        }
        for (std::size_t i = 0; i < count; ++i) {
            c->outbox_bytes -= c->outbox.front().capacity();
            c->outbox.pop_front();
        }
        c->last_activity = c->quiet_since = Clock::now();
        c->notify();
    }
    c->writing = false;
    c->notify();
}

}  // namespace dcp::frontend
