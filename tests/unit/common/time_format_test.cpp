#include "common/time_format.hpp"

#include <gtest/gtest.h>

namespace dcp {
namespace {

TEST(TimeFormat, Utc) {
    EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC");
    EXPECT_EQ(format_utc(1700086400), "2023-11-15 22:13:20 UTC");
}

}  // namespace
}  // namespace dcp
