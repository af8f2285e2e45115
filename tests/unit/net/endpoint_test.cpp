#include "net/endpoint.hpp"

#include <gtest/gtest.h>

namespace dcp::net {
namespace {

TEST(Endpoint, Forms) {
    auto a = parse_host_port("127.0.0.1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->address.to_string(), "127.0.0.1");
    EXPECT_FALSE(a->port);
    a = parse_host_port("127.0.0.1:5353");
    ASSERT_TRUE(a);
    EXPECT_EQ(*a->port, 5353);
    a = parse_host_port("::1");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->address.is_v6());
    EXPECT_FALSE(a->port);
    a = parse_host_port("[2001:db8::53]:443");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->address.to_string(), "2001:db8::53");
    EXPECT_EQ(*a->port, 443);
    a = parse_host_port("[::1]");
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->port);
}

TEST(Endpoint, BadFormsSayWhy) {
    for (const char* bad : {"", "localhost", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:x", "[::1",
                            "[::1]x", "[::1]:", "300.1.1.1", "1.2.3.4:53:53"}) {
        const auto r = parse_host_port(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_FALSE(r.error().empty()) << bad;
    }
}

TEST(Endpoint, ToString) {
    EXPECT_EQ(to_string(asio::ip::udp::endpoint(asio::ip::make_address("::1"), 53)), "[::1]:53");
    EXPECT_EQ(to_string(asio::ip::tcp::endpoint(asio::ip::make_address("10.0.0.1"), 443)),
              "10.0.0.1:443");
}

}  // namespace
}  // namespace dcp::net
