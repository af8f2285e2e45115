#include "upstream/balancer.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>

namespace dcp::upstream {
namespace {

using namespace std::chrono_literals;

// Random numbers from a script, so each choice is known in advance.
struct Script {
    std::deque<std::uint32_t> values;
    std::vector<std::uint32_t> bounds;  // what each call asked for
    RandomFn fn() {
        return [this](std::uint32_t bound) {
            bounds.push_back(bound);
            EXPECT_FALSE(values.empty()) << "more random numbers asked for than scripted";
            const auto v = values.empty() ? 0 : values.front();
            if (!values.empty()) values.pop_front();
            EXPECT_LT(v, bound);
            return v;
        };
    }
};

const auto kAll = [](std::size_t) { return true; };

// Servers 0..n-1 seeded with the given round trips (ms).
Balancer make(BalancerSettings s, Script& script, std::vector<int> rtts_ms) {
    Balancer b(s, rtts_ms.size(), script.fn());
    for (std::size_t i = 0; i < rtts_ms.size(); ++i) b.seed(i, Micros(rtts_ms[i] * 1000));
    return b;
}

TEST(LatencyEstimate, BucketsAreQuarterOctaves) {
    EXPECT_EQ(LatencyEstimate::bucket_of(Micros(0)), 0U);
    EXPECT_EQ(LatencyEstimate::bucket_of(Micros(31)), 0U);
    EXPECT_EQ(LatencyEstimate::bucket_of(Micros(32)), 0U);
    EXPECT_EQ(LatencyEstimate::bucket_of(Micros(40)), 1U);  // 32 * 1.25
    EXPECT_EQ(LatencyEstimate::bucket_of(Micros(64)), 4U);  // one octave up
    EXPECT_EQ(LatencyEstimate::bucket_of(Micros(1000)), 19U);
    EXPECT_EQ(LatencyEstimate::bucket_of(Micros(100'000'000)), LatencyEstimate::kBuckets - 1);
    for (std::size_t b = 0; b + 1 < LatencyEstimate::kBuckets; ++b) {
        // Every bucket's upper bound is the next bucket's first value.
        EXPECT_EQ(LatencyEstimate::bucket_of(LatencyEstimate::bucket_upper(b)), b + 1) << b;
        EXPECT_EQ(LatencyEstimate::bucket_of(LatencyEstimate::bucket_upper(b) - Micros(1)), b);
    }
}

TEST(LatencyEstimate, Rfc6298Smoothing) {
    LatencyEstimate e(Micros(1000));
    EXPECT_EQ(e.srtt(), Micros(1000));
    EXPECT_EQ(e.rttvar(), Micros(500));
    EXPECT_EQ(e.p95(), Micros(3000));  // srtt + 4 rttvar until there are samples enough
    e.add(Micros(2000));
    EXPECT_EQ(e.rttvar(), Micros(500 + (1000 - 500) / 4));
    EXPECT_EQ(e.srtt(), Micros(1000 + 1000 / 8));
}

TEST(LatencyEstimate, P95SeesASlowFifth) {
    LatencyEstimate e(Micros(500));
    for (int i = 0; i < 200; ++i) e.add(Micros(i % 5 == 0 ? 300'000 : 500));
    // A fifth of the answers take 300 ms: that is the 95th percentile (within its bucket).
    EXPECT_GE(e.p95(), Micros(300'000));
    EXPECT_LT(e.p95(), Micros(300'000 * 5 / 4));
    LatencyEstimate fast(Micros(500));
    for (int i = 0; i < 200; ++i) fast.add(Micros(i % 50 == 0 ? 300'000 : 500));  // 2 %
    EXPECT_LE(fast.p95(), Micros(640));
    EXPECT_GE(fast.p95(), Micros(500));
}

TEST(LatencyEstimate, ForgetsTheOldPast) {
    LatencyEstimate e(Micros(500));
    for (int i = 0; i < 300; ++i) e.add(Micros(100'000));
    for (int i = 0; i < 2000; ++i) e.add(Micros(500));
    EXPECT_LE(e.p95(), Micros(640));
    EXPECT_LT(e.srtt(), Micros(600));
}

TEST(Strategy, ParsesDnscryptProxy2Names) {
    EXPECT_EQ(parse_strategy("wp2"), (Strategy{Strategy::Kind::Wp2, 0}));
    EXPECT_EQ(parse_strategy("p2"), (Strategy{Strategy::Kind::P2, 0}));
    EXPECT_EQ(parse_strategy("ph"), (Strategy{Strategy::Kind::Ph, 0}));
    EXPECT_EQ(parse_strategy("p7"), (Strategy{Strategy::Kind::PN, 7}));
    EXPECT_EQ(parse_strategy("first"), (Strategy{Strategy::Kind::First, 0}));
    EXPECT_EQ(parse_strategy("random"), (Strategy{Strategy::Kind::Random, 0}));
    for (const char* bad : {"", "p", "p0", "p-1", "px", "p3x", "fastest", "WP2"}) {
        EXPECT_FALSE(parse_strategy(bad)) << bad;
    }
    for (const char* s : {"wp2", "p2", "ph", "p12", "first", "random"}) {
        EXPECT_EQ(to_string(*parse_strategy(s)), s);
    }
}

TEST(Balancer, RanksBySeededRoundTrip) {
    Script r;
    auto b = make({}, r, {30, 10, 20});
    EXPECT_EQ(b.ranking(), (std::vector<std::uint16_t>{1, 2, 0}));
}

TEST(Balancer, FirstTakesTheFastest) {
    Script r;
    BalancerSettings s;
    s.strategy = *parse_strategy("first");
    auto b = make(s, r, {30, 10, 20});
    EXPECT_EQ(b.choose(kAll), 1U);
    // Not usable (no certificate): the next fastest.
    EXPECT_EQ(b.choose([](std::size_t i) { return i != 1; }), 2U);
    EXPECT_FALSE(b.choose([](std::size_t) { return false; }));
    EXPECT_TRUE(r.bounds.empty());
}

TEST(Balancer, PnDrawsAmongTheFastestN) {
    Script r;
    r.values = {1, 0, 2, 1};
    BalancerSettings s;
    s.strategy = *parse_strategy("p2");
    auto b = make(s, r, {40, 10, 30, 20});  // ranking 1, 3, 2, 0
    EXPECT_EQ(b.choose(kAll), 3U);
    s.strategy = *parse_strategy("ph");  // half of 4: 2
    auto h = make(s, r, {40, 10, 30, 20});
    EXPECT_EQ(h.choose(kAll), 1U);
    s.strategy = *parse_strategy("p3");
    auto p3 = make(s, r, {40, 10, 30, 20});
    EXPECT_EQ(p3.choose(kAll), 2U);
    s.strategy = *parse_strategy("random");
    auto rnd = make(s, r, {40, 10, 30, 20});
    EXPECT_EQ(rnd.choose(kAll), 3U);
    EXPECT_EQ(r.bounds, (std::vector<std::uint32_t>{2, 2, 3, 4}));
}

TEST(Balancer, PhKeepsAtLeastTwo) {
    Script r;
    r.values = {1};
    BalancerSettings s;
    s.strategy = *parse_strategy("ph");
    auto b = make(s, r, {10, 20, 30});  // half of 3 is 1; at least 2
    EXPECT_EQ(b.choose(kAll), 1U);
    EXPECT_EQ(r.bounds, std::vector<std::uint32_t>{2});
}

TEST(Balancer, Wp2TakesTheBetterOfTwoDistinct) {
    Script r;
    // Candidates (by ranking position): 2 and then 0 of the remaining 2 -> positions 2, 0.
    r.values = {2, 0, 0, 0};
    auto b = make({}, r, {10, 20, 30});  // ranking 0, 1, 2
    EXPECT_EQ(b.choose(kAll), 0U);       // 30 ms against 10 ms
    // Positions 0 and (0 -> skips 0) 1: 10 ms against 20 ms.
    EXPECT_EQ(b.choose(kAll), 0U);
    EXPECT_EQ(r.bounds, (std::vector<std::uint32_t>{3, 2, 3, 2}));
}

TEST(Balancer, Wp2WeighsFailures) {
    Script r;
    r.values = {0, 0};
    auto b = make({}, r, {10, 12});
    const auto now = SteadyTime{} + 1h;
    b.on_failure(0, now);  // one failure in ten, recently: worse than 20 % slower
    b.rerank(true);
    EXPECT_EQ(b.choose(kAll), 1U);
}

TEST(Balancer, ServerGoesDownAfterFailuresInARowAndComesBack) {
    Script r;
    BalancerSettings s;
    s.strategy = *parse_strategy("first");
    auto b = make(s, r, {10, 20});
    const auto now = SteadyTime{} + 1h;
    EXPECT_FALSE(b.on_failure(0, now));
    EXPECT_FALSE(b.on_failure(0, now));
    b.on_answer(0, 10ms);  // an answer in between: the count starts again
    EXPECT_FALSE(b.on_failure(0, now));
    EXPECT_FALSE(b.on_failure(0, now));
    EXPECT_TRUE(b.on_failure(0, now));
    EXPECT_EQ(b.server(0).health, Health::Down);
    EXPECT_EQ(b.server(0).next_probe, now + s.first_probe);
    EXPECT_EQ(b.choose(kAll), 1U);  // skipped while down
    b.on_probe_failure(0, now);
    EXPECT_EQ(b.server(0).next_probe, now + 2 * s.first_probe);
    for (int i = 0; i < 10; ++i) b.on_probe_failure(0, now);
    EXPECT_EQ(b.server(0).next_probe, now + s.max_probe_interval);  // back-off capped
    // Every server down: one of them is still better than no answer.
    for (int i = 0; i < 3; ++i) b.on_failure(1, now);
    EXPECT_EQ(b.server(1).health, Health::Down);
    EXPECT_TRUE(b.choose(kAll).has_value());
    b.on_answer(0, 10ms);  // the probe answered
    EXPECT_EQ(b.server(0).health, Health::Up);
    EXPECT_EQ(b.choose(kAll), 0U);
}

TEST(Balancer, NextSkipsWhatWasTriedAndPrefersUp) {
    Script r;
    auto b = make({}, r, {10, 20, 30});
    const std::uint16_t tried0[] = {0};
    EXPECT_EQ(b.next(kAll, tried0), 1U);
    const std::uint16_t tried01[] = {0, 1};
    EXPECT_EQ(b.next(kAll, tried01), 2U);
    const std::uint16_t all[] = {0, 1, 2};
    EXPECT_FALSE(b.next(kAll, all));
    const auto now = SteadyTime{} + 1h;
    for (int i = 0; i < 3; ++i) b.on_failure(1, now);
    EXPECT_EQ(b.next(kAll, tried0), 2U);  // 1 is down
    const std::uint16_t tried02[] = {0, 2};
    EXPECT_EQ(b.next(kAll, tried02), 1U);  // down, but the only one left
}

TEST(Balancer, HedgeDelayFollowsTheBestServersP95WithAFloor) {
    Script r;
    BalancerSettings s;
    s.hedge_floor = Micros(1000);
    auto b = make(s, r, {1, 1});
    // Server 0 slow one time in five, server 1 always 2 ms.
    for (int i = 0; i < 300; ++i) {
        b.on_answer(0, i % 5 == 0 ? 300ms : Micros(2000));
        b.on_answer(1, Micros(2000));
    }
    b.rerank(true);
    EXPECT_GE(b.server(0).latency.p95(), 300ms);
    // Asking server 0: another is asked after the best server's p95, not server 0's own.
    EXPECT_LE(b.hedge_delay(0), Micros(2560));
    EXPECT_GE(b.hedge_delay(0), Micros(2000));
    EXPECT_EQ(b.hedge_delay(1), b.hedge_delay(0));
    // A failover waits four times the server's own p95, within a third of the timeout.
    EXPECT_EQ(b.failover_delay(0), s.timeout / 3);
    EXPECT_EQ(b.failover_delay(1), s.failover_floor);
    // Loopback-fast servers: the floor.
    auto fast = make(s, r, {0, 0});
    for (int i = 0; i < 100; ++i) fast.on_answer(0, Micros(80));
    fast.rerank(true);
    EXPECT_EQ(fast.hedge_delay(0), Micros(1000));
}

TEST(Balancer, HedgeBudgetIsAShareOfQueries) {
    Script r;
    BalancerSettings s;
    s.hedge_ratio = 0.1;
    s.hedge_burst = 2;
    auto b = make(s, r, {1, 1});
    EXPECT_TRUE(b.take_hedge_token());  // the burst
    EXPECT_TRUE(b.take_hedge_token());
    EXPECT_FALSE(b.take_hedge_token());
    int granted = 0;
    for (int i = 0; i < 1000; ++i) {
        b.on_client_query();
        if (b.take_hedge_token()) ++granted;
    }
    EXPECT_GE(granted, 99);
    EXPECT_LE(granted, 100);
}

TEST(Balancer, WithoutTheEstimatorTheStartRankingStays) {
    Script r;
    BalancerSettings s;
    s.strategy = *parse_strategy("first");
    s.estimator = false;
    auto b = make(s, r, {10, 20});
    for (int i = 0; i < 500; ++i) b.on_answer(0, 200ms);  // 0 became slow
    EXPECT_EQ(b.choose(kAll), 0U);
    s.estimator = true;
    auto e = make(s, r, {10, 20});
    for (int i = 0; i < 500; ++i) e.on_answer(0, 200ms);
    EXPECT_EQ(e.choose(kAll), 1U);
}

}  // namespace
}  // namespace dcp::upstream
