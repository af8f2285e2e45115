#pragma once
// Several servers behind one Upstream (one Pool per worker). A query goes to the server the
// strategy picks; when that one has not answered after a usual answer time of the best server
// (hedging, within a budget) or after its own failover delay, or fails, or answers SERVFAIL or
// REFUSED, the next best is asked as well: the first good answer wins, the others are dropped.
// Servers that fail a few times in a row leave the rotation and are probed with back-off until
// they answer again. The deadline of the whole query is --timeout.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/counters.hpp"
#include "crypto/fast_random.hpp"
#include "dns/query.hpp"
#include "net/alarm.hpp"
#include "net/asio.hpp"
#include "upstream/balancer.hpp"
#include "upstream/transport.hpp"
#include "upstream/upstream.hpp"

namespace dcp::upstream {

struct PoolMember {
    Transport* transport = nullptr;
    std::string name;  // for the log
    std::string id;    // the server's identity (ServerSpec::id), the same in every worker
};

// One server's figures, summed over workers (by id) for the statistics line.
struct ServerReport {
    std::string id;
    std::string name;
    bool up = true;
    Micros srtt{0};
    Micros p95{0};
    std::uint64_t queries = 0, answers = 0, failures = 0, hedges = 0, hedges_won = 0;

    ServerReport& operator+=(const ServerReport& o);
};

class Pool final : public Upstream {
  public:
    // `clock`: deadlines, hedge and failover delays, probes' back-off and round trips are
    // measured on it (a ManualSteadyClock in tests).
    Pool(asio::io_context& io, std::vector<PoolMember> members, BalancerSettings settings,
         Counters& counters, const SteadyClock& clock = system_steady_clock());
    ~Pool() override;

    [[nodiscard]] bool ready() const override;
    void begin(ClientQuery& query) override;
    void stop();

    // The certificate fetch's round trip: server `i`'s first latency estimate (once).
    void seed(std::size_t i, Micros rtt);
    [[nodiscard]] const Balancer& balancer() const { return balancer_; }
    [[nodiscard]] std::vector<ServerReport> report() const;

    // For the callbacks of ClientQuery::Try.
    void on_attempt(ClientQuery::Try& t, dcp::Result<MutableBytes, ExchangeError> answer);

  private:
    class Probe;

    [[nodiscard]] bool usable(std::size_t i) const { return members_[i].transport->ready(); }
    void start_attempt(ClientQuery& q, std::size_t server, bool hedge);
    bool try_next(ClientQuery& q);
    void finish(ClientQuery& q, dcp::Result<MutableBytes, ExchangeError> answer,
                const ClientQuery::Try* winner);
    void maybe_release(ClientQuery& q);
    void count_failure(ClientQuery::Try& t);
    void on_action(ClientQuery& q);
    void on_deadline(ClientQuery& q);
    void schedule_after(ClientQuery& q, const ClientQuery::Try& t);
    // Keeps losing tries a little while for their answer (a latency sample), then gives up.
    void schedule_reap(ClientQuery& q);
    void reap(ClientQuery& q);
    [[nodiscard]] std::span<const std::uint16_t> tried(const ClientQuery& q);

    // The two lists and the one timer that serves them and the probes.
    void link_deadline(ClientQuery& q);
    void unlink_deadline(ClientQuery& q);
    void link_action(ClientQuery& q);
    void unlink_action(ClientQuery& q);
    void arm(SteadyClock::time_point at);
    [[nodiscard]] Micros since(SteadyClock::time_point t) const;
    void on_timer();

    void start_probe(std::size_t i);
    void on_probe(std::size_t i, bool answered, Micros rtt);

    std::vector<PoolMember> members_;
    const SteadyClock& clock_;
    Counters& counters_;
    crypto::FastRandom rng_;
    Balancer balancer_;
    std::function<bool(std::size_t)> usable_fn_;
    std::vector<std::unique_ptr<Probe>> probes_;
    std::vector<bool> seeded_;

    IntrusiveList<ClientQuery, &ClientQuery::deadlines_> deadlines_;  // arrival order
    IntrusiveList<ClientQuery, &ClientQuery::actions_> actions_;      // by action_at_
    // One alarm for the deadlines, the next actions and the probes.
    net::Alarm alarm_;
    SteadyClock::time_point armed_at_ = SteadyClock::time_point::max();
    bool stopped_ = false;
    std::array<std::uint16_t, ClientQuery::kMaxAttempts> tried_scratch_{};
};

}  // namespace dcp::upstream
