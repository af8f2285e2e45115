#include "dns/reply.hpp"

#include <gtest/gtest.h>

#include <array>

#include "unit/dns/dns_builder.hpp"

namespace dcp::dns {
namespace {

using test::make_query;
using test::MsgBuilder;

struct Synth {
    std::vector<std::uint8_t> reply;
    QueryInfo info;
};

Synth synth(const std::vector<std::uint8_t>& query, Rcode rcode, bool tc) {
    const auto info = parse_query(query);
    if (!info) {
        ADD_FAILURE() << "not a query: " << to_string(info.error());
        return {};
    }
    std::array<std::uint8_t, 600> out{};
    const auto len = write_reply(*info, rcode, tc, out);
    if (!len) {
        ADD_FAILURE() << "no reply: " << to_string(len.error());
        return {};
    }
    return {std::vector<std::uint8_t>(out.begin(), out.begin() + static_cast<long>(*len)), *info};
}

TEST(Reply, ServfailKeepsIdQuestionAndFlags) {
    auto query = make_query("www.example.com", 28, 0xbeef);
    query[2] |= 0x00;  // RD already set by make_query
    query[3] |= 0x10;  // CD
    const auto s = synth(query, Rcode::ServFail, false);
    const auto h = parse_header(s.reply);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->id, 0xbeef);
    EXPECT_TRUE(h->qr());
    EXPECT_TRUE(h->rd());
    EXPECT_TRUE((h->flags & flags::kRa) != 0);
    EXPECT_TRUE((h->flags & flags::kCd) != 0);
    EXPECT_FALSE(h->tc());
    EXPECT_EQ(h->rcode(), 2);
    EXPECT_EQ(h->qdcount, 1);
    EXPECT_EQ(h->ancount + h->nscount + h->arcount, 0);
    EXPECT_TRUE(check_response_matches(s.reply, 0xbeef, s.info.question));
    EXPECT_EQ(s.reply.size(), s.info.question_end);
}

TEST(Reply, RefusedAndTruncated) {
    const auto query = make_query("example.com", 1, 7);
    const auto refused = synth(query, Rcode::Refused, false);
    EXPECT_EQ(parse_header(refused.reply)->rcode(), 5);
    const auto tc = synth(query, Rcode::NoError, true);
    EXPECT_TRUE(parse_header(tc.reply)->tc());
    EXPECT_EQ(parse_header(tc.reply)->rcode(), 0);
}

TEST(Reply, OptEchoedWhenClientSentOne) {
    auto query = MsgBuilder()
                     .header(5, 0x0100, 1, 0, 0, 1)
                     .question("example.com", 1)
                     .opt(4096, 0x8000)
                     .build();
    const auto s = synth(query, Rcode::ServFail, false);
    const auto l = parse_layout(s.reply);
    ASSERT_TRUE(l);
    ASSERT_TRUE(l->opt);
    EXPECT_EQ(l->opt->udp_payload, kSynthesizedOptPayload);
    EXPECT_TRUE(l->opt->dnssec_ok());
}

TEST(Reply, OpcodeCopied) {
    auto query = MsgBuilder().header(5, 0x2100, 1, 0, 0, 0).question("example.com", 6).build();
    const auto s = synth(query, Rcode::NotImp, false);
    EXPECT_EQ(parse_header(s.reply)->flags & flags::kOpcodeMask, 0x2000);
}

TEST(Reply, CompressedQuestionIsWrittenDecompressed) {
    // Found by fuzz_dns_query: the question's name jumps back into itself (offset 24 -> 17) and
    // the label there runs on past the question, into the answer record. Copied verbatim, the
    // reply's question would read different bytes than the query's.
    const std::vector<std::uint8_t> query = {
        0xca, 0x01, 0x00, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x65,
        0x78, 0xff, 0xff, 0x0f, 0x1e, 0x65, 0x03, 0x63, 0x00, 0x01, 0xc0, 0x11, 0x00, 0x34,
        0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x4a, 0x00, 0x02, 0x01, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x89, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    const auto info = parse_query(query);
    ASSERT_TRUE(info) << to_string(info.error());
    std::array<std::uint8_t, 600> out{};
    const auto len = write_reply(*info, Rcode::ServFail, false, out);
    ASSERT_TRUE(len);
    EXPECT_TRUE(check_response_matches(Bytes(out).first(*len), 0xca01, info->question));
}

TEST(Reply, TooSmallOutput) {
    const auto query = make_query("example.com", 1);
    const auto info = parse_query(query);
    ASSERT_TRUE(info);
    std::array<std::uint8_t, 20> out{};
    const auto len = write_reply(*info, Rcode::ServFail, false, out);
    ASSERT_FALSE(len);
    EXPECT_EQ(len.error(), Error::NoSpace);
}

std::vector<std::uint8_t> big_response(int answers, bool with_opt) {
    auto b =
        MsgBuilder()
            .header(0x1111, 0x8180, 1, static_cast<std::uint16_t>(answers), 0, with_opt ? 1 : 0)
            .question("big.example", 16);
    for (int i = 0; i < answers; ++i) {
        b.record_at(12, 16, 60, test::txt_rdata({std::string(100, 'a')}));
    }
    if (with_opt) b.opt(1232);
    return b.build();
}

TEST(Truncate, FittingResponseUntouched) {
    auto msg = big_response(3, false);
    const auto copy = msg;
    const auto len = truncate_response(msg, msg.size(), 512);
    ASSERT_TRUE(len);
    EXPECT_EQ(*len, copy.size());
    EXPECT_EQ(msg, copy);
}

TEST(Truncate, OversizedBecomesValidTruncatedMessage) {
    for (const bool with_opt : {false, true}) {
        auto msg = big_response(10, with_opt);
        ASSERT_GT(msg.size(), 512u);
        const auto len = truncate_response(msg, msg.size(), 512);
        ASSERT_TRUE(len);
        EXPECT_LE(*len, 512u);
        const auto l = parse_layout(Bytes(msg).first(*len));
        ASSERT_TRUE(l) << to_string(l.error());
        EXPECT_TRUE(l->header.tc());
        EXPECT_EQ(l->header.id, 0x1111);
        EXPECT_EQ(l->header.ancount, 0);
        EXPECT_EQ(l->header.qdcount, 1);
        EXPECT_EQ(l->opt.has_value(), with_opt);
        EXPECT_EQ(l->header.rcode(), 0);
    }
}

TEST(Truncate, OptDroppedIfEvenItDoesNotFit) {
    auto msg = big_response(10, true);
    const std::size_t question_end = 12 + 13 + 4;
    const auto len = truncate_response(msg, msg.size(), question_end + 5);
    ASSERT_TRUE(len);
    EXPECT_EQ(*len, question_end);
    const auto l = parse_layout(Bytes(msg).first(*len));
    ASSERT_TRUE(l);
    EXPECT_FALSE(l->opt);
    EXPECT_EQ(l->header.arcount, 0);
}

TEST(Truncate, CompressedQuestionSurvivesTruncation) {
    // Question name: "\001" + pointer back to its own first label byte, whose label (length 10)
    // runs past the question into the records that truncation drops.
    auto b = MsgBuilder().header(0x2222, 0x8180, 1, 10, 0, 0);
    b.raw({0x01, 0x0a}).pointer(13).u16(16).u16(1);
    for (int i = 0; i < 10; ++i) b.record(".", 16, 60, test::txt_rdata({std::string(100, 'z')}));
    auto msg = b.build();
    Question before;
    ASSERT_TRUE(read_question(msg, before)) << "crafted name must parse";
    const auto len = truncate_response(msg, msg.size(), 512);
    ASSERT_TRUE(len);
    EXPECT_TRUE(check_response_matches(Bytes(msg).first(*len), 0x2222, before));
}

TEST(Truncate, MalformedOversizedResponseRejected) {
    auto msg = big_response(10, false);
    msg[7] = 11;  // one more answer than present
    EXPECT_FALSE(truncate_response(msg, msg.size(), 512));
}

}  // namespace
}  // namespace dcp::dns
