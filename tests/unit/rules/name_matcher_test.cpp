// Name patterns with dnscrypt-proxy 2's meaning, and the cost of a lookup independent of the
// number of rules.
#include "rules/name_matcher.hpp"

#include <gtest/gtest.h>

#include <string>

#include "dns/name.hpp"

namespace dcp::rules {
namespace {

std::optional<NameMatch> m(const NameMatcher& matcher, const char* name) {
    return matcher.match(LookupName::from_text(name));
}

TEST(LookupName, FromWireIsLowercaseWithLabels) {
    const auto wire = dns::encode_name("WWW.Example.COM").value();
    const auto n = LookupName::from_wire(wire.wire());
    EXPECT_EQ(n.text(), "www.example.com");
    ASSERT_EQ(n.labels(), 3U);
    EXPECT_EQ(n.suffix(1), "example.com");
    EXPECT_EQ(n.suffix(2), "com");
    EXPECT_EQ(LookupName::from_wire(dns::encode_name(".").value().wire()).text(), ".");
}

TEST(LookupName, OddBytesAreEscapedSoTheyCannotPassForDots) {
    // One label "a.b": must not look like the two labels "a" and "b".
    const std::uint8_t wire[] = {3, 'a', '.', 'b', 3, 'c', 'o', 'm', 0};
    const auto n = LookupName::from_wire(Bytes(wire, sizeof wire));
    EXPECT_EQ(n.text(), "a\\046b.com");
    EXPECT_EQ(n.labels(), 2U);
    NameMatcher matcher;
    ASSERT_TRUE(matcher.add("=b.com", 1));
    EXPECT_FALSE(matcher.match(n));
}

TEST(NameMatcher, SuffixMatchesTheNameAndBelow) {
    NameMatcher matcher;
    ASSERT_TRUE(matcher.add("example.com", 1));
    ASSERT_TRUE(matcher.add("*.example.org", 2));
    ASSERT_TRUE(matcher.add(".example.net", 3));
    EXPECT_EQ(m(matcher, "example.com")->value, 1U);
    EXPECT_EQ(m(matcher, "www.Example.com")->value, 1U);
    EXPECT_EQ(m(matcher, "a.b.example.com")->kind, PatternKind::Suffix);
    EXPECT_FALSE(m(matcher, "notexample.com"));
    EXPECT_FALSE(m(matcher, "example.com.evil"));
    EXPECT_EQ(m(matcher, "example.org")->value, 2U);
    EXPECT_EQ(m(matcher, "x.example.org")->value, 2U);
    EXPECT_EQ(m(matcher, "x.example.net")->value, 3U);
}

TEST(NameMatcher, LongestSuffixWins) {
    NameMatcher matcher;
    ASSERT_TRUE(matcher.add("example.com", 1));
    ASSERT_TRUE(matcher.add("www.example.com", 2));
    EXPECT_EQ(m(matcher, "a.www.example.com")->value, 2U);
    EXPECT_EQ(m(matcher, "mail.example.com")->value, 1U);
}

TEST(NameMatcher, ExactOnlyTheName) {
    NameMatcher matcher;
    ASSERT_TRUE(matcher.add("=example.com", 1));
    EXPECT_EQ(m(matcher, "example.com")->kind, PatternKind::Exact);
    EXPECT_FALSE(m(matcher, "www.example.com"));
}

TEST(NameMatcher, PrefixSubstringAndGlob) {
    NameMatcher matcher;
    ASSERT_TRUE(matcher.add("ads.*", 1));
    ASSERT_TRUE(matcher.add("*sex*", 2));
    ASSERT_TRUE(matcher.add("ads[0-9]*.example.*", 3));
    ASSERT_TRUE(matcher.add("a?c.com", 4));
    ASSERT_TRUE(matcher.add("[a-z0-9\\-_]*.example.com", 5));
    EXPECT_EQ(m(matcher, "ads.example.com")->kind, PatternKind::Prefix);
    EXPECT_EQ(m(matcher, "ads.x")->value, 1U);
    EXPECT_FALSE(m(matcher, "xads.example.net"));
    EXPECT_EQ(m(matcher, "www.essex.uk")->value, 2U);
    EXPECT_EQ(m(matcher, "ads7.example.net")->value, 3U);
    EXPECT_FALSE(m(matcher, "adsx.example.net"));
    EXPECT_EQ(m(matcher, "abc.com")->value, 4U);
    EXPECT_FALSE(m(matcher, "abbc.com"));
    // The allow list's own example: below example.com, not example.com itself.
    EXPECT_EQ(m(matcher, "www.example.com")->value, 5U);
    EXPECT_FALSE(m(matcher, "example.com"));
}

TEST(NameMatcher, OrderIsExactSuffixPrefixThenTheRest) {
    NameMatcher matcher;
    ASSERT_TRUE(matcher.add("*ads*", 4));
    ASSERT_TRUE(matcher.add("ads.*", 3));
    ASSERT_TRUE(matcher.add("example.com", 2));
    ASSERT_TRUE(matcher.add("=ads.example.com", 1));
    EXPECT_EQ(m(matcher, "ads.example.com")->value, 1U);
    EXPECT_EQ(m(matcher, "x.ads.example.com")->value, 2U);
    EXPECT_EQ(m(matcher, "ads.example.net")->value, 3U);
    EXPECT_EQ(m(matcher, "myads.net")->value, 4U);
}

TEST(NameMatcher, BadPatternsAreRefusedWithAReason) {
    NameMatcher matcher;
    EXPECT_FALSE(matcher.add("*", 0));
    EXPECT_FALSE(matcher.add("**", 0));
    EXPECT_FALSE(matcher.add("=", 0));
    EXPECT_FALSE(matcher.add("ads[0-9.com", 0));
    EXPECT_FALSE(matcher.add("two words", 0));
    EXPECT_TRUE(matcher.empty());
}

TEST(NameMatcher, ManyRulesStillMatchExactly) {
    NameMatcher matcher;
    for (std::uint32_t i = 0; i < 200000; ++i) {
        ASSERT_TRUE(matcher.add("host" + std::to_string(i) + ".blocked.example", i));
    }
    EXPECT_EQ(matcher.size(), 200000U);
    EXPECT_EQ(m(matcher, "host123456.blocked.example")->value, 123456U);
    EXPECT_EQ(m(matcher, "a.host199999.blocked.example")->value, 199999U);
    EXPECT_FALSE(m(matcher, "host200000.blocked.example"));
    EXPECT_FALSE(m(matcher, "blocked.example"));
    // Well under 100 bytes per entry (names of ~25 characters).
    EXPECT_LT(matcher.memory_bytes() / matcher.size(), 100U);
}

}  // namespace
}  // namespace dcp::rules
