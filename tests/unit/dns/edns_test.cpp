#include "dns/edns.hpp"

#include <gtest/gtest.h>

#include <array>

#include "unit/dns/dns_builder.hpp"

namespace dcp::dns {
namespace {

using test::make_query;
using test::MsgBuilder;

struct Applied {
    std::vector<std::uint8_t> msg;
    EdnsDecision decision;
};

Applied apply_policy(const std::vector<std::uint8_t>& query, std::uint16_t configured) {
    std::array<std::uint8_t, 1024> buf{};
    std::copy(query.begin(), query.end(), buf.begin());
    // A helper cannot ASSERT: it reports the failure and returns, never dereferences an error.
    const auto info = parse_query(query);
    if (!info) {
        ADD_FAILURE() << "not a query: " << to_string(info.error());
        return {};
    }
    const auto d = apply_edns_payload_policy(buf, *info, configured);
    if (!d) {
        ADD_FAILURE() << "policy failed: " << to_string(d.error());
        return {};
    }
    return {std::vector<std::uint8_t>(buf.begin(), buf.begin() + static_cast<long>(d->size)), *d};
}

TEST(Edns, AddsOptWithConfiguredSizeWhenClientSentNone) {
    const auto query = make_query("example.com", 1);
    const auto a = apply_policy(query, kDefaultEdnsPayloadSize);
    EXPECT_TRUE(a.decision.opt_added);
    EXPECT_EQ(a.decision.advertised_payload, 1280);
    EXPECT_EQ(a.msg.size(), query.size() + kEmptyOptSize);
    const auto info = parse_query(a.msg);
    ASSERT_TRUE(info);
    ASSERT_TRUE(info->opt);
    EXPECT_EQ(info->opt->udp_payload, 1280);
    EXPECT_EQ(info->opt->version, 0);
    EXPECT_FALSE(info->opt->dnssec_ok());
    EXPECT_EQ(info->header.arcount, 1);
    // The original query is untouched before the appended record.
    EXPECT_TRUE(std::equal(query.begin() + 12, query.end(), a.msg.begin() + 12));
}

TEST(Edns, KeepsTheClientsOpt) {
    for (const int client : {512, 1232, 4096}) {
        const auto query = make_query("example.com", 1, 1, client);
        const auto a = apply_policy(query, 4096);
        EXPECT_FALSE(a.decision.opt_added);
        EXPECT_EQ(a.decision.advertised_payload, client);
        EXPECT_EQ(a.msg, query);
    }
}

TEST(Edns, SmallConfiguredSizeAddsNothing) {
    for (const int c : {0, 100, 511, 512}) {
        const auto configured = static_cast<std::uint16_t>(c);
        const auto query = make_query("example.com", 1);
        const auto a = apply_policy(query, configured);
        EXPECT_FALSE(a.decision.opt_added);
        EXPECT_EQ(a.decision.advertised_payload, 512);  // no OPT: 512
        EXPECT_EQ(a.msg, query);
        const auto with_opt = make_query("example.com", 1, 1, 1400);
        EXPECT_EQ(apply_policy(with_opt, configured).msg, with_opt);  // the client's is kept
    }
    EXPECT_TRUE(apply_policy(make_query("example.com", 1), 513).decision.opt_added);
}

TEST(Edns, AddedOptKeepsExistingAdditionalRecords) {
    // A query with a (TSIG-like) additional record but no OPT.
    const auto query = MsgBuilder()
                           .header(3, 0x0100, 1, 0, 0, 1)
                           .question("example.com", 1)
                           .record("key.example", 250, 0, {1, 2, 3})
                           .build();
    const auto a = apply_policy(query, 1232);
    EXPECT_TRUE(a.decision.opt_added);
    const auto l = parse_layout(a.msg);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->header.arcount, 2);
    ASSERT_TRUE(l->opt);
    EXPECT_EQ(l->opt->udp_payload, 1232);
}

TEST(Edns, NoSpaceIsAnError) {
    const auto query = make_query("example.com", 1);
    std::vector<std::uint8_t> buf(query.begin(), query.end());
    buf.resize(query.size() + kEmptyOptSize - 1);
    const auto info = parse_query(query);
    ASSERT_TRUE(info);
    const auto d = apply_edns_payload_policy(buf, *info, 1232);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error(), Error::NoSpace);
}

