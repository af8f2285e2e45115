#pragma once
// Plain DNS from local clients over TCP (RFC 7766): many queries per connection, read while
// earlier ones are still being resolved, answered in whatever order they complete. A client that
// half-closes still gets every answer it asked for (6.2.4). Idle connections, queries not sent
// whole in time and answers not read in time close the connection; connections, queries in
// flight and answer bytes queued per connection are bounded, so no client can make memory grow.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>

#include "common/counters.hpp"
#include "common/liveness.hpp"
#include "frontend/listener.hpp"
#include "net/asio.hpp"
#include "net/listen_share.hpp"
#include "net/parked_socket.hpp"
#include "proxy/query_processor.hpp"

namespace dcp::frontend {

inline constexpr std::size_t kOwedAnswerEstimate = 512;

// The first two and the per-worker bound are set by config::validate() from the options (their
// defaults: config/options.hpp, once); the rest are this listener's own.
struct TcpLimits {
    std::size_t max_connections = 0;
    std::chrono::milliseconds idle_timeout{0};
    std::size_t max_queries_in_flight = 128;  // per connection; reading pauses beyond it
    // All connections of one worker together (each query in flight holds a few KiB until its
    // answer is queued): beyond it, every connection of the worker pauses reading. validate()
    // sets it to this worker's share of --max-active-requests: more could only get SERVFAIL.
    std::size_t max_queries_in_flight_per_worker = 0;
    // Answer bytes queued for a client that reads slowly, counting each answer still owed at a
    // typical size (kOwedAnswerEstimate): reading its queries pauses beyond. An owed answer
    // that comes larger than that and finds the queue full (the client still not reading)
    // closes the connection: queued answers never exceed this, or one answer alone.
    std::size_t max_queued_answer_bytes = 64 * 1024;
    // At the connection limit a new connection replaces the one quiet the longest (no answer
    // owed, no whole query sent) if it has been quiet at least this long; else it is refused.
    std::chrono::milliseconds evict_quiet_after{1000};
};

class TcpListener final : public Listener {
  public:
    // Binds and listens at once; throws asio::system_error on failure. `connections` counts the
    // open client connections of every worker (the limit is for the whole process); `share`
    // says how this worker's socket joins the others' (net::listen_share).
    TcpListener(asio::io_context& io, const asio::ip::tcp::endpoint& local,
                proxy::QueryProcessor& processor, Counters& counters, TcpLimits limits,
                std::atomic<std::size_t>& connections, net::ListenShare share = {});
    void start(bool active) override;
    void stop() override;
    void set_active(bool on) override;
    [[nodiscard]] int native_handle() override { return acceptor_.native_handle(); }
    [[nodiscard]] std::string describe() const override;

  private:
    struct Connection;
    void spawn_accept_loop();
    net::awaitable<void> accept_loop();
    net::awaitable<void> serve(std::shared_ptr<Connection> c);
    void dispatch(const std::shared_ptr<Connection>& c, Bytes query);
    net::awaitable<void> handle(std::shared_ptr<Connection> c, std::vector<std::uint8_t> query);
    net::awaitable<void> write_loop(std::shared_ptr<Connection> c);
    [[nodiscard]] Connection* quietest_evictable() const;

    asio::io_context& io_;
    asio::ip::tcp::acceptor acceptor_;
    proxy::QueryProcessor& processor_;
    Counters& counters_;
    TcpLimits limits_;
    std::atomic<std::size_t>& connections_;
    std::list<Connection*> live_;  // this worker's open connections, for eviction
    std::size_t in_flight_ = 0;    // queries in flight over all of them
    Liveness alive_;
    bool accepting_ = false;
    bool loop_running_ = false;
    bool cancelled_ = false;  // the running loop was told to stop accepting
    // A standby worker's duplicate of the shared listening socket, out of its event loop while
    // it does not accept.
    net::ParkedSocket<asio::ip::tcp::acceptor> parked_;
};

}  // namespace dcp::frontend
