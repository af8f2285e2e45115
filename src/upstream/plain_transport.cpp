#include "upstream/plain_transport.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

#include "dns/message.hpp"
#include "net/endpoint.hpp"
#include "upstream/tcp_exchange.hpp"

namespace dcp::upstream {
namespace {

// The pending table's key lives in the attempt's transport slot, shifted by one (0 = none).
void* encode_id(std::uint16_t id) {
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(id) + 1);
}
std::optional<std::uint16_t> decode_id(void* p) {
    const auto v = reinterpret_cast<std::uintptr_t>(p);
    if (v == 0) return std::nullopt;
    return static_cast<std::uint16_t>(v - 1);
}

}  // namespace

PlainTransport::PlainTransport(asio::io_context& io, asio::ip::udp::endpoint server,
                               std::chrono::milliseconds timeout, Counters& counters)
    : io_(io),
      server_(server),
      timeout_(timeout),
      counters_(counters),
      send_buffer_(dns::kMaxMessageSize),
      receive_buffer_(dns::kMaxMessageSize) {}

PlainTransport::~PlainTransport() {
    stop();
}

void PlainTransport::stop() {
    *alive_ = false;
    if (socket_) {
        asio::error_code ignored;
        socket_->close(ignored);
    }
}

void PlainTransport::open() {
    socket_.emplace(io_);
    asio::error_code ec;
    socket_->open(server_.protocol(), ec);
    if (!ec) socket_->connect(server_, ec);  // a random source port, and only its datagrams
    if (!ec) socket_->non_blocking(true, ec);
    if (ec) {
        spdlog::warn("forwarding to {}: {}", net::to_string(server_), ec.message());
        socket_.reset();
        return;
    }
    wait_readable();
}

void PlainTransport::wait_readable() {
    socket_->async_wait(asio::socket_base::wait_read,
                        [this, alive = alive_](const asio::error_code& ec) {
                            if (!*alive || ec == asio::error::operation_aborted) return;
                            read_available();
                        });
}

void PlainTransport::read_available() {
    for (int i = 0; i < 64 && socket_; ++i) {
        asio::error_code ec;
        const std::size_t n = socket_->receive(asio::buffer(receive_buffer_), 0, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) break;
        if (ec) continue;  // an ICMP error (port unreachable): the query times out or fails over
        on_datagram(MutableBytes(receive_buffer_.data(), n));
    }
    if (socket_) wait_readable();
}

void PlainTransport::begin(Attempt& attempt) {
    if (!socket_) open();
    if (!socket_ || attempt.message.size() < dns::kHeaderSize ||
        attempt.message.size() > send_buffer_.size() || pending_.size() >= 60000) {
        complete(attempt, Unexpected(ExchangeError::Network));
        return;
    }
    std::uint16_t id = 0;
    do {
        id = static_cast<std::uint16_t>(rng_.uniform(65536));
    } while (pending_.contains(id));
    std::memcpy(send_buffer_.data(), attempt.message.data(), attempt.message.size());
    const std::uint16_t client_id = load_u16_be(send_buffer_.data());
    store_u16_be(send_buffer_.data(), id);
    asio::error_code ec;
    socket_->send(asio::buffer(send_buffer_.data(), attempt.message.size()), 0, ec);
    if (ec) {
        complete(attempt, Unexpected(ExchangeError::Network));
        return;
    }
    pending_.emplace(id, Pending{&attempt, client_id});
    state_of(attempt) = encode_id(id);
}

bool PlainTransport::cancel(Attempt& attempt) {
    const auto id = decode_id(state_of(attempt));
    if (!id) return false;  // over TCP: it completes when that ends (bounded by the timeout)
    pending_.erase(*id);
    state_of(attempt) = nullptr;
    return true;
}

void PlainTransport::on_datagram(MutableBytes datagram) {
    if (datagram.size() < dns::kHeaderSize) return;
    const std::uint16_t id = load_u16_be(datagram.data());
    const auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Attempt& attempt = *it->second.attempt;
    const std::uint16_t client_id = it->second.client_id;
    if (!dns::check_response_matches(datagram, id, attempt.info->question)) {
        ++counters_.reply_mismatch;
        return;  // not the answer: the query keeps waiting
    }
    pending_.erase(it);
    state_of(attempt) = nullptr;
    const auto header = dns::parse_header(datagram);
    if (header && header->tc()) {
        ++counters_.upstream_truncated;
        // Marked as not cancellable until the TCP exchange ends.
        asio::co_spawn(io_, over_tcp(&attempt, client_id), [](std::exception_ptr e) {
            if (e) spdlog::debug("forwarding over TCP: internal error");
        });
        return;
    }
    store_u16_be(datagram.data(), client_id);
    complete(attempt, datagram);
}

net::awaitable<void> PlainTransport::over_tcp(Attempt* attempt, std::uint16_t client_id) {
    ++counters_.upstream_tcp_retries;
    const asio::ip::tcp::endpoint server(server_.address(), server_.port());
    auto answer = co_await tcp_exchange(server, attempt->message,
                                        std::chrono::steady_clock::now() + timeout_);
    if (!answer) {
        complete(*attempt, Unexpected(answer.error()));
        co_return;
    }
    if (answer->size() < dns::kHeaderSize ||
        !dns::check_response_matches(*answer, client_id, attempt->info->question)) {
        ++counters_.reply_mismatch;
        complete(*attempt, Unexpected(ExchangeError::BadAnswer));
        co_return;
    }
    complete(*attempt, MutableBytes(*answer));
}

}  // namespace dcp::upstream