TEST(Edns, SetPayloadInPlace) {
    auto query = make_query("example.com", 1, 1, 512);
    const auto info = parse_query(query);
    ASSERT_TRUE(info && info->opt);
    set_opt_udp_payload(query, *info->opt, 3000);
    const auto again = parse_query(query);
    ASSERT_TRUE(again && again->opt);
    EXPECT_EQ(again->opt->udp_payload, 3000);
}

TEST(Edns, RemoveOptFromTheMiddleOfTheAdditionalSection) {
    auto b = MsgBuilder().header(4, 0x8180, 1, 1, 0, 2).question("example.com", 1);
    b.record_at(12, 1, 60, {192, 0, 2, 1});
    b.opt(1232, 0x8000, {0, 12, 0, 2, 0, 0});
    b.record("x.example.com", 1, 60, {192, 0, 2, 9});
    auto msg = b.build();
    const auto before = msg.size();
    const auto len = remove_opt(msg, msg.size());
    ASSERT_TRUE(len);
    EXPECT_EQ(*len, before - (kEmptyOptSize + 6));
    const auto l = parse_layout(Bytes(msg).first(*len));
    ASSERT_TRUE(l);
    EXPECT_FALSE(l->opt);
    EXPECT_EQ(l->header.arcount, 1);
    EXPECT_EQ(l->header.ancount, 1);
}

TEST(Edns, RemoveOptWithoutOptIsANoOp) {
    auto msg = MsgBuilder().header(4, 0x8180, 1, 0, 0, 0).question("example.com", 1).build();
    const auto copy = msg;
    const auto len = remove_opt(msg, msg.size());
    ASSERT_TRUE(len);
    EXPECT_EQ(*len, copy.size());
    EXPECT_EQ(msg, copy);
}

TEST(Edns, RemoveOptRejectsMalformed) {
    auto msg = MsgBuilder().header(4, 0x8180, 1, 3, 0, 0).question("example.com", 1).build();
    EXPECT_FALSE(remove_opt(msg, msg.size()));
}

TEST(HasEdnsOption, FindsTheCodeAndTreatsAMalformedListAsCarryingIt) {
    const auto with = [](const std::vector<std::uint8_t>& options) {
        return test::MsgBuilder()
            .header(1, 0x0100, 1, 0, 0, 1)
            .question("a.test", 1)
            .opt(1232, 0, options)
            .build();
    };
    const std::vector<std::uint8_t> padding_then_ecs = {0, 12, 0, 2, 0, 0, 0, 8, 0, 4, 0, 1, 0, 0};
    const std::vector<std::uint8_t> padding = {0, 12, 0, 2, 0, 0};
    const std::vector<std::uint8_t> cut = {0, 12, 0, 9, 0, 0};  // says 9 bytes, has 2
    const std::vector<std::uint8_t> short_header = {0, 12, 0};
    for (const auto& [options, expected] :
         std::vector<std::pair<std::vector<std::uint8_t>, bool>>{{{}, false},
                                                                 {padding, false},
                                                                 {padding_then_ecs, true},
                                                                 {cut, true},
                                                                 {short_header, true}}) {
        const auto msg = with(options);
        const auto q = parse_query(msg);
        ASSERT_TRUE(q);
        ASSERT_TRUE(q->opt);
        EXPECT_EQ(has_edns_option(msg, *q->opt, kEdnsOptionClientSubnet), expected)
            << options.size();
    }
}

}  // namespace
}  // namespace dcp::dns
