#include "frontend/udp_listener.hpp"

#include <netinet/in.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "net/endpoint.hpp"

namespace dcp::frontend {
namespace {

// Receive entries hold a query plus the OPT record the proxy may add; reply entries hold any
// answer up to this size (larger ones, possible only after a TCP fallback, go out one by one).
constexpr std::size_t kReceiveStride = proxy::kQueryBufferSize;
constexpr std::size_t kReplyCapacity = 4096 + 512;
// Room reserved for the forwarded query in each slot: queries are rarely longer.
constexpr std::size_t kSlotMessageReserve = 128;

}  // namespace

// One query on its way upstream and back; free again once the pool releases it.
class UdpListener::Slot final : public upstream::ClientQuery {
  public:
    explicit Slot(UdpListener& owner) : owner_(owner) { storage.reserve(kSlotMessageReserve); }

    proxy::Prepared prepared;
    // The client's address: UDP's are IPv4 or IPv6 (not a whole sockaddr_storage per slot).
    sockaddr_in6 peer{};
    socklen_t peer_len = 0;
    std::vector<std::uint8_t> storage;  // the forwarded query (what `message` points to)

  protected:
    void complete(dcp::Result<MutableBytes, upstream::ExchangeError> answer) override {
        owner_.on_complete(*this, answer);
    }
    void release() override { owner_.free_slots_.push_back(this); }

