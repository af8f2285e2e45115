// The order of the rules (dnscrypt-proxy 2's), the replies written here, and the answer filter.
#include "rules/rule_set.hpp"

#include <gtest/gtest.h>

#include "dns/name.hpp"
#include "rules/local_reply.hpp"
#include "unit/dns/dns_builder.hpp"

namespace dcp::rules {
namespace {

constexpr std::uint16_t kA = 1, kCname = 5, kMx = 15, kTxt = 16, kAAAA = 28, kPtr = 12, kHinfo = 13,
                        kSoa = 6;

dns::QueryInfo query(const std::string& name, std::uint16_t type, int opt = -1) {
    const auto wire = test::make_query(name, type, 0x4242, opt);
    return dns::parse_query(wire).value();
}

// The options' defaults for the TTLs (config/options.hpp): 600 s.
PolicySettings policy(bool ipv6, bool unqualified, bool undelegated, std::uint32_t reject_ttl = 600,
                      std::uint32_t cloak_ttl = 600) {
    PolicySettings p;
    p.block_ipv6 = ipv6;
    p.block_unqualified = unqualified;
    p.block_undelegated = undelegated;
    p.reject_ttl = reject_ttl;
    p.cloak_ttl = cloak_ttl;
    return p;
}

RuleSet example_rules(PolicySettings settings = policy(false, false, false)) {
    RuleSet set;
    set.settings = settings;
    Diagnostics d;
    set.blocked_names = parse_name_rules("ads.*\n*.blocked.example.net\n", "b", d);
    set.allowed_names = parse_name_rules("ads.allowed.example.net\n", "a", d);
    set.cloaking = parse_cloaking_rules(
        "cloaked.example.net 192.0.2.7\n"
        "cloaked.example.net 2001:db8::7\n"
        "safe.example.net strict.example.net\n"
        "=only.example.net 192.0.2.8\n",
        "c", true, d);
    set.captive_portals =
        parse_captive_portals("captive.example.net 192.0.2.9, 2001:db8::9\n", "p", d);
    set.forwarding =
        parse_forwarding_rules("lan 192.168.1.1\ncorp.example.net 10.0.0.53:5353\n", "f", d);
    set.blocked_ips = parse_ip_rules("198.51.100.0/24\n", "i", d);
    set.allowed_ips = parse_ip_rules("198.51.100.7\n", "ai", d);
    EXPECT_TRUE(d.empty());
    return set;
}

Verdict verdict(const RuleSet& set, const std::string& name, std::uint16_t type = kA) {
    return set.decide(query(name, type).question).verdict;
}

TEST(RuleSet, Order) {
    const auto set = example_rules(policy(true, true, true));
    EXPECT_EQ(verdict(set, "ads.example.com"), Verdict::Blocked);
    EXPECT_EQ(verdict(set, "x.blocked.example.net"), Verdict::Blocked);
    const auto allowed = set.decide(query("ads.allowed.example.net", kA).question);
    EXPECT_EQ(allowed.verdict, Verdict::Pass);  // allowed overrides blocked
    EXPECT_TRUE(allowed.allowed);
    EXPECT_EQ(verdict(set, "www.example.com", kAAAA), Verdict::BlockedIpv6);
    EXPECT_EQ(verdict(set, "ads.example.com", kAAAA), Verdict::Blocked);  // names first
    EXPECT_EQ(verdict(set, "cloaked.example.net"), Verdict::Cloaked);
    EXPECT_EQ(verdict(set, "www.cloaked.example.net"), Verdict::Cloaked);
    EXPECT_EQ(verdict(set, "cloaked.example.net", kMx), Verdict::Blocked);
    EXPECT_EQ(verdict(set, "cloaked.example.net", kSoa), Verdict::Pass);
    EXPECT_EQ(verdict(set, "safe.example.net"), Verdict::CloakedTarget);
    EXPECT_EQ(set.cloak_target(set.decide(query("safe.example.net", kA).question)),
              "strict.example.net");
    EXPECT_EQ(verdict(set, "only.example.net"), Verdict::Cloaked);
    EXPECT_EQ(verdict(set, "sub.only.example.net"), Verdict::Pass);
    EXPECT_EQ(verdict(set, "captive.example.net"), Verdict::Captive);
    // Captive portal names: every type answered here (other types: an empty NOERROR).
    EXPECT_EQ(verdict(set, "captive.example.net", kTxt), Verdict::Captive);
    // Forwarding comes before the undelegated names ("lan" is one).
    EXPECT_EQ(verdict(set, "printer.lan"), Verdict::Forward);
    EXPECT_EQ(verdict(set, "lan"), Verdict::Forward);
    EXPECT_EQ(set.decide(query("a.corp.example.net", kA).question).index, 1U);
    EXPECT_EQ(verdict(set, "printer"), Verdict::Unqualified);
    EXPECT_EQ(verdict(set, "printer", kMx), Verdict::Pass);
    EXPECT_EQ(verdict(set, "x.local"), Verdict::Undelegated);
    EXPECT_EQ(verdict(set, "10.in-addr.arpa", kPtr), Verdict::Undelegated);
    EXPECT_EQ(verdict(set, "4.3.2.10.in-addr.arpa", kPtr), Verdict::Undelegated);
    EXPECT_EQ(verdict(set, "4.3.2.11.in-addr.arpa", kPtr), Verdict::Pass);
    EXPECT_EQ(verdict(set, "www.example.com"), Verdict::Pass);
    EXPECT_EQ(verdict(set, "."), Verdict::Pass);
}

TEST(RuleSet, NothingConfiguredPassesEverything) {
    const RuleSet set;
    EXPECT_EQ(verdict(set, "ads.example.com"), Verdict::Pass);
    EXPECT_EQ(verdict(set, "printer"), Verdict::Pass);
    EXPECT_EQ(verdict(set, "x.local", kAAAA), Verdict::Pass);
    // But for Firefox's canary, always NXDOMAIN (so that Firefox keeps using this proxy).
    EXPECT_EQ(verdict(set, "use-application-dns.net"), Verdict::Undelegated);
    EXPECT_EQ(verdict(set, "X.Use-Application-DNS.net", kAAAA), Verdict::Undelegated);
    EXPECT_EQ(verdict(set, "xuse-application-dns.net"), Verdict::Pass);
    EXPECT_EQ(verdict(set, "use-application-dns.net.example"), Verdict::Pass);
    EXPECT_EQ(verdict(example_rules(policy(true, true, true)), "use-application-dns.net"),
              Verdict::Undelegated);
}

TEST(RuleSet, CloakTargetsAreFollowedAndNeverLeakABlockedName) {
    RuleSet set;
    Diagnostics d;
    set.cloaking = parse_cloaking_rules(
        "chain1.example chain2.example\nchain2.example 192.0.2.53\n"
        "toblocked.example ads.example.com\nloop1.example loop2.example\n"
        "loop2.example loop1.example\nout.example www.example.org\n",
        "c", false, d);
    set.blocked_names = parse_name_rules("ads.example.com\n", "b", d);
    ASSERT_TRUE(d.empty());
    EXPECT_EQ(verdict(set, "chain1.example"), Verdict::Cloaked);  // chain2's address
    const auto chained = set.decide(query("chain1.example", kA).question);
    EXPECT_TRUE(set.cloaking->entries[chained.index].target.empty());
    EXPECT_EQ(verdict(set, "toblocked.example"), Verdict::Blocked);
    EXPECT_EQ(verdict(set, "out.example"), Verdict::CloakedTarget);
    EXPECT_EQ(set.cloak_target(set.decide(query("out.example", kA).question)), "www.example.org");
    // A loop ends after a few steps and goes upstream, never spins.
    EXPECT_EQ(verdict(set, "loop1.example"), Verdict::CloakedTarget);
}

struct Parsed {
    dns::Layout layout;
    std::vector<dns::Record> answers;
    std::vector<std::uint8_t> wire;
};

Parsed parse(std::vector<std::uint8_t> wire) {
    Parsed p;
    p.wire = std::move(wire);
    p.layout = dns::parse_layout(p.wire).value();
    std::size_t off = p.layout.answer_offset;
    for (int i = 0; i < p.layout.header.ancount; ++i) {
        const auto rr = dns::read_record(p.wire, off).value();
        p.answers.push_back(rr);
        off = rr.end();
    }
    return p;
}

Parsed reply(const RuleSet& set, const std::string& name, std::uint16_t type, int opt = -1) {
    const auto q = query(name, type, opt);
    std::vector<std::uint8_t> out(4096);
    const auto len = set.write_reply(set.decide(q.question), q, out);
    EXPECT_TRUE(len) << name;
    out.resize(len.value_or(0));
    return parse(out);
}

TEST(RuleSet, Replies) {
    const auto set = example_rules(policy(true, false, true, 10, 77));
    auto r = reply(set, "cloaked.example.net", kA);
    EXPECT_EQ(r.layout.header.id, 0x4242);
    EXPECT_EQ(r.layout.header.rcode(), 0);
    ASSERT_EQ(r.answers.size(), 1U);
    EXPECT_EQ(r.answers[0].ttl, 77U);
    EXPECT_EQ(r.wire[r.answers[0].rdata_offset + 3], 7);
    r = reply(set, "cloaked.example.net", kAAAA);  // block_ipv6 comes first
    EXPECT_EQ(r.answers[0].type, kHinfo);
    EXPECT_EQ(r.layout.header.nscount, 1);
    r = reply(set, "captive.example.net", kA);
    ASSERT_EQ(r.answers.size(), 1U);
    EXPECT_EQ(r.wire[r.answers[0].rdata_offset + 3], 9);
    r = reply(set, "7.2.0.192.in-addr.arpa", kPtr);
    ASSERT_EQ(r.answers.size(), 1U);
    dns::Name target;
    ASSERT_TRUE(dns::read_name(r.wire, r.answers[0].rdata_offset, target));
    EXPECT_EQ(target.to_text(), "cloaked.example.net.");
    r = reply(set, "ads.example.com", kA, 1232);
    EXPECT_EQ(r.answers[0].type, kHinfo);
    EXPECT_EQ(r.answers[0].ttl, 10U);
    ASSERT_TRUE(r.layout.opt);  // with the Extended DNS Error "Filtered"
    EXPECT_EQ(r.layout.opt->end - r.layout.opt->offset, 11U + 6U);
    r = reply(set, "x.local", kA);
    EXPECT_EQ(r.layout.header.rcode(), 3);
    EXPECT_FALSE(r.layout.opt);
}

TEST(RuleSet, BlockedResponseChoices) {
    auto set = example_rules();
    set.settings.blocked_response = parse_blocked_response("refused").value();
    EXPECT_EQ(reply(set, "ads.example.com", kA).layout.header.rcode(), 5);
    set.settings.blocked_response = parse_blocked_response("a:192.0.2.66").value();
    auto r = reply(set, "ads.example.com", kA);
    ASSERT_EQ(r.answers.size(), 1U);
    EXPECT_EQ(r.answers[0].type, kA);
    EXPECT_EQ(r.wire[r.answers[0].rdata_offset + 3], 66);
    EXPECT_EQ(reply(set, "ads.example.com", kAAAA).answers[0].type, kHinfo);
}

TEST(RuleSet, AnswerFilter) {
    const auto set = example_rules();
    const auto with_a = [](std::uint8_t last) {
        return test::MsgBuilder()
            .header(1, 0x8180, 1, 1, 0, 0)
            .question("www.example", kA)
            .record_at(12, kA, 60, {198, 51, 100, last})
            .build();
    };
    EXPECT_EQ(set.check_answer(with_a(1)), AnswerVerdict::BlockedIp);
    EXPECT_EQ(set.check_answer(with_a(7)), AnswerVerdict::Pass);  // allowed_ips
    // The same IPv4 address mapped into IPv6 (::ffff:198.51.100.1) is matched as IPv4.
    const auto mapped =
        test::MsgBuilder()
            .header(1, 0x8180, 1, 1, 0, 0)
            .question("www.example", kAAAA)
            .record_at(12, kAAAA, 60, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 1})
            .build();
    EXPECT_EQ(set.check_answer(mapped), AnswerVerdict::BlockedIp);
    const auto cname = test::MsgBuilder()
                           .header(1, 0x8180, 1, 2, 0, 0)
                           .question("www.example", kA)
                           .record_at(12, kCname, 60, {3, 'a', 'd', 's', 3, 'c', 'o', 'm', 0})
                           .record("ads.com", kA, 60, {192, 0, 2, 1})
                           .build();
    EXPECT_EQ(set.check_answer(cname), AnswerVerdict::BlockedName);
    const std::uint8_t garbage[] = {0xff, 0xff};
    EXPECT_EQ(set.check_answer(Bytes(garbage, 2)), AnswerVerdict::Malformed);
    // A blocked address followed by a trailing byte, or a second OPT: unreadable as a whole, so
    // never passed unchecked.
    auto trailing = with_a(1);
    trailing.push_back(0);
    EXPECT_EQ(set.check_answer(trailing), AnswerVerdict::Malformed);
    const auto two_opts = test::MsgBuilder()
                              .header(1, 0x8180, 1, 1, 0, 2)
                              .question("www.example", kA)
                              .record_at(12, kA, 60, {198, 51, 100, 1})
                              .opt(1232)
                              .opt(1232)
                              .build();
    EXPECT_EQ(set.check_answer(two_opts), AnswerVerdict::Malformed);
}

TEST(RuleSet, FlattenedAnswerIsOwnedByTheQuestion) {
    const auto q = query("safe.example.net", kA);
    const auto answer = test::MsgBuilder()
                            .header(1, 0x8180, 1, 3, 0, 0)
                            .question("strict.example.net", kA)
                            .record_at(12, kCname, 300, {1, 'x', 0})
                            .record("x", kA, 300, {192, 0, 2, 1})
                            .record("x", kA, 5000, {192, 0, 2, 2})
                            .build();
    std::vector<std::uint8_t> out(1024);
    const auto len = write_flattened(q, answer, 600, out);
    ASSERT_TRUE(len);
    out.resize(*len);
    const auto r = parse(out);
    EXPECT_EQ(r.layout.header.id, 0x4242);
    ASSERT_EQ(r.answers.size(), 2U);
    EXPECT_EQ(r.answers[0].ttl, 300U);
    EXPECT_EQ(r.answers[1].ttl, 600U);  // capped at cloak_ttl
    dns::Name owner;
    ASSERT_TRUE(dns::read_name(r.wire, r.answers[0].offset, owner));
    EXPECT_EQ(owner.to_text(), "safe.example.net.");
}

TEST(RuleSet, RepliesThatDoNotFitFail) {
    const auto set = example_rules();
    const auto q = query("cloaked.example.net", kA);
    std::vector<std::uint8_t> out(20);
    EXPECT_FALSE(set.write_reply(set.decide(q.question), q, out));
}

}  // namespace
}  // namespace dcp::rules
