// The DNS side of DoH: what goes in the POST body and what comes back to the client.

#include "doh/message.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "common/bytes.hpp"
#include "dns/constants.hpp"
#include "dns/message.hpp"
#include "unit/dns/dns_builder.hpp"

namespace dcp::doh {
namespace {

using test::MsgBuilder;

dns::QueryInfo info_of(const std::vector<std::uint8_t>& q) {
    auto info = dns::parse_query(Bytes(q.data(), q.size()));
    // A throw fails the test that called this (gtest catches it); no use of a missing value.
    if (!info) throw std::invalid_argument("the test's query does not parse");
    return *info;
}

// The options inside the OPT record of `msg`, as (code, length) pairs.
std::vector<std::pair<std::uint16_t, std::uint16_t>> options_of(
    const std::vector<std::uint8_t>& msg) {
    const auto layout = dns::parse_layout(Bytes(msg.data(), msg.size()));
    EXPECT_TRUE(layout.has_value());
    std::vector<std::pair<std::uint16_t, std::uint16_t>> out;
    if (!layout || !layout->opt) return out;
    std::size_t at = layout->opt->offset + dns::kEmptyOptSize;
    while (at + 4 <= layout->opt->end) {
        const auto code = load_u16_be(msg.data() + at);
        const auto len = load_u16_be(msg.data() + at + 2);
        out.emplace_back(code, len);
        at += 4U + len;
    }
    EXPECT_EQ(at, layout->opt->end);
    return out;
}

TEST(DohQuery, WithoutOptGetsOnePaddedToABlockAndIdZero) {
    const auto q = test::make_query("www.example.com", 1, 0xbeef);
    std::vector<std::uint8_t> out;
    const auto prepared = prepare_query(Bytes(q.data(), q.size()), info_of(q), out);
    ASSERT_TRUE(prepared.has_value());
    EXPECT_TRUE(prepared->opt_added);
    EXPECT_EQ(out.size(), 128U);
    EXPECT_EQ(load_u16_be(out.data()), 0);  // RFC 8484 4.1
    const auto parsed = dns::parse_query(Bytes(out.data(), out.size()));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->header.arcount, 1);
    ASSERT_TRUE(parsed->opt.has_value());
    EXPECT_FALSE(parsed->opt->dnssec_ok());
    const auto opts = options_of(out);
    ASSERT_EQ(opts.size(), 1U);
    EXPECT_EQ(opts[0].first, 12);  // Padding
    // Everything but the ID, ARCOUNT and the added record is the client's query.
    EXPECT_TRUE(std::equal(q.begin() + 2, q.begin() + 10, out.begin() + 2));
    EXPECT_TRUE(std::equal(q.begin() + 12, q.end(), out.begin() + 12));
}

TEST(DohQuery, ClientOptKeepsItsFlagsAndGainsPadding) {
    const auto q = MsgBuilder()
                       .header(0x4242, 0x0100, 1, 0, 0, 1)
                       .question("a.b", 28)
                       .opt(4096, dns::kOptFlagDo, {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8})  // cookie
                       .build();
    std::vector<std::uint8_t> out;
    const auto prepared = prepare_query(Bytes(q.data(), q.size()), info_of(q), out);
    ASSERT_TRUE(prepared.has_value());
    EXPECT_FALSE(prepared->opt_added);
    EXPECT_EQ(out.size() % kPaddingBlock, 0U);
    const auto parsed = dns::parse_query(Bytes(out.data(), out.size()));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->header.arcount, 1);
    EXPECT_TRUE(parsed->opt->dnssec_ok());
    EXPECT_EQ(parsed->opt->udp_payload, 4096);
    const auto opts = options_of(out);
    ASSERT_EQ(opts.size(), 2U);
    EXPECT_EQ(opts[0], (std::pair<std::uint16_t, std::uint16_t>{10, 8}));
    EXPECT_EQ(opts[1].first, 12);
}

TEST(DohQuery, EveryLengthPadsToTheNextBlock) {
    std::string name = "a";
    for (int i = 0; i < 200; ++i) {
        const auto q = test::make_query(name, 1, 7, i % 2 == 0 ? -1 : 1232);
        std::vector<std::uint8_t> out;
        const auto prepared = prepare_query(Bytes(q.data(), q.size()), info_of(q), out);
        ASSERT_TRUE(prepared.has_value()) << name;
        EXPECT_EQ(out.size() % kPaddingBlock, 0U) << name;
        EXPECT_LT(out.size() - q.size(), kPaddingBlock + dns::kEmptyOptSize + 4) << name;
        EXPECT_TRUE(dns::parse_query(Bytes(out.data(), out.size())).has_value()) << name;
        name += (i % 60 == 59) ? ".b" : "c";
    }
}

