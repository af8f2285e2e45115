// net::Alarm on both kinds of clock.
#include "net/alarm.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace dcp::net {
namespace {

using namespace std::chrono_literals;

TEST(Alarm, OnAManualClockItFiresWhenTimeIsMovedPastItsTime) {
    asio::io_context io;
    ManualSteadyClock clock;
    std::vector<int> fired;
    Alarm a(io, clock, [&] { fired.push_back(1); });
    Alarm b(io, clock, [&] { fired.push_back(2); });
    a.at(clock.now() + 30ms);
    b.at(clock.now() + 10ms);
    clock.advance(5ms);
    EXPECT_TRUE(fired.empty());
    clock.advance(100ms);
    EXPECT_EQ(fired, (std::vector<int>{2, 1}));  // in the order of their times
    clock.advance(1h);
    EXPECT_EQ(fired.size(), 2U);  // once each
}

TEST(Alarm, SettingATimeAgainReplacesItAndCancelForgetsIt) {
    asio::io_context io;
    ManualSteadyClock clock;
    int fired = 0;
    SteadyClock::time_point seen{};
    Alarm a(io, clock, [&] {
        ++fired;
        seen = clock.now();
    });
    const auto start = clock.now();
    a.at(start + 10ms);
    a.at(start + 50ms);
    clock.advance(20ms);
    EXPECT_EQ(fired, 0);
    clock.advance(40ms);
    EXPECT_EQ(fired, 1);
    EXPECT_EQ(seen, start + 50ms);  // the clock reads the alarm's time when it fires
    a.at(clock.now() + 10ms);
    a.cancel();
    clock.advance(1h);
    EXPECT_EQ(fired, 1);
}

TEST(Alarm, AnAlarmSetFromItsOwnHandlerFiresInTheSameAdvance) {
    asio::io_context io;
    ManualSteadyClock clock;
    int fired = 0;
    std::optional<Alarm> a;
    a.emplace(io, clock, [&] {
        if (++fired < 3) a->at(clock.now() + 10ms);
    });
    a->at(clock.now() + 10ms);
    clock.advance(25ms);
    EXPECT_EQ(fired, 2);
    clock.advance(5ms);
    EXPECT_EQ(fired, 3);
}

TEST(Alarm, OnTheSystemClockAsioFiresIt) {
    asio::io_context io;
    int fired = 0;
    Alarm a(io, system_steady_clock(), [&] { ++fired; });
    a.at(system_steady_clock().now());  // due now: fires at the next run
    io.run_for(1s);
    EXPECT_EQ(fired, 1);
    a.at(system_steady_clock().now() + 1h);
    a.cancel();
    io.restart();
    io.poll();
    EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace dcp::net
