#include "common/hex.hpp"

#include <gtest/gtest.h>

namespace dcp {
namespace {

TEST(Hex, RoundTrip) {
    const std::vector<std::uint8_t> data = {0x00, 0x7f, 0x80, 0xff, 0xab};
    EXPECT_EQ(hex_encode(data), "007f80ffab");
    EXPECT_EQ(hex_decode("007F80FFab"), data);
    EXPECT_EQ(hex_decode(""), std::vector<std::uint8_t>{});
}

TEST(Hex, RejectsBadText) {
    EXPECT_FALSE(hex_decode("abc"));
    EXPECT_FALSE(hex_decode("zz"));
    EXPECT_FALSE(hex_decode("0g"));
    EXPECT_FALSE(hex_decode("a:"));
}

}  // namespace
}  // namespace dcp
