#include "dns/message.hpp"

#include <gtest/gtest.h>

#include "unit/dns/dns_builder.hpp"

namespace dcp::dns {
namespace {

using test::make_query;
using test::MsgBuilder;

TEST(Header, ParsesFields) {
    const auto msg = MsgBuilder().header(0xabcd, 0x8180, 1, 2, 3, 4).build();
    const auto h = parse_header(msg);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->id, 0xabcd);
    EXPECT_TRUE(h->qr());
    EXPECT_TRUE(h->rd());
    EXPECT_FALSE(h->tc());
    EXPECT_EQ(h->qdcount, 1);
    EXPECT_EQ(h->ancount, 2);
    EXPECT_EQ(h->nscount, 3);
    EXPECT_EQ(h->arcount, 4);
}

TEST(Header, EveryShortLengthRejected) {
    const auto msg = MsgBuilder().header(1, 0, 1, 0, 0, 0).build();
    for (std::size_t len = 0; len < kHeaderSize; ++len) {
        const auto h = parse_header(Bytes(msg).first(len));
        ASSERT_FALSE(h);
        EXPECT_EQ(h.error(), Error::ShortPacket);
    }
}

TEST(Query, ParsesQuestionAndOpt) {
    const auto msg = make_query("Example.COM", 28, 0x4242, 1232);
    const auto q = parse_query(msg);
    ASSERT_TRUE(q) << to_string(q.error());
    EXPECT_EQ(q->header.id, 0x4242);
    EXPECT_EQ(q->question.name.to_text(), "Example.COM.");
    EXPECT_EQ(q->question.qtype, 28);
    EXPECT_EQ(q->question.qclass, 1);
    EXPECT_EQ(q->question_end, 12u + 13u + 4u);
    ASSERT_TRUE(q->opt);
    EXPECT_EQ(q->opt->udp_payload, 1232);
    EXPECT_EQ(q->opt->offset, q->question_end);
    EXPECT_EQ(q->opt->end, msg.size());
    EXPECT_EQ(q->client_udp_limit(), 1232);
    EXPECT_EQ(q->size, msg.size());
}

TEST(Query, ParsedInPlaceOverAnEarlierQuery) {
    // The proxy parses each query into the slot of the one before: nothing of it may remain.
    QueryInfo slot;
    ASSERT_TRUE(parse_query(make_query("a-much-longer-name.example", 28, 7, 4000), slot));
    const auto msg = make_query("b.example", 1, 9);
    ASSERT_TRUE(parse_query(msg, slot));
    EXPECT_EQ(slot.header.id, 9);
    EXPECT_EQ(slot.question.name.to_text(), "b.example.");
    EXPECT_EQ(slot.question.qtype, 1);
    EXPECT_FALSE(slot.opt);
    EXPECT_EQ(slot.size, msg.size());
    EXPECT_EQ(slot.question_end, parse_query(msg)->question_end);
    const auto answer = MsgBuilder().header(1, 0x8180, 1, 0, 0, 0).question("b.example", 1).build();
    const auto refused = parse_query(answer, slot);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), Error::NotAQuery);
}

TEST(Query, ClientLimitWithoutOptIs512AndNeverBelow) {
    const auto plain = parse_query(make_query("a.example", 1));
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->opt);
    EXPECT_EQ(plain->client_udp_limit(), 512);
    const auto tiny = parse_query(make_query("a.example", 1, 1, 100));
    ASSERT_TRUE(tiny);
    EXPECT_EQ(tiny->client_udp_limit(), 512);  // RFC 6891 6.2.5
}

TEST(Query, ClientLimitIsCappedAt4096) {
    // A client (or a spoofed source) advertising 65535 gets at most 4096 bytes over UDP.
    for (const int advertised : {4096, 4097, 8192, 65535}) {
        const auto q =
            parse_query(make_query("a.example", 1, 1, static_cast<std::uint16_t>(advertised)));
        ASSERT_TRUE(q);
        EXPECT_EQ(q->client_udp_limit(), 4096) << advertised;
    }
    const auto q = parse_query(make_query("a.example", 1, 1, 4000));
    ASSERT_TRUE(q);
    EXPECT_EQ(q->client_udp_limit(), 4000);
}

