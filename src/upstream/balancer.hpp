#pragma once
// Choosing among several servers (pure: no I/O, time and randomness injected, unit-tested).
// Per server: a latency estimate (smoothed RTT and deviation as in RFC 6298, and a decaying
// log-scale histogram for the 95th percentile), a recent failure rate, and a health state (down
// after a few failures in a row, probed with back-off, up again on an answer). The strategies
// are dnscrypt-proxy 2's lb_strategy values with its meaning; the hedging budget bounds the
// extra queries hedging may send. One Balancer per worker: no locks.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dcp::upstream {

using Micros = std::chrono::microseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

// Round-trip times of one server.
class LatencyEstimate {
  public:
    // Buckets a quarter of an octave wide from 32 µs up (the last one holds everything above
    // ~ 32 µs * 2^16 = 2 s).
    static constexpr std::size_t kBuckets = 64;
    // Counts are halved every this many samples: the percentile follows the last few hundred.
    static constexpr std::uint32_t kDecayEvery = 256;

    // Before any answer: the certificate fetch's round trip, or a guess.
    explicit LatencyEstimate(Micros seed = Micros(50'000)) { reseed(seed); }
    void reseed(Micros rtt);
    void add(Micros rtt);

    [[nodiscard]] Micros srtt() const { return Micros(srtt_); }
    [[nodiscard]] Micros rttvar() const { return Micros(rttvar_); }
    // The 95th percentile of recent samples; srtt + 4 rttvar until there are enough.
    [[nodiscard]] Micros p95() const;
    [[nodiscard]] std::uint64_t samples() const { return samples_; }

    [[nodiscard]] static std::size_t bucket_of(Micros rtt);
    [[nodiscard]] static Micros bucket_upper(std::size_t bucket);

  private:
    void recompute_p95();

    std::int64_t srtt_ = 0;
    std::int64_t rttvar_ = 0;
    std::array<std::uint32_t, kBuckets> histogram_{};
    std::uint32_t in_histogram_ = 0;
    std::uint32_t since_decay_ = 0;
    std::uint64_t samples_ = 0;
    std::int64_t p95_cache_ = 0;
    std::uint32_t since_p95_ = 0;
};

// dnscrypt-proxy 2's lb_strategy.
struct Strategy {
    enum class Kind : std::uint8_t { Wp2, P2, Ph, PN, First, Random };
    Kind kind = Kind::Wp2;
    std::uint32_t n = 0;  // for PN

    [[nodiscard]] bool operator==(const Strategy&) const = default;
};
// "wp2", "p2", "ph", "p<n>" (n >= 1), "first", "random"; nullopt when it is none of them.
[[nodiscard]] std::optional<Strategy> parse_strategy(std::string_view text);
[[nodiscard]] std::string to_string(Strategy s);

struct BalancerSettings {
    Strategy strategy;
    // lb_estimator: keep re-ranking servers by measured latency. Off: the ranking made from the
    // certificate fetches at start stays.
    bool estimator = true;
    bool hedging = true;
    // Hedges allowed, as a share of client queries over the recent past (a token bucket).
    double hedge_ratio = 0.10;
    double hedge_burst = 10;
    // No hedge earlier than this after the first query, whatever the percentiles say.
    Micros hedge_floor{1'000};
    // A server that has not answered within its failover delay is given up for this query.
    Micros failover_floor{100'000};
    // The whole budget of a client query (--timeout); failover stays within a third of it.
    Micros timeout{3'000'000};
    // Failures in a row that take a server out of rotation.
    std::uint32_t failures_to_down = 3;
    std::chrono::milliseconds first_probe{500};
    std::chrono::milliseconds max_probe_interval{8'000};
};

enum class Health : std::uint8_t { Up, Down };

struct ServerState {
    LatencyEstimate latency;
    double failure_rate = 0;  // EWMA of failures (1) and answers (0)
    std::uint32_t failures_in_a_row = 0;
    Health health = Health::Up;
    SteadyTime next_probe{};
    std::chrono::milliseconds probe_interval{0};
    // For the statistics line.
    std::uint64_t queries = 0, answers = 0, failures = 0, hedges = 0, hedges_won = 0;
};

// Uniform in [0, bound); bound > 0.
using RandomFn = std::function<std::uint32_t(std::uint32_t bound)>;

class Balancer {
  public:
    Balancer(BalancerSettings settings, std::size_t servers, RandomFn random);

    [[nodiscard]] const BalancerSettings& settings() const { return settings_; }
    [[nodiscard]] std::size_t size() const { return servers_.size(); }
    [[nodiscard]] const ServerState& server(std::size_t i) const { return servers_[i]; }
    [[nodiscard]] ServerState& server(std::size_t i) { return servers_[i]; }

    // The certificate fetch's round trip: the first latency estimate.
    void seed(std::size_t i, Micros rtt);
    // An authenticated answer after `rtt` (false from a failing server: see on_failure).
    void on_answer(std::size_t i, Micros rtt);
    // A timeout, an error, or a SERVFAIL/REFUSED answer. Returns true when this takes the server
    // out of rotation (its first probe is then due at `now` + first_probe).
    bool on_failure(std::size_t i, SteadyTime now);
    // The background probe of a down server answered after `rtt`: back in rotation, with its
    // estimates started again from that answer.
    void on_recovered(std::size_t i, Micros rtt);
    // The background probe of a down server failed: the next one waits twice as long.
    void on_probe_failure(std::size_t i, SteadyTime now);

    // The server for a new query among those `usable` says can take one (a certificate, say),
    // preferring servers that are up; nullopt when none is usable.
    [[nodiscard]] std::optional<std::size_t> choose(const std::function<bool(std::size_t)>& usable);
    // The best server not in `tried` (for a failover or a hedge), preferring those up.
    [[nodiscard]] std::optional<std::size_t> next(const std::function<bool(std::size_t)>& usable,
                                                  std::span<const std::uint16_t> tried) const;

    // When to ask another server while the one asked (`i`) has not answered.
    [[nodiscard]] Micros hedge_delay(std::size_t i) const;
    [[nodiscard]] Micros failover_delay(std::size_t i) const;

    // Hedging budget: every client query adds hedge_ratio of a token; a hedge takes one.
    void on_client_query() {
        tokens_ = std::min(settings_.hedge_burst, tokens_ + settings_.hedge_ratio);
    }
    [[nodiscard]] bool take_hedge_token() {
        if (tokens_ < 1) return false;
        tokens_ -= 1;
        return true;
    }

    // Lower is better: smoothed RTT, penalised by the recent failure rate (wp2's weight).
    [[nodiscard]] double score(std::size_t i) const;
    // Servers from best to worst as last ranked.
    [[nodiscard]] const std::vector<std::uint16_t>& ranking() const { return ranking_; }
    // Refreshes the best p95 and, when `resort`, ranks the servers by score again (with
    // lb_estimator off, only the start-up seeds do).
    void rerank(bool resort);

  private:
    BalancerSettings settings_;
    std::vector<ServerState> servers_;
    std::vector<std::uint16_t> ranking_;
    RandomFn random_;
    double tokens_;
    std::uint32_t since_rerank_ = 0;
    std::uint32_t since_explore_ = 0;
    Micros best_p95_{0};  // the lowest p95 among servers up, as of the last rerank
    std::vector<std::uint16_t> scratch_;
};

}  // namespace dcp::upstream
