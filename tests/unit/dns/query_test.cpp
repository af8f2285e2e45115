#include "dns/query.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

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

TEST(QuestionCase, EachLetterTakesOneBitAndOnlyLettersChange) {
    auto q = test::make_query("ab-1.Cd.example", 1);
    // Bits 0 and 2 set: letters 0, 2, 8 and 10 upper (the byte's 8 bits cycle), the rest lower.
    const std::array<std::uint8_t, 1> bits{0b0000'0101};
    EXPECT_EQ(randomize_question_case(q, bits), 11U);  // a b C d e x a m p l e
    const std::uint8_t want[] = {4,   'A', 'b', '-', '1', 2,   'C', 'd', 7,
                                 'e', 'x', 'a', 'm', 'P', 'l', 'E', 0};
    ASSERT_GE(q.size(), 12 + sizeof want);
    EXPECT_EQ(std::memcmp(q.data() + 12, want, sizeof want), 0);
    // Still the same question (names compare without case), and the rest untouched.
    const auto parsed = parse_query(q);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->question.name.to_text(), "Ab-1.Cd.examPlE.");
    const auto original = test::make_query("ab-1.Cd.example", 1);
    EXPECT_TRUE(std::equal(q.begin() + 12 + static_cast<long>(sizeof want), q.end(),
                           original.begin() + 12 + static_cast<long>(sizeof want)));
}

TEST(QuestionCase, SpellingIsComparedAndCopiedByteForByte) {
    auto sent = test::make_query("www.example.com", 1);
    const std::array<std::uint8_t, 2> bits{0x5a, 0xc3};
    (void)randomize_question_case(sent, bits);
    auto echoed = sent;
    echoed[2] |= 0x80;  // QR: the answer
    EXPECT_TRUE(same_question_spelling(echoed, sent));
    auto lowered = test::make_query("www.example.com", 1);
    EXPECT_FALSE(same_question_spelling(lowered, sent));
    copy_question_spelling(lowered, sent);
    EXPECT_TRUE(same_question_spelling(lowered, sent));
    // Another name of the same length, or garbage: never "the same".
    EXPECT_FALSE(same_question_spelling(test::make_query("www.example.org", 1), sent));
    const std::uint8_t garbage[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 63, 'a'};
    EXPECT_FALSE(same_question_spelling(Bytes(garbage, sizeof garbage), sent));
    EXPECT_EQ(randomize_question_case(MutableBytes(), bits), 0U);
}

}  // namespace
}  // namespace dcp::dns
