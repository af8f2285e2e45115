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

TEST(Hex, Grouped) {
    const std::vector<std::uint8_t> key{0xb7, 0x35, 0x11, 0x40, 0x20, 0x6f};
    EXPECT_EQ(hex_encode_grouped(key), "b735:1140:206f");
    EXPECT_EQ(hex_encode_grouped(key, true), "B735:1140:206F");
    EXPECT_EQ(hex_encode_grouped(Bytes(key.data(), 3)), "b735:11");
    EXPECT_EQ(hex_encode_grouped({}), "");
}

TEST(Hex, RejectsBadText) {
    EXPECT_FALSE(hex_decode("abc"));
    EXPECT_FALSE(hex_decode("zz"));
    EXPECT_FALSE(hex_decode("0g"));
    EXPECT_FALSE(hex_decode("a:"));
}

}  // namespace
}  // namespace dcp
