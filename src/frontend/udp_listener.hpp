#pragma once
// Plain DNS from local clients over UDP, one socket per local address. Queries are read in
// batches; each goes to the resolver in a pooled slot (no allocation per query once the pool
// has grown to the load) and is answered as soon as its answer is ready, in any order. Replies
// made while one event is handled leave together in one batched call (net::FlushScope).

#include <array>
#include <memory>
#include <vector>

#include "common/counters.hpp"
#include "common/liveness.hpp"
#include "frontend/listener.hpp"
#include "net/asio.hpp"
#include "net/datagram_batch.hpp"
#include "net/datagram_queue.hpp"
#include "net/flush_scope.hpp"
#include "net/listen_share.hpp"
#include "net/parked_socket.hpp"
#include "proxy/query_processor.hpp"

namespace dcp::frontend {

class UdpListener final : public Listener, public net::Flushable {
  public:
    // Binds at once; throws asio::system_error (e.g. address in use) so start-up can say so.
    // With several workers, `share` says how this one's socket joins the others (listen_share).
    UdpListener(asio::io_context& io, const asio::ip::udp::endpoint& local,
                proxy::QueryProcessor& processor, Counters& counters, net::ListenShare share = {});
    ~UdpListener() override;

    void start(bool active) override;
    void stop() override;
    // Stopping lets the batch being read finish, so no datagram is left behind that no one was
    // told of.
    void set_active(bool on) override;
    [[nodiscard]] int native_handle() override { return socket_.native_handle(); }
    [[nodiscard]] std::string describe() const override;

  private:
    class Slot;
    static constexpr std::size_t kReceiveBatch = 32;
    static constexpr std::size_t kReplyQueue = 64;
    static constexpr int kReadsPerEvent = 4;  // batches, before the other sockets get a turn

    void wait_readable();
    void read_available();
    void on_query(net::Datagram& query);
    void on_complete(Slot& slot, dcp::Result<MutableBytes, upstream::ExchangeError> answer);
    // The next free reply in the queue (flushing first when it is full).
    net::Datagram& next_reply();
    void flush() override;

    asio::io_context& io_;
    asio::ip::udp::socket socket_;
    proxy::QueryProcessor& processor_;
    Counters& counters_;

    std::unique_ptr<std::uint8_t[]> receive_arena_;
    std::array<net::Datagram, kReceiveBatch> received_{};
    std::unique_ptr<net::ReceiveBatch> receiver_;  // over received_, once its buffers exist
    net::DatagramQueue replies_;
    bool reading_ = false;
    bool waiting_ = false;  // a wait or a read is pending
    // A standby worker's duplicate of the shared socket, out of its event loop while it does not
    // read. Replies to queries still in flight when it stopped reading leave by parked_.fd().
    net::ParkedSocket<asio::ip::udp::socket> parked_;
    void unpark();
    std::vector<std::uint8_t> large_reply_;  // for the rare reply larger than a queue entry

    std::vector<std::unique_ptr<Slot>> slots_;  // grows with the load, never shrinks
    std::vector<Slot*> free_slots_;
    Liveness alive_;
};

}  // namespace dcp::frontend
