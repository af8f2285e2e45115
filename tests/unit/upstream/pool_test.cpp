// The pool with fake transports: which server is asked, when another one is, what the client
// gets, and what each server's health becomes. Time is a ManualSteadyClock moved by the test:
// no real-time window, so a loaded machine cannot reorder events.
#include "upstream/pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

#include "../dns/dns_builder.hpp"
#include "dns/message.hpp"

namespace dcp::upstream {
namespace {

using namespace std::chrono_literals;

class FakeTransport final : public Transport {
  public:
    bool up = true;                // has a certificate
    bool cancellable = true;       // UDP-like; false: TCP-like, it completes by itself
    std::deque<Attempt*> pending;  // begun, not answered
    int begun = 0;
    int cancelled = 0;

    [[nodiscard]] bool ready() const override { return up; }
    void begin(Attempt& a) override {
        ++begun;
        pending.push_back(&a);
    }
    bool cancel(Attempt& a) override {
        if (!cancellable) return false;
        const auto it = std::find(pending.begin(), pending.end(), &a);
        if (it == pending.end()) return false;
        pending.erase(it);
        ++cancelled;
        return true;
    }
    // Answers the oldest (or newest) pending attempt with `rcode`, to its own question.
    void answer(std::uint8_t rcode = 0, bool newest = false) {
        ASSERT_FALSE(pending.empty());
        Attempt* a = newest ? pending.back() : pending.front();
        if (newest) {
            pending.pop_back();
        } else {
            pending.pop_front();
        }
        auto msg =
            test::MsgBuilder()
                .header(a->info->header.id, static_cast<std::uint16_t>(0x8180 | rcode), 1, 0, 0, 0)
                .question("www.example.test", 1)
                .build();
        complete(*a, MutableBytes(msg));
    }
    void fail(ExchangeError e = ExchangeError::Network) {
        ASSERT_FALSE(pending.empty());
        Attempt* a = pending.front();
        pending.pop_front();
        complete(*a, Unexpected(e));
    }
};

class TestQuery final : public ClientQuery {
  public:
    TestQuery() {
        bytes = test::make_query("www.example.test", 1);
        parsed = *dns::parse_query(bytes);
        info = &parsed;
        message = bytes;
    }
    std::vector<std::uint8_t> bytes;
    dns::QueryInfo parsed;
    int completions = 0, releases = 0;
    std::optional<ExchangeError> error;
    std::uint8_t rcode = 0xff;