TEST(Query, OptFlagsAndVersion) {
    auto b = MsgBuilder().header(1, 0x0100, 1, 0, 0, 1).question("a.example", 1);
    b.name(".").u16(41).u16(4096).raw({0x01, 0x00}).u16(0x8000).u16(0);
    const auto q = parse_query(b.build());
    ASSERT_TRUE(q);
    ASSERT_TRUE(q->opt);
    EXPECT_EQ(q->opt->extended_rcode, 1);
    EXPECT_EQ(q->opt->version, 0);
    EXPECT_TRUE(q->opt->dnssec_ok());
}

struct BadQuery {
    const char* what;
    std::vector<std::uint8_t> msg;
    Error expected;
};

class BadQueries : public ::testing::TestWithParam<BadQuery> {};

TEST_P(BadQueries, Rejected) {
    const auto& c = GetParam();
    const auto q = parse_query(c.msg);
    ASSERT_FALSE(q) << c.what;
    EXPECT_EQ(q.error(), c.expected) << c.what << ": got " << to_string(q.error());
}

std::vector<BadQuery> bad_queries() {
    std::vector<BadQuery> v;
    v.push_back({"response", MsgBuilder().header(1, 0x8100, 1, 0, 0, 0).question("a.b", 1).build(),
                 Error::NotAQuery});
    v.push_back(
        {"no question", MsgBuilder().header(1, 0x0100, 0, 0, 0, 0).build(), Error::NoQuestion});
    v.push_back(
        {"two questions",
         MsgBuilder().header(1, 0x0100, 2, 0, 0, 0).question("a.b", 1).question("c.d", 1).build(),
         Error::TooManyQuestions});
    v.push_back({"question count past end",
                 MsgBuilder().header(1, 0x0100, 3, 0, 0, 0).question("a.b", 1).build(),
                 Error::ShortPacket});
    v.push_back({"record count past end",
                 MsgBuilder().header(1, 0x0100, 1, 0, 0, 5).question("a.b", 1).build(),
                 Error::ShortPacket});
    v.push_back(
        {"trailing garbage",
         MsgBuilder().header(1, 0x0100, 1, 0, 0, 0).question("a.b", 1).raw({1, 2, 3}).build(),
         Error::TrailingData});
    v.push_back(
        {"two OPT records",
         MsgBuilder().header(1, 0x0100, 1, 0, 0, 2).question("a.b", 1).opt(1232).opt(4096).build(),
         Error::MultipleOpt});
    v.push_back({"OPT with a non-root owner",
                 MsgBuilder()
                     .header(1, 0x0100, 1, 0, 0, 1)
                     .question("a.b", 1)
                     .record("x", 41, 0, {}, 1232)
                     .build(),
                 Error::BadOpt});
    v.push_back({"OPT in the answer section",
                 MsgBuilder().header(1, 0x0100, 1, 1, 0, 0).question("a.b", 1).opt(1232).build(),
                 Error::BadOpt});
    v.push_back({"rdlength past end",
                 MsgBuilder()
                     .header(1, 0x0100, 1, 0, 0, 1)
                     .question("a.b", 1)
                     .name(".")
                     .u16(41)
                     .u16(1232)
                     .u32(0)
                     .u16(20)
                     .raw({0, 0})
                     .build(),
                 Error::ShortPacket});
    v.push_back({"question name with a pointer loop",
                 MsgBuilder().header(1, 0x0100, 1, 0, 0, 0).pointer(12).u16(1).u16(1).build(),
                 Error::BadPointer});
    v.push_back({"question truncated in its type",
                 MsgBuilder().header(1, 0x0100, 1, 0, 0, 0).name("a.b").raw({0}).build(),
                 Error::ShortPacket});
    v.push_back({"record with a forward pointer",
                 MsgBuilder()
                     .header(1, 0x0100, 1, 0, 0, 1)
                     .question("a.b", 1)
                     .record_at(200, 1, 0, {1, 2, 3, 4})
                     .build(),
                 Error::BadPointer});
    return v;
}

INSTANTIATE_TEST_SUITE_P(Table, BadQueries, ::testing::ValuesIn(bad_queries()));

TEST(Query, EveryTruncationOfAValidQueryIsRejected) {
    const auto msg = make_query("www.example.com", 1, 7, 1232);
    for (std::size_t len = 0; len < msg.size(); ++len) {
        const auto q = parse_query(Bytes(msg).first(len));
        EXPECT_FALSE(q) << "length " << len;
    }
}

