#include "common/repeat_limiter.hpp"

#include <gtest/gtest.h>

namespace dcp {
namespace {

using namespace std::chrono_literals;
const RepeatLimiter::TimePoint t0{std::chrono::seconds(1000)};

TEST(RepeatLimiter, FirstOccurrenceIsSaidThenHeldBackForTheInterval) {
    RepeatLimiter l(10s);
    EXPECT_EQ(l.occur("", t0), 1U);
    EXPECT_EQ(l.occur("", t0 + 1s), 0U);
    EXPECT_EQ(l.occur("", t0 + 9s), 0U);
    // The next line stands for itself and the two held back.
    EXPECT_EQ(l.occur("", t0 + 10s), 3U);
    EXPECT_EQ(l.occur("", t0 + 11s), 0U);
}

TEST(RepeatLimiter, AChangedReasonIsSaidAtOnce) {
    RepeatLimiter l(60s);
    EXPECT_EQ(l.occur("connection refused", t0), 1U);
    EXPECT_EQ(l.occur("connection refused", t0 + 1s), 0U);
    EXPECT_EQ(l.occur("certificate has expired", t0 + 2s), 2U);
    EXPECT_EQ(l.occur("certificate has expired", t0 + 3s), 0U);
}

TEST(RepeatLimiter, ClearedItIsSaidAgainAtOnce) {
    RepeatLimiter l(60s);
    EXPECT_FALSE(l.active());
    EXPECT_EQ(l.occur("timeout", t0), 1U);
    EXPECT_TRUE(l.active());
    l.clear();
    EXPECT_FALSE(l.active());
    EXPECT_EQ(l.occur("timeout", t0 + 1s), 1U);
}

TEST(RepeatLimiter, WithoutAnIntervalTheSameReasonIsNeverSaidTwice) {
    RepeatLimiter l(std::chrono::steady_clock::duration::max());
    EXPECT_EQ(l.occur("no route", t0), 1U);
    EXPECT_EQ(l.occur("no route", t0 + 24h * 365), 0U);
    EXPECT_EQ(l.occur("refused", t0 + 24h * 365), 2U);
}

}  // namespace
}  // namespace dcp