  protected:
    void complete(dcp::Result<MutableBytes, ExchangeError> answer) override {
        ++completions;
        if (answer) {
            rcode = dns::parse_header(*answer)->rcode();
        } else {
            error = answer.error();
        }
    }
    void release() override { ++releases; }
};

struct Lab {
    explicit Lab(std::size_t n, BalancerSettings s = {}) : transports(n) {
        std::vector<PoolMember> members;
        for (std::size_t i = 0; i < n; ++i) {
            std::string name = "s";  // appended: g++ 12 -O3 warns (-Wrestrict) on "s" + ...
            name += std::to_string(i);
            members.push_back({&transports[i], name, name});
        }
        pool.emplace(io, std::move(members), s, counters, clock);
        // Server 0 the fastest, then 1, then 2...
        for (std::size_t i = 0; i < n; ++i) pool->seed(i, Micros(1000 * (i + 1)));
    }
    // Time passes: whatever the pool set its alarm for on the way happens then, in order.
    void run_for(std::chrono::milliseconds d) {
        clock.advance(d);
        io.restart();
        io.poll();
    }
    ManualSteadyClock clock;
    asio::io_context io;
    Counters counters;
    std::vector<FakeTransport> transports;
    std::optional<Pool> pool;
};

BalancerSettings first_no_hedging() {
    BalancerSettings s;
    s.strategy = *parse_strategy("first");
    s.hedging = false;
    return s;
}

TEST(Pool, AnswerFromTheChosenServer) {
    Lab lab(3, first_no_hedging());
    TestQuery q;
    lab.pool->begin(q);
    EXPECT_EQ(lab.transports[0].begun, 1);
    lab.transports[0].answer();
    EXPECT_EQ(q.completions, 1);
    EXPECT_EQ(q.releases, 1);
    EXPECT_EQ(q.rcode, 0);
    EXPECT_EQ(lab.transports[1].begun + lab.transports[2].begun, 0);
    EXPECT_EQ(lab.pool->balancer().server(0).answers, 1U);
}

TEST(Pool, ErrorGoesToTheNextServerAtOnce) {
    Lab lab(3, first_no_hedging());
    TestQuery q;
    lab.pool->begin(q);
    lab.transports[0].fail();
    EXPECT_EQ(q.completions, 0);
    EXPECT_EQ(lab.transports[1].begun, 1);  // the next best
    lab.transports[1].answer();
    EXPECT_EQ(q.completions, 1);
    EXPECT_EQ(q.releases, 1);
    EXPECT_EQ(q.rcode, 0);
    EXPECT_EQ(lab.counters.upstream_failovers, 1U);
    EXPECT_EQ(lab.pool->balancer().server(0).failures, 1U);
}

TEST(Pool, ServfailAndRefusedCountAgainstTheServer) {
    Lab lab(3, first_no_hedging());
    TestQuery q;
    lab.pool->begin(q);
    lab.transports[0].answer(2);  // SERVFAIL
    lab.transports[1].answer(5);  // REFUSED
    lab.transports[2].answer(2);  // SERVFAIL: nobody left, the client gets it as it is
    EXPECT_EQ(q.completions, 1);
    EXPECT_EQ(q.rcode, 2);
    EXPECT_EQ(lab.counters.upstream_failovers, 2U);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(lab.pool->balancer().server(i).failures, 1U);
}

TEST(Pool, EveryServerFailingEndsWithTheError) {
    Lab lab(2, first_no_hedging());
    TestQuery q;
    lab.pool->begin(q);
    lab.transports[0].fail();
    lab.transports[1].fail(ExchangeError::BadAnswer);
    EXPECT_EQ(q.completions, 1);
    EXPECT_EQ(q.error, ExchangeError::BadAnswer);
    EXPECT_EQ(q.releases, 1);
}

TEST(Pool, SilenceFailsOverAfterTheFailoverDelay) {
    auto s = first_no_hedging();
    s.failover_floor = 50ms;
    Lab lab(2, s);
    TestQuery q;
    lab.pool->begin(q);
    lab.run_for(20ms);
    EXPECT_EQ(lab.transports[1].begun, 0);  // not yet
    lab.run_for(150ms);
    EXPECT_EQ(lab.transports[1].begun, 1);
    EXPECT_EQ(lab.counters.upstream_failovers, 1U);
    EXPECT_EQ(lab.counters.upstream_hedges, 0U);
    // The first server's late answer still wins if it comes first; here the second answers.
    lab.transports[1].answer();
    EXPECT_EQ(q.completions, 1);
    EXPECT_EQ(q.releases, 0);    // server 0 still owes an answer
    lab.transports[0].answer();  // too late: a latency sample, no second completion
    EXPECT_EQ(q.completions, 1);
    EXPECT_EQ(q.releases, 1);
    EXPECT_EQ(lab.pool->balancer().server(0).answers, 1U);
}

TEST(Pool, HedgeWithinTheBudgetAndTheFirstAnswerWins) {
    BalancerSettings s;
    s.strategy = *parse_strategy("first");
    s.hedge_floor = 5ms;
    s.hedge_burst = 1;
    s.hedge_ratio = 0;  // exactly one hedge allowed
    s.failover_floor = 200ms;
    Lab lab(3, s);
    TestQuery q1, q2;
    lab.pool->begin(q1);
    lab.pool->begin(q2);
    lab.run_for(60ms);
    // One hedge (to the next best); the other query waits for the failover delay.
    EXPECT_EQ(lab.transports[0].begun, 2);
    EXPECT_EQ(lab.transports[1].begun, 1);
    EXPECT_EQ(lab.counters.upstream_hedges, 1U);
    lab.transports[1].answer();
    EXPECT_EQ(q1.completions + q2.completions, 1);
    EXPECT_EQ(lab.counters.upstream_hedges_won, 1U);
    EXPECT_EQ(q1.completions, 1);  // q1's hedge fired first and took the one token
    // q2, not hedged, is answered by the first server.
    lab.transports[0].answer(0, true);
    EXPECT_EQ(q2.completions, 1);
    EXPECT_EQ(q2.releases, 1);
    // q1's loser is taken back after its failover delay and counted as a failure.
    lab.run_for(400ms);
    EXPECT_EQ(q1.releases + q2.releases, 2);
    EXPECT_EQ(lab.transports[0].cancelled, 1);
    EXPECT_EQ(lab.pool->balancer().server(0).failures, 1U);
}

TEST(Pool, DeadlineAnswersTimeoutAndTakesEveryTryBack) {
    auto s = first_no_hedging();
    s.timeout = 400ms;
    s.failover_floor = 40ms;
    Lab lab(2, s);
    TestQuery q;
    lab.pool->begin(q);
    lab.run_for(200ms);
    EXPECT_EQ(lab.transports[1].begun, 1);
    EXPECT_EQ(q.completions, 0);
    lab.run_for(400ms);
    EXPECT_EQ(q.completions, 1);
    EXPECT_EQ(q.error, ExchangeError::Timeout);
    EXPECT_EQ(q.releases, 1);
    EXPECT_TRUE(lab.transports[0].pending.empty());
    EXPECT_TRUE(lab.transports[1].pending.empty());
}

TEST(Pool, UncancellableTriesHoldTheQueryUntilTheyEnd) {
    auto s = first_no_hedging();
    s.timeout = 100ms;
    Lab lab(1, s);
    lab.transports[0].cancellable = false;  // a TCP exchange in progress
    TestQuery q;
    lab.pool->begin(q);
    lab.run_for(300ms);
    EXPECT_EQ(q.completions, 1);
    EXPECT_EQ(q.error, ExchangeError::Timeout);
    EXPECT_EQ(q.releases, 0);
    lab.transports[0].fail(ExchangeError::Timeout);
    EXPECT_EQ(q.completions, 1);
    EXPECT_EQ(q.releases, 1);
}

TEST(Pool, DownAfterThreeFailuresProbedAndBack) {
    auto s = first_no_hedging();
    s.estimator = false;  // server 0 stays first in the ranking whatever its failures
    s.first_probe = 50ms;
    Lab lab(2, s);
    for (int i = 0; i < 3; ++i) {
        TestQuery q;
        lab.pool->begin(q);
        lab.transports[0].fail();
        lab.transports[1].answer();
        EXPECT_EQ(q.releases, 1);
    }
    EXPECT_EQ(lab.pool->balancer().server(0).health, Health::Down);
    TestQuery q;
    lab.pool->begin(q);
    EXPECT_EQ(lab.transports[0].begun, 3);  // skipped while down
    lab.transports[1].answer();
    lab.run_for(150ms);
    ASSERT_EQ(lab.transports[0].begun, 4);                                  // the probe
    EXPECT_EQ(lab.transports[0].pending.front()->info->question.qtype, 2);  // ". NS"
    lab.transports[0].fail();  // the probe fails: the next waits twice as long (100 ms)
    lab.run_for(50ms);
    EXPECT_EQ(lab.transports[0].begun, 4);
    lab.run_for(150ms);
    ASSERT_EQ(lab.transports[0].begun, 5);
    lab.transports[0].answer(5);  // any authenticated answer, even REFUSED
    EXPECT_EQ(lab.pool->balancer().server(0).health, Health::Up);
    TestQuery again;
    lab.pool->begin(again);
    EXPECT_EQ(lab.transports[0].begun, 6);
    lab.transports[0].answer();
    EXPECT_EQ(again.rcode, 0);
}

TEST(Pool, OneServerHasNoHealthToTrack) {
    auto s = first_no_hedging();
    s.first_probe = 10ms;
    Lab lab(1, s);
    for (int i = 0; i < 5; ++i) {
        TestQuery q;
        lab.pool->begin(q);
        lab.transports[0].answer(2);  // SERVFAIL: relayed as it is, nobody else to ask
        EXPECT_EQ(q.rcode, 2);
    }
    EXPECT_EQ(lab.pool->balancer().server(0).failures, 5U);
    EXPECT_EQ(lab.pool->balancer().server(0).health, Health::Up);
    lab.run_for(50ms);
    EXPECT_EQ(lab.transports[0].begun, 5);  // no probe
}

TEST(Pool, ReadyWhenAnyServerIs) {
    Lab lab(2, first_no_hedging());
    EXPECT_TRUE(lab.pool->ready());
    lab.transports[0].up = false;
    EXPECT_TRUE(lab.pool->ready());
    TestQuery q;
    lab.pool->begin(q);
    EXPECT_EQ(lab.transports[1].begun, 1);  // the one with a certificate
    lab.transports[1].answer();
    lab.transports[1].up = false;
    EXPECT_FALSE(lab.pool->ready());
    TestQuery none;
    lab.pool->begin(none);  // raced with an expiry: an error at once, never a hang
    EXPECT_EQ(none.completions, 1);
    EXPECT_EQ(none.releases, 1);
    EXPECT_EQ(none.error, ExchangeError::Network);
}

}  // namespace
}  // namespace dcp::upstream
