#include "dnscrypt/provider_key.hpp"

#include <gtest/gtest.h>

#include "common/hex.hpp"

namespace dcp::dnscrypt {
namespace {

constexpr const char* kHex = "b7351140206f225d3e2bd822d7fd691ea1c33cc8d6668d0cbe04bfabca43fb79";
constexpr const char* kColons =
    "B735:1140:206F:225D:3E2B:D822:D7FD:691E:A1C3:3CC8:D666:8D0C:BE04:BFAB:CA43:FB79";

TEST(ProviderKey, PlainHexAndOriginalColonForm) {
    const auto a = parse_provider_key(kHex);
    const auto b = parse_provider_key(kColons);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(hex_encode(*a), kHex);
}

TEST(ProviderKey, AnythingElseIsAClearError) {
    const std::string colons = kColons;
    const char* bad[] = {
        "",
        "b735",
        "b7351140206f225d3e2bd822d7fd691ea1c33cc8d6668d0cbe04bfabca43fb7",    // 63 digits
        "b7351140206f225d3e2bd822d7fd691ea1c33cc8d6668d0cbe04bfabca43fb790",  // 65 digits
        "g7351140206f225d3e2bd822d7fd691ea1c33cc8d6668d0cbe04bfabca43fb79",   // not hex
        "B735:1140:206F:225D:3E2B:D822:D7FD:691E:A1C3:3CC8:D666:8D0C:BE04:BFAB:CA43:FB7Z",
        "B7351:140:206F:225D:3E2B:D822:D7FD:691E:A1C3:3CC8:D666:8D0C:BE04:BFAB:CA43:FB79",
        "B735-1140-206F-225D-3E2B-D822-D7FD-691E-A1C3-3CC8-D666-8D0C-BE04-BFAB-CA43-FB79",
        "B735:1140:206F:225D:3E2B:D822:D7FD:691E:A1C3:3CC8:D666:8D0C:BE04:BFAB:CA43:FB79:",
    };
    for (const char* text : bad) {
        const auto r = parse_provider_key(text);
        ASSERT_FALSE(r) << text;
        EXPECT_EQ(r.error(), KeyError::BadProviderKey);
        EXPECT_NE(to_string(r.error()).find("64 hex digits"), std::string_view::npos);
    }
}

}  // namespace
}  // namespace dcp::dnscrypt
