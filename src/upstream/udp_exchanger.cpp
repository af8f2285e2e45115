#include "upstream/udp_exchanger.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

#include "dnscrypt/packet.hpp"
#include "upstream/reply_drops.hpp"

namespace dcp::upstream {

struct UdpExchanger::Pending {
    const Request* request;
    std::vector<std::uint8_t>* answer;
    asio::steady_timer* wake;  // never expires by itself: cancelled on answer or deadline
    std::chrono::steady_clock::time_point deadline;
    bool done = false;
};

UdpExchanger::UdpExchanger(asio::io_context& io, asio::ip::udp::endpoint resolver,
                           std::size_t sockets, Counters& counters)
    : io_(io),
      resolver_(resolver),
      socket_count_(std::max<std::size_t>(sockets, 1)),
      counters_(counters),
      sweeper_(io) {
    pending_.reserve(1024);
}

UdpExchanger::~UdpExchanger() {
    stop();
}

void UdpExchanger::start() {
    for (std::size_t i = 0; i < socket_count_; ++i) {
        auto socket = std::make_unique<asio::ip::udp::socket>(io_);
        socket->open(resolver_.protocol());
        // Bursts of answers must not be lost to a small default buffer.
        asio::error_code ignored;
        socket->set_option(asio::socket_base::receive_buffer_size(1 << 20), ignored);
        socket->connect(resolver_);
        sockets_.push_back(std::move(socket));
    }
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        asio::co_spawn(io_, receive_loop(i), [alive = alive_](std::exception_ptr e) {
            if (e && *alive) spdlog::error("upstream UDP receive loop ended unexpectedly");
        });
    }
}

void UdpExchanger::stop() {
    *alive_ = false;
    sweeper_.cancel();
    for (auto& s : sockets_) {
        asio::error_code ignored;
        s->close(ignored);
    }
}

std::uint64_t UdpExchanger::table_key(const dnscrypt::ClientNonceHalf& nonce) noexcept {
    std::uint64_t key = 0;
    std::memcpy(&key, nonce.data(), sizeof(key));
    return key;
}

bool UdpExchanger::is_pending(const dnscrypt::ClientNonceHalf& nonce) const {
    return pending_.count(table_key(nonce)) != 0;
}

net::awaitable<dcp::Result<void, ExchangeError>> UdpExchanger::exchange(
    const Request& request, std::chrono::steady_clock::time_point deadline,
    std::vector<std::uint8_t>& answer) {
    auto& socket = *sockets_[next_socket_];
    next_socket_ = (next_socket_ + 1) % sockets_.size();

    asio::steady_timer wake(io_, asio::steady_timer::time_point::max());
    Pending pending{&request, &answer, &wake, deadline};
    const auto key = table_key(request.nonce_half);
    pending_.emplace(key, &pending);
    if (!sweeping_) {
        sweeping_ = true;
        asio::co_spawn(io_, sweep_loop(), [alive = alive_](std::exception_ptr e) {
            if (e && *alive) spdlog::error("upstream deadline sweeper ended unexpectedly");
        });
    }

    const auto [send_error, sent] = co_await socket.async_send(
        asio::buffer(request.packet.data(), request.packet.size()), net::use_nothrow);
    if (send_error) {
        pending_.erase(key);
        co_return Unexpected(ExchangeError::Network);
    }
    // Cancelled by on_datagram when the answer arrives, or by the sweeper at the deadline.
    co_await wake.async_wait(net::use_nothrow);
    pending_.erase(key);
    if (!pending.done) co_return Unexpected(ExchangeError::Timeout);
    co_return dcp::Result<void, ExchangeError>{};
}

net::awaitable<void> UdpExchanger::sweep_loop() {
    auto alive = alive_;
    while (*alive && !pending_.empty()) {
        sweeper_.expires_after(kSweepInterval);
        co_await sweeper_.async_wait(net::use_nothrow);
        if (!*alive) co_return;
        const auto now = std::chrono::steady_clock::now();
        for (const auto& [key, p] : pending_) {
            if (!p->done && p->deadline <= now) p->wake->cancel();
        }
    }
    sweeping_ = false;
}

net::awaitable<void> UdpExchanger::receive_loop(std::size_t index) {
    // One receive buffer per socket: the largest datagram there can be.
    std::vector<std::uint8_t> buffer(65536);
    auto alive = alive_;
    while (*alive) {
        auto& socket = *sockets_[index];
        const auto [ec, n] = co_await socket.async_receive(asio::buffer(buffer), net::use_nothrow);
        if (!*alive || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
            co_return;
        }
        if (ec) continue;  // e.g. ICMP port unreachable surfacing on a connected socket
        on_datagram(std::span(buffer.data(), n));
    }
}

void UdpExchanger::on_datagram(std::span<std::uint8_t> packet) {
    const auto nonce = dnscrypt::response_nonce_half(packet);
    if (!nonce) {
        count_reply_drop(counters_, nonce.error());
        return;
    }
    const auto it = pending_.find(table_key(*nonce));
    if (it == pending_.end() || it->second->done) {
        ++counters_.reply_unknown_nonce;  // forged, late, or a duplicate
        return;
    }
    Pending& p = *it->second;
    const auto msg = dnscrypt::decrypt_response(packet, p.request->nonce_half, *p.request->key);
    if (!msg) {
        count_reply_drop(counters_, msg.error());
        return;
    }
    if (!dns::check_response_matches(*msg, p.request->id, *p.request->question)) {
        ++counters_.reply_mismatch;
        return;
    }
    p.answer->assign(msg->begin(), msg->end());
    p.done = true;
    p.wake->cancel();
}

}  // namespace dcp::upstream
