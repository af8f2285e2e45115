#include "net/spill_control.hpp"

#include <gtest/gtest.h>

namespace dcp::net {
namespace {

TEST(SpillControl, OneWorkerReadsUntilItIsSaturatedForLongEnough) {
    SpillControl c(4);
    EXPECT_EQ(c.reading(), 1U);
    EXPECT_EQ(c.update(0.84), 1U);  // busy, not saturated
    EXPECT_EQ(c.update(0.9), 1U);
    EXPECT_EQ(c.update(0.9), 1U);
    EXPECT_EQ(c.update(0.5), 1U);  // a dip starts the count again
    EXPECT_EQ(c.update(0.9), 1U);
    EXPECT_EQ(c.update(0.9), 1U);
    EXPECT_EQ(c.update(1.0), 2U);  // the third interval in a row
}

TEST(SpillControl, AddsOneAtATimeUpToTheWorkersAndNoFurther) {
    SpillControl c(3);
    for (int i = 0; i < 3; ++i) c.update(1.0);
    ASSERT_EQ(c.reading(), 2U);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(c.update(1.0), 2U);  // 1.0 of 2 workers: 0.5 each
    for (int i = 0; i < 2; ++i) EXPECT_EQ(c.update(1.8), 2U);
    EXPECT_EQ(c.update(1.8), 3U);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(c.update(3.0), 3U);
}

TEST(SpillControl, GivesBackAWorkerOnlyAfterALongSpareSpell) {
    SpillSettings s;
    SpillControl c(2, s);
    for (int i = 0; i < 3; ++i) c.update(1.0);
    ASSERT_EQ(c.reading(), 2U);
    // 0.6 cores would fit one worker, but not at half its time: two keep reading.
    for (int i = 0; i < 100; ++i) EXPECT_EQ(c.update(0.6), 2U);
    for (int i = 0; i < s.spare_intervals - 1; ++i) EXPECT_EQ(c.update(0.2), 2U);
    EXPECT_EQ(c.update(0.9), 2U);  // busy again: the spell starts over
    for (int i = 0; i < s.spare_intervals - 1; ++i) EXPECT_EQ(c.update(0.2), 2U);
    EXPECT_EQ(c.update(0.2), 1U);
    EXPECT_EQ(c.update(0.0), 1U);  // never below one
}

TEST(SpillControl, OneWorkerAlone) {
    SpillControl c(1);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(c.update(1.0), 1U);
    EXPECT_EQ(SpillControl(0).workers(), 1U);
}

}  // namespace
}  // namespace dcp::net