TEST(DohQuery, ClientPaddingIsKept) {
    const auto q = MsgBuilder()
                       .header(1, 0x0100, 1, 0, 0, 1)
                       .question("a.b", 1)
                       .opt(1232, 0, {0, 12, 0, 3, 0, 0, 0})
                       .build();
    std::vector<std::uint8_t> out;
    ASSERT_TRUE(prepare_query(Bytes(q.data(), q.size()), info_of(q), out).has_value());
    EXPECT_EQ(out.size(), q.size());
    EXPECT_EQ(load_u16_be(out.data()), 0);
    EXPECT_TRUE(std::equal(q.begin() + 2, q.end(), out.begin() + 2));
}

std::vector<std::uint8_t> answer_to(const std::vector<std::uint8_t>& sent, std::uint16_t id,
                                    bool qr = true) {
    // The server's answer: the question echoed, one A record, the OPT it got (as servers do).
    const auto layout = dns::parse_layout(Bytes(sent.data(), sent.size()));
    MsgBuilder b;
    b.header(id, static_cast<std::uint16_t>((qr ? 0x8000 : 0) | 0x0180), 1, 1, 0,
             layout->opt ? 1 : 0);
    b.raw(std::vector<std::uint8_t>(
        sent.begin() + 12, sent.begin() + static_cast<std::ptrdiff_t>(layout->answer_offset)));
    b.record_at(12, 1, 300, {192, 0, 2, 1});
    if (layout->opt) b.opt(1232);
    return b.build();
}

TEST(DohAnswer, ClientIdRestoredAndOurOptRemoved) {
    const auto q = test::make_query("www.example.com", 1, 0xbeef);
    const auto info = info_of(q);
    std::vector<std::uint8_t> sent;
    const auto prepared = prepare_query(Bytes(q.data(), q.size()), info, sent);
    auto a = answer_to(sent, 0);
    const auto len = finish_answer(MutableBytes(a.data(), a.size()), info, *prepared);
    ASSERT_TRUE(len.has_value());
    const auto layout = dns::parse_layout(Bytes(a.data(), *len));
    ASSERT_TRUE(layout.has_value());
    EXPECT_EQ(layout->header.id, 0xbeef);
    EXPECT_EQ(layout->header.ancount, 1);
    EXPECT_FALSE(layout->opt.has_value());
}

TEST(DohAnswer, ClientOptStays) {
    const auto q = test::make_query("www.example.com", 1, 0x0102, 1232);
    const auto info = info_of(q);
    std::vector<std::uint8_t> sent;
    const auto prepared = prepare_query(Bytes(q.data(), q.size()), info, sent);
    auto a = answer_to(sent, 0);
    const auto len = finish_answer(MutableBytes(a.data(), a.size()), info, *prepared);
    ASSERT_TRUE(len.has_value());
    EXPECT_EQ(*len, a.size());
    EXPECT_EQ(load_u16_be(a.data()), 0x0102);
}

TEST(DohAnswer, RefusedWhenNotOurs) {
    const auto q = test::make_query("www.example.com", 1, 0xbeef);
    const auto info = info_of(q);
    std::vector<std::uint8_t> sent;
    const auto prepared = prepare_query(Bytes(q.data(), q.size()), info, sent);

    auto wrong_id = answer_to(sent, 0xbeef);  // an ID we never sent on the wire
    EXPECT_EQ(
        finish_answer(MutableBytes(wrong_id.data(), wrong_id.size()), info, *prepared).error(),
        AnswerError::NotAnAnswer);
    auto query_back = answer_to(sent, 0, false);
    EXPECT_EQ(
        finish_answer(MutableBytes(query_back.data(), query_back.size()), info, *prepared).error(),
        AnswerError::NotAnAnswer);

    const auto other = test::make_query("www.example.org", 1, 0xbeef);
    std::vector<std::uint8_t> other_sent;
    ASSERT_TRUE(
        prepare_query(Bytes(other.data(), other.size()), info_of(other), other_sent).has_value());
    auto other_answer = answer_to(other_sent, 0);
    EXPECT_EQ(finish_answer(MutableBytes(other_answer.data(), other_answer.size()), info, *prepared)
                  .error(),
              AnswerError::WrongQuestion);

    std::vector<std::uint8_t> garbage = {0, 0, 0x80};
    EXPECT_EQ(finish_answer(MutableBytes(garbage.data(), garbage.size()), info, *prepared).error(),
              AnswerError::Malformed);
    std::vector<std::uint8_t> empty;
    EXPECT_FALSE(finish_answer(MutableBytes(empty.data(), 0), info, *prepared).has_value());
}

TEST(DohContentType, AsHttpCompares) {
    EXPECT_TRUE(is_dns_message_type("application/dns-message"));
    EXPECT_TRUE(is_dns_message_type("Application/DNS-Message"));
    EXPECT_TRUE(is_dns_message_type("application/dns-message; charset=binary"));
    EXPECT_TRUE(is_dns_message_type(" application/dns-message "));
    EXPECT_FALSE(is_dns_message_type("application/dns-json"));
    EXPECT_FALSE(is_dns_message_type("text/html"));
    EXPECT_FALSE(is_dns_message_type(""));
    EXPECT_FALSE(is_dns_message_type("application/dns-messages"));
}

}  // namespace
}  // namespace dcp::doh
