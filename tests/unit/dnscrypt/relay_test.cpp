#include "dnscrypt/relay.hpp"

#include <gtest/gtest.h>

#include "common/hex.hpp"

namespace dcp::dnscrypt {
namespace {

TEST(Relay, Ipv4IsMapped) {
    const auto h = relay_header(std::array<std::uint8_t, 4>{192, 0, 2, 1}, 443);
    EXPECT_EQ(hex_encode(h), "ffffffffffffffff000000000000000000000000ffffc000020101bb");
}

TEST(Relay, Ipv6) {
    std::array<std::uint8_t, 16> a{};
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[15] = 0x53;
    const auto h = relay_header(a, 8443);
    EXPECT_EQ(hex_encode(h), "ffffffffffffffff000020010db800000000000000000000005320fb");
}

}  // namespace
}  // namespace dcp::dnscrypt
