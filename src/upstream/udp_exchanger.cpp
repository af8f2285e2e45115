#include "upstream/udp_exchanger.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

#include "dnscrypt/packet.hpp"
#include "net/endpoint.hpp"
#include "upstream/answer_check.hpp"
#include "upstream/reply_drops.hpp"

namespace dcp::upstream {
namespace {

// Datagrams read per call, and calls per readiness event before the other sockets get a turn.
constexpr std::size_t kReceiveBatch = 16;
constexpr int kReadsPerEvent = 4;
// A valid answer is never larger than the query it answers (the server truncates instead), so
// this only has to hold our largest query; larger datagrams are dropped as malformed. Only the
// pages a datagram touches become resident.
constexpr std::size_t kReceiveCapacity = 8192;

}  // namespace

struct UdpExchanger::Socket {
    explicit Socket(asio::io_context& io) : socket(io) {}
    asio::ip::udp::socket socket;
};

UdpExchanger::UdpExchanger(asio::io_context& io, asio::ip::udp::endpoint resolver,
                           std::size_t sockets, std::size_t max_packet, Counters& counters)
    : io_(io),
      resolver_(resolver),
      socket_count_(std::max<std::size_t>(sockets, 1)),
      packet_capacity_(max_packet + dnscrypt::query::kHeaderSize),
      counters_(counters),
      send_(kSendQueue, packet_capacity_),
      sweeper_(io) {}

UdpExchanger::~UdpExchanger() {
    stop();
}

void UdpExchanger::start() {
    received_.resize(kReceiveBatch);
    receive_arena_ = net::attach_buffers(received_, kReceiveCapacity, kReceiveCapacity);
    receiver_ = std::make_unique<net::ReceiveBatch>(received_);
    if (const auto ec = open_sockets()) {
        // No route yet (a boot before the network, an IPv6 server on an IPv4-only host): the
        // server is down, not the proxy. The certificate fetch retries with back-off, and the
        // sockets are opened with the first query after it succeeds.
        spdlog::debug("{}: {}: the server is unusable until it can be reached",
                      net::to_string(resolver_), ec.message());
    }
}

asio::error_code UdpExchanger::open_sockets() {
    for (std::size_t i = 0; i < socket_count_; ++i) {
        auto s = std::make_unique<Socket>(io_);
        asio::error_code ec;
        s->socket.open(resolver_.protocol(), ec);
        if (!ec) {
            // Bursts of answers must not be lost to a small default buffer.
            asio::error_code ignored;
            s->socket.set_option(asio::socket_base::receive_buffer_size(1 << 20), ignored);
            s->socket.connect(resolver_, ec);
        }
        if (!ec) s->socket.non_blocking(true, ec);
        if (ec) {
            sockets_.clear();
            return ec;
        }
        sockets_.push_back(std::move(s));
    }
    for (std::size_t i = 0; i < sockets_.size(); ++i) wait_readable(i);
    return {};
}

void UdpExchanger::stop() {
    alive_.end();
    sweeper_.cancel();
    for (auto& s : sockets_) {
        asio::error_code ignored;
        s->socket.close(ignored);
    }
}

std::uint64_t UdpExchanger::table_key(const dnscrypt::ClientNonceHalf& nonce) noexcept {
    std::uint64_t key = 0;
    std::memcpy(&key, nonce.data(), sizeof(key));
    return key;
}

bool UdpExchanger::is_pending(const dnscrypt::ClientNonceHalf& nonce) const {
    return pending_.find(table_key(nonce)) != nullptr;
}

bool UdpExchanger::cancel(PendingUdpQuery& query) {
    if (pending_.find(table_key(query.nonce_half_)) != &query) return false;
    unlink(query);
    return true;
}

MutableBytes UdpExchanger::send_buffer() {
    if (!alive_.alive()) return {};
    if (sockets_.empty() && receiver_ && open_sockets()) return {};  // still unreachable
    if (send_.full() && !send_blocked_) flush();
    if (send_.full() || sockets_.empty()) return {};
    return {send_.next().data, packet_capacity_};
}

void UdpExchanger::submit(PendingUdpQuery& query, const Request& request) {
    query.nonce_half_ = request.nonce_half;
    query.key_ = request.key;
    query.id_ = request.id;
    query.question_ = request.question;
    query.deadline_ = request.deadline;
    link(query);
    const std::size_t at = send_.size();
    send_.next().size = request.packet_len;
    send_owner_[at] = &query;
    send_key_[at] = table_key(request.nonce_half);
    send_.push();
    arm_sweeper();
    request_flush();
}

void UdpExchanger::link(PendingUdpQuery& q) {
    pending_.insert(table_key(q.nonce_half_), &q);
    deadlines_.push_back(q);
}

void UdpExchanger::unlink(PendingUdpQuery& q) {
    pending_.erase(table_key(q.nonce_half_));
    deadlines_.remove(q);
}

void UdpExchanger::flush() {
    if (send_blocked_ || send_.empty() || sockets_.empty()) return;
    // One socket per batch, in turn: the source ports still vary across queries.
    auto& socket = sockets_[next_socket_]->socket;
    next_socket_ = (next_socket_ + 1) % sockets_.size();
    const std::size_t queued = send_.size();
    std::size_t start = 0;
    while (start < queued) {
        std::error_code ec;
        start +=
            net::send_datagrams(socket.native_handle(), send_.queued().subspan(start), true, ec);
        if (start == queued) break;
        if (net::would_block(ec)) {
            // Keep the rest; send it when the socket can take it.
            send_blocked_ = true;
            socket.async_wait(asio::socket_base::wait_write,
                              [this, alive = alive_.token()](const asio::error_code&) {
                                  if (!alive) return;
                                  send_blocked_ = false;
                                  const net::FlushScope scope;
                                  request_flush();
                              });
            // Compact: move the unsent packets to the front of the queue.
            for (std::size_t i = start; i < queued; ++i) {
                send_owner_[i - start] = send_owner_[i];
                send_key_[i - start] = send_key_[i];
            }
            send_.drop_front(start);
            return;
        }
        // This packet could not be sent (a pending ICMP error, say): its query fails now,
        // unless it already ended (the sweeper may have timed it out while it was queued).
        PendingUdpQuery* q = send_owner_[start];
        const std::uint64_t key = send_key_[start];
        ++start;
        if (pending_.find(key) == q) {
            unlink(*q);
            q->on_udp_failure(ExchangeError::Network);
        }
    }
    send_.clear();
}

void UdpExchanger::wait_readable(std::size_t index) {
    sockets_[index]->socket.async_wait(
        asio::socket_base::wait_read,
        [this, index, alive = alive_.token()](const asio::error_code& ec) {
            if (!alive || ec == asio::error::operation_aborted) return;
            read_available(index);
        });
}

void UdpExchanger::read_available(std::size_t index) {
    const net::FlushScope scope;  // replies and follow-up sends leave together at the end
    const bool drained =
        net::drain(sockets_[index]->socket.native_handle(), *receiver_, kReadsPerEvent,
                   [this](net::Datagram& d) {
                       if (d.truncated) {
                           ++counters_.reply_bad_magic;  // larger than any answer to our queries
                           return;
                       }
                       on_datagram(MutableBytes(d.data, d.size));
                   });
    if (drained) {
        wait_readable(index);
        return;
    }
    // Still more: go on after the other handlers had their turn.
    asio::post(io_, [this, index, alive = alive_.token()] {
        if (alive) read_available(index);
    });
}

void UdpExchanger::on_datagram(MutableBytes packet) {
    const auto nonce = dnscrypt::response_nonce_half(packet);
    if (!nonce) {
        count_reply_drop(counters_, nonce.error());
        return;
    }
    PendingUdpQuery* q = pending_.find(table_key(*nonce));
    if (!q) {
        ++counters_.reply_unknown_nonce;  // forged, late, or a duplicate
        return;
    }
    const auto msg =
        open_answer(packet, q->nonce_half_, *q->key_, q->id_, *q->question_, counters_);
    if (!msg) return;
    unlink(*q);
    q->on_udp_answer(*msg);
}

void UdpExchanger::arm_sweeper() {
    if (sweeping_ || deadlines_.empty()) return;
    sweeping_ = true;
    sweeper_.expires_after(kSweepInterval);
    sweeper_.async_wait([this, alive = alive_.token()](const asio::error_code&) {
        if (!alive) return;
        sweeping_ = false;
        const net::FlushScope scope;
        sweep();
        arm_sweeper();
    });
}

void UdpExchanger::sweep() {
    const auto now = std::chrono::steady_clock::now();
    while (!deadlines_.empty() && deadlines_.front()->deadline_ <= now) {
        PendingUdpQuery* q = deadlines_.front();
        unlink(*q);
        q->on_udp_failure(ExchangeError::Timeout);
    }
}

}  // namespace dcp::upstream