TEST(Layout, SectionsOfAResponse) {
    auto b = MsgBuilder().header(9, 0x8180, 1, 2, 1, 2).question("example.com", 1);
    b.record_at(12, 1, 60, {192, 0, 2, 1});
    b.record_at(12, 1, 60, {192, 0, 2, 2});
    const auto authority = b.size();
    b.record_at(12, 2, 60, {2, 'n', 's', 0xc0, 12});
    const auto additional = b.size();
    b.record("ns.example.com", 1, 60, {192, 0, 2, 53});
    const auto opt_at = b.size();
    b.opt(1232);
    const auto msg = b.build();
    const auto l = parse_layout(msg);
    ASSERT_TRUE(l) << to_string(l.error());
    EXPECT_EQ(l->answer_offset, 29u);
    EXPECT_EQ(l->authority_offset, authority);
    EXPECT_EQ(l->additional_offset, additional);
    EXPECT_EQ(l->end, msg.size());
    ASSERT_TRUE(l->opt);
    EXPECT_EQ(l->opt->offset, opt_at);
}

TEST(Layout, EmptySectionsPointAtTheEnd) {
    const auto msg = MsgBuilder().header(9, 0x8180, 1, 0, 0, 0).question("example.com", 1).build();
    const auto l = parse_layout(msg);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->answer_offset, msg.size());
    EXPECT_EQ(l->authority_offset, msg.size());
    EXPECT_EQ(l->additional_offset, msg.size());
}

TEST(Record, ReadsFields) {
    auto b = MsgBuilder().header(9, 0x8180, 1, 1, 0, 0).question("example.com", 1);
    const auto at = static_cast<std::size_t>(b.size());
    b.record_at(12, 16, 0x01020304, {3, 'a', 'b', 'c'});
    const auto msg = b.build();
    const auto r = read_record(msg, at);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, 16);
    EXPECT_EQ(r->klass, 1);
    EXPECT_EQ(r->ttl, 0x01020304u);
    EXPECT_EQ(r->rdlength, 4);
    EXPECT_EQ(r->rdata_offset, at + 12);
    EXPECT_EQ(r->end(), msg.size());
}

Question question_of(const std::vector<std::uint8_t>& query) {
    const auto q = parse_query(query);
    if (!q) {
        ADD_FAILURE() << "not a query: " << to_string(q.error());
        return {};
    }
    return q->question;
}

TEST(Match, AcceptsSameIdAndQuestionAnyCase) {
    const auto q = question_of(make_query("www.Example.com", 1, 0x5555));
    const auto resp =
        MsgBuilder().header(0x5555, 0x8180, 1, 0, 0, 0).question("WWW.example.COM", 1).build();
    EXPECT_TRUE(check_response_matches(resp, 0x5555, q));
}

TEST(Match, RejectsEachMismatch) {
    const auto q = question_of(make_query("www.example.com", 1, 0x5555));
    struct Case {
        std::vector<std::uint8_t> msg;
        Error expected;
    };
    const Case cases[] = {
        {MsgBuilder().header(0x5556, 0x8180, 1, 0, 0, 0).question("www.example.com", 1).build(),
         Error::IdMismatch},
        {MsgBuilder().header(0x5555, 0x0100, 1, 0, 0, 0).question("www.example.com", 1).build(),
         Error::NotAResponse},
        {MsgBuilder().header(0x5555, 0x8180, 1, 0, 0, 0).question("www.example.org", 1).build(),
         Error::QuestionMismatch},
        {MsgBuilder().header(0x5555, 0x8180, 1, 0, 0, 0).question("www.example.com", 28).build(),
         Error::QuestionMismatch},
        {MsgBuilder().header(0x5555, 0x8180, 1, 0, 0, 0).question("www.example.com", 1, 3).build(),
         Error::QuestionMismatch},
        {MsgBuilder().header(0x5555, 0x8180, 0, 0, 0, 0).build(), Error::QuestionMismatch},
        {MsgBuilder().header(0x5555, 0x8180, 1, 0, 0, 0).name("www.example.com").build(),
         Error::ShortPacket},
        {{0x55, 0x55, 0x81}, Error::ShortPacket},
    };
    for (const auto& c : cases) {
        const auto r = check_response_matches(c.msg, 0x5555, q);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), c.expected) << to_string(r.error());
    }
}

}  // namespace
}  // namespace dcp::dns