  private:
    UdpListener& owner_;
};

UdpListener::UdpListener(asio::io_context& io, const asio::ip::udp::endpoint& local,
                         proxy::QueryProcessor& processor, Counters& counters,
                         net::ListenShare share)
    : io_(io),
      socket_(io),
      processor_(processor),
      counters_(counters),
      replies_(kReplyQueue, kReplyCapacity),
      parked_(socket_, local.protocol()) {
    if (share.duplicate_of >= 0) {
        socket_.assign(local.protocol(), net::duplicate_descriptor(share.duplicate_of));
    } else {
        if (share.check_free) {
            asio::ip::udp::socket probe(io, local.protocol());
            if (local.address().is_v6()) probe.set_option(asio::ip::v6_only(true));
            probe.bind(local);  // throws "address in use" when another process has it
        }
        socket_.open(local.protocol());
        if (local.address().is_v6()) socket_.set_option(asio::ip::v6_only(true));
        asio::error_code ignored;
        socket_.set_option(asio::socket_base::receive_buffer_size(1 << 20), ignored);
        if (share.reuse_port) net::set_reuse_port(socket_.native_handle());
        socket_.bind(local);
    }
    socket_.non_blocking(true);
}

UdpListener::~UdpListener() {
    stop();
}

void UdpListener::start(bool active) {
    // One byte more than a query may be, so that an oversized one is seen (and counted).
    receive_arena_ = net::attach_buffers(received_, kReceiveStride, proxy::kMaxQuerySize + 1);
    receiver_ = std::make_unique<net::ReceiveBatch>(received_);
    set_active(active);
}

std::string UdpListener::describe() const {
    asio::error_code ec;
    return net::to_string(socket_.local_endpoint(ec)) + " (UDP)";
}

void UdpListener::stop() {
    alive_.end();
    asio::error_code ignored;
    socket_.close(ignored);
    parked_.close();
}

void UdpListener::set_active(bool on) {
    reading_ = on;
    if (on) {
        unpark();
        if (!waiting_ && socket_.is_open()) wait_readable();
    } else if (!waiting_) {
        parked_.park();
    }
    // Else the pending wait ends in read_available(), which parks.
}

void UdpListener::unpark() {
    if (!parked_.parked()) return;
    if (auto back = parked_.unpark(); !back) {
        spdlog::error("cannot read the shared UDP socket again: {}", back.error().message());
        return;
    }
    asio::error_code ignored;
    socket_.non_blocking(true, ignored);
}

void UdpListener::wait_readable() {
    waiting_ = true;
    socket_.async_wait(asio::socket_base::wait_read,
                       [this, alive = alive_.token()](const asio::error_code& ec) {
                           if (!alive || ec == asio::error::operation_aborted) return;
                           read_available();
                       });
}

void UdpListener::read_available() {
    // Encrypted queries and replies made while handling this batch leave together at the end.
    const net::FlushScope scope;
    const bool drained =
        net::drain(socket_.native_handle(), *receiver_, kReadsPerEvent, [this](net::Datagram& d) {
            try {
                on_query(d);
            } catch (const std::exception& e) {
                ++counters_.handler_exceptions;
                spdlog::debug("UDP query handler: {}", e.what());
            }
        });
    if (drained) {
        if (reading_) {
            wait_readable();
        } else {
            waiting_ = false;  // standby: the other workers are woken by the next datagram
            parked_.park();
        }
        return;
    }
    // More is waiting: go on after the other handlers had their turn.
    asio::post(io_, [this, alive = alive_.token()] {
        if (alive) read_available();
    });
}

net::Datagram& UdpListener::next_reply() {
    if (replies_.full()) flush();
    return replies_.next();
}

void UdpListener::on_query(net::Datagram& query) {
    ++counters_.queries_udp;
    const proxy::ClientAddress client{reinterpret_cast<const sockaddr*>(&query.peer),
                                      query.peer_len};
    if (query.truncated) {
        processor_.report_dropped(proxy::ClientTransport::Udp, client);
        return;
    }
    if (free_slots_.empty()) {
        slots_.push_back(std::make_unique<Slot>(*this));
        free_slots_.push_back(slots_.back().get());
    }
    Slot& slot = *free_slots_.back();
    net::Datagram& reply = next_reply();
    std::size_t reply_len = 0;
    const auto step = processor_.prepare(MutableBytes(query.data, kReceiveStride), query.size,
                                         proxy::ClientTransport::Udp, client, slot.prepared,
                                         MutableBytes(reply.data, kReplyCapacity), reply_len);
    switch (step) {
        case proxy::Step::Drop:
            return;
        case proxy::Step::Reply:
            reply.size = reply_len;
            reply.peer = query.peer;
            reply.peer_len = query.peer_len;
            replies_.push();
            request_flush();
            return;
        case proxy::Step::Forward:
            break;
    }
    free_slots_.pop_back();
    slot.peer_len = std::min<socklen_t>(query.peer_len, sizeof(slot.peer));
    std::memcpy(&slot.peer, &query.peer, slot.peer_len);
    slot.storage.assign(query.data, query.data + slot.prepared.edns.size);
    slot.info = &slot.prepared.sent();
    slot.message = slot.storage;
    slot.udp_payload = slot.prepared.edns.advertised_payload;
    slot.prepared.upstream->begin(slot);  // may complete (and free the slot) before returning
}

void UdpListener::on_complete(Slot& slot,
                              dcp::Result<MutableBytes, upstream::ExchangeError> answer) {
    const std::size_t need = std::max(answer ? answer->size() : 0, proxy::kLocalReplySize);
    const proxy::ClientAddress client{reinterpret_cast<const sockaddr*>(&slot.peer), slot.peer_len};
    if (need <= kReplyCapacity) {
        net::Datagram& reply = next_reply();
        reply.size = processor_.finish(slot.prepared, answer, slot.answered_by(),
                                       proxy::ClientTransport::Udp, client,
                                       MutableBytes(reply.data, kReplyCapacity));
        if (alive_.alive()) {
            std::memcpy(&reply.peer, &slot.peer, slot.peer_len);
            reply.peer_len = slot.peer_len;
            replies_.push();
            request_flush();
        }
    } else {
        large_reply_.resize(need);
        net::Datagram reply;
        reply.data = large_reply_.data();
        reply.size = processor_.finish(slot.prepared, answer, slot.answered_by(),
                                       proxy::ClientTransport::Udp, client, large_reply_);
        std::memcpy(&reply.peer, &slot.peer, slot.peer_len);
        reply.peer_len = slot.peer_len;
        std::error_code ignored;
        if (alive_.alive()) {
            net::send_datagrams(parked_.fd(), std::span(&reply, 1), false, ignored);
        }
    }
}

void UdpListener::flush() {
    const auto queued = replies_.queued();
    std::size_t start = 0;
    while (start < queued.size() && alive_.alive()) {
        std::error_code ec;
        start += net::send_datagrams(parked_.fd(), queued.subspan(start), false, ec);
        if (start == queued.size() || net::would_block(ec)) {
            break;  // UDP: a reply that cannot go is lost
        }
        ++start;  // this client's address failed; the others may not
    }
    replies_.clear();
}

}  // namespace dcp::frontend
