#pragma once
// One event loop and everything it drives: its listeners (SO_REUSEPORT or shared descriptors,
// see net::listen_share), its upstream transports, pool and pending queries, its counters.
// Workers share nothing on the query path but immutable certificate sessions, the cache and
// two atomic limits. Only the worker's own thread touches what it owns; others post to io().

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/cache.hpp"
#include "common/clock.hpp"
#include "common/counters.hpp"
#include "common/noncopyable.hpp"
#include "config/config.hpp"
#include "crypto/x25519.hpp"
#include "frontend/tcp_listener.hpp"
#include "frontend/udp_listener.hpp"
#include "net/asio.hpp"
#include "proxy/query_processor.hpp"
#include "upstream/factory.hpp"
#include "upstream/plain_transport.hpp"
#include "upstream/pool.hpp"

namespace dcp::app {

// Limits that hold for the whole process, whichever worker a query or connection lands on.
struct SharedLimits {
    std::atomic<std::size_t> active_queries{0};
    std::atomic<std::size_t> tcp_connections{0};
};

class Worker : NonCopyable {
  public:
    // Binds its listeners (throws std::runtime_error naming the address when it cannot).
    // `first`: worker 0, whose sockets the others share or join; null for worker 0 itself.
    Worker(const config::Settings& settings, const crypto::KeyPair& keys, const Clock& clock,
           SharedLimits& limits, unsigned index, Worker* first,
           const std::shared_ptr<asio::ssl::context>& tls, cache::Cache* cache);

    // `lead`: worker 0, whose transports do the server-wide work (certificates) and share it.
    // `reading` false: a standby worker (spill-over), its listeners ready but idle.
    void start(bool lead, bool reading);
    // Runs the loop on the calling thread until stop(); an internal error that escapes a
    // handler stops the whole process (SIGTERM) rather than leave a worker dead.
    void run();
    // On the worker's own thread: closes its sockets and ends its loop.
    void stop();
    // On the worker's own thread: a standby worker starts or stops reading the shared sockets.
    void set_reading(bool on);
    // New rules, on the worker's own thread (or before it runs).
    void set_rules(const std::shared_ptr<const rules::RuleSet>& rules);

    [[nodiscard]] asio::io_context& io() { return io_; }
    [[nodiscard]] const Counters& counters() const { return counters_; }
    [[nodiscard]] std::vector<upstream::ServerReport> server_report() const {
        return pool_.report();
    }

    // Its transport of the server whose id (upstream::ServerSpec::id) is `id`: one per server,
    // whatever the protocol, in every worker.
    [[nodiscard]] upstream::ServerTransport& server(const std::string& id) {
        return *servers_by_id_.at(id);
    }
    [[nodiscard]] const std::vector<std::unique_ptr<upstream::ServerTransport>>& servers() const {
        return servers_;
    }

    // For the start-up banner.
    [[nodiscard]] const upstream::BalancerSettings& balancer_settings() const {
        return pool_.balancer().settings();
    }
    void log_listening() const;

  private:
    upstream::Pool& forward_pool(const std::vector<rules::ForwardServer>& servers);
    std::vector<upstream::PoolMember> make_members(const config::Settings& settings,
                                                   const upstream::WorkerContext& context);
    template <class F>
    static void bind(const asio::ip::udp::endpoint& ep, const char* what, F&& make);

    // One thread runs this loop, and only it touches the worker's sockets and timers (other
    // threads post to it): the reactor's per-descriptor locking is left out, the scheduler's
    // kept for those posts. ~600 instructions per query of mutex calls (bench/README.md).
    asio::io_context io_{ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    // A standby worker may have nothing pending (no socket read, TCP-only upstream): its loop
    // must still run, for the sessions and the reading turns posted to it.
    asio::executor_work_guard<asio::io_context::executor_type> keep_running_{io_.get_executor()};
    Counters counters_;
    upstream::BalancerSettings balancer_settings_;
    std::chrono::milliseconds timeout_;
    std::vector<std::unique_ptr<upstream::PlainTransport>> plain_;  // forwarding rules' servers
    std::map<std::string, std::unique_ptr<upstream::Pool>> forward_pools_;
    // One per server, in the order of config::Settings::servers.
    std::vector<std::unique_ptr<upstream::ServerTransport>> servers_;
    std::unordered_map<std::string, upstream::ServerTransport*> servers_by_id_;
    upstream::Pool pool_;  // its members: servers_, in that order
    proxy::QueryProcessor processor_;
    // For each local address, UDP then TCP: the same position in every worker's list.
    std::vector<std::unique_ptr<frontend::Listener>> listeners_;
};

}  // namespace dcp::app
