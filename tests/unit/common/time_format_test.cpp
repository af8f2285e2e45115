#include "common/time_format.hpp"

#include <gtest/gtest.h>

namespace dcp {
namespace {

TEST(TimeFormat, Utc) {
    EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC");
    EXPECT_EQ(format_utc(1700086400), "2023-11-15 22:13:20 UTC");
}

TEST(TimeFormat, Milliseconds) {
    using std::chrono::microseconds;
    EXPECT_EQ(format_ms(microseconds(0)), "0.0 ms");
    EXPECT_EQ(format_ms(microseconds(2650)), "2.6 ms");  // 2.65 is 2.6499... in binary
    EXPECT_EQ(format_ms(microseconds(2660)), "2.7 ms");
    EXPECT_EQ(format_ms(microseconds(123456)), "123.5 ms");
}

}  // namespace
}  // namespace dcp
