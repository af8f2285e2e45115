#include "dns/query.hpp"

#include <gtest/gtest.h>

#include <array>

#include "dns/message.hpp"
#include "unit/dns/dns_builder.hpp"

namespace dcp::dns {
namespace {

TEST(WriteQuery, MatchesHandBuiltQuery) {
    const auto name = encode_name("2.dnscrypt-cert.example.com");
    ASSERT_TRUE(name);
    std::array<std::uint8_t, 512> out{};
    const auto len = write_query(0xbeef, *name, RecordType::TXT, out);
    ASSERT_TRUE(len);
    const auto want = test::make_query("2.dnscrypt-cert.example.com", 16, 0xbeef);
    EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + static_cast<long>(*len)), want);
    const auto parsed = parse_query(Bytes(out).first(*len));
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(parsed->question.name == *name);
}

TEST(WriteQuery, NoSpace) {
    const auto name = encode_name("example.com");
    ASSERT_TRUE(name);
    std::array<std::uint8_t, 20> out{};
    EXPECT_FALSE(write_query(1, *name, RecordType::A, out));
}

}  // namespace
}  // namespace dcp::dns
