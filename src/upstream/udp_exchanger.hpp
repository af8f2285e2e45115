#pragma once
// Encrypted queries over UDP: a few long-lived connected sockets towards the resolver and a table
// of pending queries keyed by client nonce. Nothing here allocates per query: packets are written
// straight into a send queue that leaves in one batched call at the end of the current event
// handler (net::FlushScope), answers are read in batches into per-socket buffers and decrypted in
// place, pending queries are linked into the table and a deadline list by their owners' memory.
// A datagram is accepted only when its nonce names a pending query and it decrypts with that
// query's key and answers that query's question; anything else (forged, stale, duplicated,
// garbled) is counted and dropped without disturbing the query still waiting for its answer.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/bytes.hpp"
#include "common/counters.hpp"
#include "common/intrusive_list.hpp"
#include "common/liveness.hpp"
#include "common/noncopyable.hpp"
#include "crypto/shared_key.hpp"
#include "dns/message.hpp"
#include "dnscrypt/constants.hpp"
#include "net/asio.hpp"
#include "net/datagram_batch.hpp"
#include "net/datagram_queue.hpp"
#include "net/flush_scope.hpp"
#include "upstream/exchange_error.hpp"
#include "upstream/nonce_table.hpp"

namespace dcp::upstream {

// A query waiting for its answer over UDP. Its owner keeps it alive until one of the two
// callbacks has been called (exactly one is, unless the exchanger is stopped first).
class PendingUdpQuery : NonCopyable {
  public:
    virtual ~PendingUdpQuery() = default;

  protected:
    // The decrypted, checked DNS answer: a view into the exchanger's buffer, valid during the
    // call only.
    virtual void on_udp_answer(MutableBytes answer) = 0;
    // Timeout, or Network when the packet could not be sent.
    virtual void on_udp_failure(ExchangeError error) = 0;

  private:
    friend class UdpExchanger;
    dnscrypt::ClientNonceHalf nonce_half_{};
    const crypto::SharedKey* key_ = nullptr;
    const dns::Question* question_ = nullptr;
    std::uint16_t id_ = 0;
    std::chrono::steady_clock::time_point deadline_{};
    // The deadline list: every query gets the same timeout, so sending order is deadline order.
    ListHook<PendingUdpQuery> deadlines_;
};

class UdpExchanger final : public net::Flushable {
  public:
    static constexpr std::chrono::milliseconds kSweepInterval{50};

    UdpExchanger(asio::io_context& io, asio::ip::udp::endpoint resolver, std::size_t sockets,
                 std::size_t max_packet, Counters& counters);
    ~UdpExchanger() override;

    // Opens the sockets and starts reading them. A server that cannot be reached yet is
    // logged; its sockets are opened by the first send_buffer() that finds a route.
    void start();
    void stop();

    // Where to write the next encrypted query (at least max_packet bytes), or an empty span
    // when the send queue is full and the sockets cannot take more now, or the server cannot
    // be reached.
    [[nodiscard]] MutableBytes send_buffer();

    struct Request {
        std::size_t packet_len;                // bytes written into send_buffer()
        dnscrypt::ClientNonceHalf nonce_half;  // as written in the packet; not pending already
        const crypto::SharedKey* key;          // to open the answer with
        std::uint16_t id;                      // the DNS query's ID and question, to match
        const dns::Question* question;
        std::chrono::steady_clock::time_point deadline;
    };

    // Queues the packet just written into send_buffer() and waits for its answer. The outcome
    // reaches `query` later, or before this returns when no FlushScope is open and the send
    // fails at once.
    void submit(PendingUdpQuery& query, const Request& request);

    [[nodiscard]] bool is_pending(const dnscrypt::ClientNonceHalf& nonce) const;
    // Stops waiting for `query`'s answer (no callback follows): true when it was waiting.
    bool cancel(PendingUdpQuery& query);

  private:
    struct Socket;
    asio::error_code open_sockets();  // all of them, or none
    void flush() override;
    void wait_readable(std::size_t index);
    void read_available(std::size_t index);
    void on_datagram(MutableBytes packet);
    void link(PendingUdpQuery& q);
    void unlink(PendingUdpQuery& q);
    void arm_sweeper();
    void sweep();
    static std::uint64_t table_key(const dnscrypt::ClientNonceHalf& nonce) noexcept;

    static constexpr std::size_t kSendQueue = 64;

    asio::io_context& io_;
    asio::ip::udp::endpoint resolver_;
    std::size_t socket_count_;
    std::size_t packet_capacity_;
    Counters& counters_;
    std::vector<std::unique_ptr<Socket>> sockets_;
    std::size_t next_socket_ = 0;
    // One receive batch for all the sockets: a batch is handled before the next is read, so
    // they never hold it at once (a batch each made 4 × 16 pages resident under load).
    std::unique_ptr<std::uint8_t[]> receive_arena_;
    std::vector<net::Datagram> received_;
    std::unique_ptr<net::ReceiveBatch> receiver_;  // over received_, once its buffers exist

    NonceTable<PendingUdpQuery> pending_;
    IntrusiveList<PendingUdpQuery, &PendingUdpQuery::deadlines_> deadlines_;  // oldest first

    // The send queue: packets and the queries they belong to, sent by flush().
    net::DatagramQueue send_;
    std::array<PendingUdpQuery*, kSendQueue> send_owner_{};
    std::array<std::uint64_t, kSendQueue> send_key_{};  // the owner may be gone by the time
    bool send_blocked_ = false;  // a socket said "would block": wait until it is writable

    // Deadlines are enforced by one sweeper, not a kernel timer per query (arming and
    // cancelling one per query rewrote the timerfd every other query). It runs only while
    // queries are pending; a deadline may be overrun by up to kSweepInterval.
    asio::steady_timer sweeper_;
    bool sweeping_ = false;
    Liveness alive_;
};

}  // namespace dcp::upstream
