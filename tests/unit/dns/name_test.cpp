#include "dns/name.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "unit/dns/dns_builder.hpp"

namespace dcp::dns {
namespace {

using test::MsgBuilder;

// Twelve zero bytes stand for a header so offsets are realistic.
MsgBuilder with_header() {
    MsgBuilder b;
    b.header(0, 0, 0, 0, 0, 0);
    return b;
}

TEST(Name, SkipAndReadPlainName) {
    const auto msg = with_header().name("www.example.com").build();
    const auto end = skip_name(msg, 12);
    ASSERT_TRUE(end);
    EXPECT_EQ(*end, msg.size());
    Name n;
    ASSERT_TRUE(read_name(msg, 12, n));
    EXPECT_EQ(n.to_text(), "www.example.com.");
    EXPECT_EQ(n.size(), 17u);
}

TEST(Name, RootName) {
    const auto msg = with_header().name(".").build();
    Name n;
    const auto end = read_name(msg, 12, n);
    ASSERT_TRUE(end);
    EXPECT_EQ(*end, 13u);
    EXPECT_EQ(n.to_text(), ".");
}

TEST(Name, FollowsBackwardPointer) {
    auto b = with_header().name("example.com");  // at 12
    b.raw({3, 'w', 'w', 'w'}).pointer(12);       // at 25: www + ptr -> example.com
    const auto msg = b.build();
    Name n;
    const auto end = read_name(msg, 25, n);
    ASSERT_TRUE(end);
    EXPECT_EQ(*end, msg.size());  // offset past the pointer, not past the target
    EXPECT_EQ(n.to_text(), "www.example.com.");
    const auto skipped = skip_name(msg, 25);
    ASSERT_TRUE(skipped);
    EXPECT_EQ(*skipped, msg.size());
}

struct HostileCase {
    const char* what;
    std::vector<std::uint8_t> msg;
    std::size_t offset;
    Error expected;
    // skip_name does not follow pointers: a name that is too long only through them is, for
    // it, a label and a legal backward pointer, ending here.
    std::optional<std::size_t> skip_ends_at = std::nullopt;
};

class HostileNames : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileNames, ReadAndSkipReject) {
    const auto& c = GetParam();
    Name n;
    const auto r = read_name(c.msg, c.offset, n);
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.error(), c.expected) << c.what << ": " << to_string(r.error());
    // skip_name is what parse_layout walks every record with: the same hostile names.
    const auto s = skip_name(c.msg, c.offset);
    if (c.skip_ends_at) {
        ASSERT_TRUE(s) << c.what << ": " << to_string(s.error());
        EXPECT_EQ(*s, *c.skip_ends_at) << c.what;
    } else {
        ASSERT_FALSE(s) << c.what;
        EXPECT_EQ(s.error(), c.expected) << c.what << ": " << to_string(s.error());
    }
}

std::vector<HostileCase> hostile_cases() {
    std::vector<HostileCase> cases;
    // Pointer to itself.
    cases.push_back({"self pointer", with_header().pointer(12).build(), 12, Error::BadPointer});
    // Two pointers pointing at each other: the second is a forward reference.
    cases.push_back(
        {"pointer loop", with_header().pointer(14).pointer(12).build(), 12, Error::BadPointer});
    // Forward pointer past the end of the message.
    cases.push_back(
        {"pointer past end", with_header().pointer(0x3fff).build(), 12, Error::BadPointer});
    // Pointer into the header.
    cases.push_back(
        {"pointer into header", with_header().pointer(2).build(), 12, Error::BadPointer});
    // Truncated pointer (one byte).
    cases.push_back({"half pointer", with_header().raw({0xc0}).build(), 12, Error::ShortPacket});
    // Label running past the end.
    cases.push_back(
        {"label past end", with_header().raw({10, 'a', 'b'}).build(), 12, Error::ShortPacket});
    // No terminating zero.
    cases.push_back({"unterminated", with_header().raw({1, 'a'}).build(), 12, Error::ShortPacket});
    // Reserved label types 0x40 and 0x80.
    cases.push_back(
        {"label type 0x40", with_header().raw({0x41, 0}).build(), 12, Error::BadLabelType});
    cases.push_back(
        {"label type 0x80", with_header().raw({0x81, 0}).build(), 12, Error::BadLabelType});
    // 256 bytes of wire name: four 63-byte labels (256) + root = 257 > 255.
    {
        MsgBuilder long_name = with_header();
        for (int i = 0; i < 4; ++i) {
            long_name.raw({63});
            long_name.raw(std::vector<std::uint8_t>(63, 'a'));
        }
        long_name.raw({0});
        cases.push_back({"name over 255 bytes", long_name.build(), 12, Error::NameTooLong});
    }
    // Over-long name built from a chain of backward pointers (each hop legal on its own).
    {
        MsgBuilder b = with_header();
        b.raw({63}).raw(std::vector<std::uint8_t>(63, 'x')).raw({0});  // at 12, 65 bytes
        std::uint16_t prev = 12;
        for (int i = 0; i < 4; ++i) {
            const auto here = static_cast<std::uint16_t>(b.size());
            b.raw({63}).raw(std::vector<std::uint8_t>(63, 'y')).pointer(prev);
            prev = here;
        }
        cases.push_back({"long pointer chain", b.build(), prev, Error::NameTooLong,
                         std::size_t{prev} + 64 + 2});
    }
    // Offset past the end.
    cases.push_back({"offset past end", with_header().build(), 40, Error::ShortPacket});
    return cases;
}

INSTANTIATE_TEST_SUITE_P(Table, HostileNames, ::testing::ValuesIn(hostile_cases()));

TEST(Name, SkipRejectsForwardPointerWithoutFollowing) {
    const auto msg = with_header().pointer(40).raw(std::vector<std::uint8_t>(40, 0)).build();
    const auto r = skip_name(msg, 12);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Error::BadPointer);
}

TEST(Name, EqualityIgnoresAsciiCaseOnly) {
    const auto a = encode_name("WwW.Example.COM");
    const auto b = encode_name("www.example.com.");
    const auto c = encode_name("www.example.co");
    ASSERT_TRUE(a && b && c);
    EXPECT_TRUE(*a == *b);
    EXPECT_FALSE(*a == *c);
}

TEST(Name, EncodeRejectsBadNames) {
    EXPECT_FALSE(encode_name(""));
    EXPECT_FALSE(encode_name("a..b"));
    EXPECT_FALSE(encode_name(".a"));
    EXPECT_FALSE(encode_name(std::string(64, 'a') + ".com"));
    std::string long_name;
    for (int i = 0; i < 5; ++i) long_name += std::string(50, 'a') + ".";
    EXPECT_FALSE(encode_name(long_name));  // 5*51 + 1 = 256 bytes
    EXPECT_TRUE(encode_name(std::string(63, 'a') + ".com"));
}

TEST(Name, EncodeRoot) {
    const auto root = encode_name(".");
    ASSERT_TRUE(root);
    EXPECT_EQ(root->size(), 1u);
}

TEST(Name, ToTextEscapes) {
    const auto msg = with_header().raw({3, 'a', '.', 0x01, 0}).build();
    Name n;
    ASSERT_TRUE(read_name(msg, 12, n));
    EXPECT_EQ(n.to_text(), "a\\.\\001.");
}

}  // namespace
}  // namespace dcp::dns
