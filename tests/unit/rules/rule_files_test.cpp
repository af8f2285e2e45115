// The rule files of dnscrypt-proxy 2 (its own examples, copied into
// tests/data/dnscrypt-proxy-v2-examples from shared/data/dnscrypt-proxy-v2-examples) and what each
// line means.
#include "rules/rule_files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "dns/name.hpp"
#include "rules/rule_set.hpp"
#include "rules/schedule.hpp"

namespace dcp::rules {
namespace {

std::string example(const std::string& name) {
    std::ifstream in(std::string(DCP_TEST_DATA_DIR) + "/dnscrypt-proxy-v2-examples/" + name);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

bool matches(const NameMatcher& m, const char* name) {
    return m.match(LookupName::from_text(name)).has_value();
}

TEST(RuleFiles, CommentsAreStripped) {
    EXPECT_EQ(strip_line("  ads.*   # trailing"), "ads.*");
    EXPECT_EQ(strip_line("# whole line"), "");
    EXPECT_EQ(strip_line("a#b"), "a#b");  // '#' must follow a blank to start a comment
    EXPECT_EQ(strip_line("\t\r"), "");
}

TEST(RuleFiles, ExampleBlockedNames) {
    Diagnostics d;
    const auto rules = parse_name_rules(example("example-blocked-names.txt"), "blocked", d);
    EXPECT_TRUE(d.empty()) << d.front().to_string();
    EXPECT_EQ(rules.matcher.size(), 14U);
    EXPECT_TRUE(matches(rules.matcher, "ads.example.com"));
    EXPECT_TRUE(matches(rules.matcher, "oascentral.example.com"));  // inline comment stripped
    EXPECT_TRUE(matches(rules.matcher, "printer.local"));
    EXPECT_TRUE(matches(rules.matcher, "eth0.me"));
    EXPECT_TRUE(matches(rules.matcher, "pc.workgroup"));
    EXPECT_FALSE(matches(rules.matcher, "example.com"));
    EXPECT_FALSE(matches(rules.matcher, "mask.icloud.com"));  // commented out
    EXPECT_FALSE(matches(rules.matcher, "www.youtube.com"));  // time-based, commented out
}

TEST(RuleFiles, ScheduledRulesWithoutTheirScheduleAreSkipped) {
    Diagnostics d;
    const auto rules =
        parse_name_rules("ads.*\n*.youtube.* @time-to-sleep\nfacebook.com @work\n", "f", d);
    EXPECT_EQ(rules.matcher.size(), 1U);
    EXPECT_EQ(rules.skipped_scheduled, 2U);
    ASSERT_EQ(d.size(), 2U);
    EXPECT_EQ(d[0].line, 2U);
    EXPECT_NE(d[0].message.find("no schedule named 'time-to-sleep'"), std::string::npos);
    EXPECT_FALSE(rules.timed());
}

TEST(Schedules, RangesAsDnscryptProxy2ReadsThem) {
    WeeklySchedule s;
    s.days[1] = {{parse_clock("21:00").value(), parse_clock("7:00").value()}};  // Monday
    s.days[2] = {{parse_clock("9:00").value(), parse_clock("18:00").value()}};  // Tuesday
    s.days[3] = {{parse_clock("0:00").value(), parse_clock("00:00").value()}};  // all day
    const auto at = [](int day, const char* clock) {
        return LocalTime{static_cast<std::uint8_t>(day), parse_clock(clock).value()};
    };
    EXPECT_TRUE(s.active(at(1, "22:30")));
    EXPECT_TRUE(s.active(at(1, "6:59")));
    EXPECT_TRUE(s.active(at(1, "7:00")));  // both ends included
    EXPECT_FALSE(s.active(at(1, "7:01")));
    EXPECT_FALSE(s.active(at(1, "12:00")));
    EXPECT_TRUE(s.active(at(2, "9:00")));
    EXPECT_FALSE(s.active(at(2, "18:01")));
    EXPECT_TRUE(s.active(at(3, "13:37")));
    EXPECT_FALSE(s.active(at(0, "13:37")));  // no ranges on Sunday
    EXPECT_FALSE(parse_clock("24:00"));
    EXPECT_FALSE(parse_clock("7"));
    EXPECT_FALSE(parse_clock("7:5x"));
    EXPECT_EQ(weekday_index("sun"), 0);
    EXPECT_EQ(weekday_index("sat"), 6);
    EXPECT_EQ(weekday_index("monday"), -1);
}

TEST(Schedules, TimeRestrictedRulesApplyWithinTheirSchedule) {
    Schedules schedules;
    schedules["night"].days[1] = {{21 * 60, 7 * 60}};
    schedules["never"];
    RuleSet set;
    Diagnostics d;
    set.blocked_names = parse_name_rules(
        "a.example.com @night\nb.example.com @ never\nc.example.com\nd.example.com @gone\n", "b", d,
        &schedules);
    set.allowed_names = parse_name_rules("=c.example.com @night\n", "a", d, &schedules);
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(d[0].line, 4U);
    EXPECT_TRUE(set.needs_time());
    const auto verdict = [&](const char* name, LocalTime now) {
        dns::Question q;
        q.name = dns::encode_name(name).value();
        q.qtype = 1;
        q.qclass = 1;
        return set.decide(q, now).verdict;
    };
    const LocalTime monday_night{1, 22 * 60}, monday_noon{1, 12 * 60}, tuesday_night{2, 22 * 60};
    EXPECT_EQ(verdict("a.example.com", monday_night), Verdict::Blocked);
    EXPECT_EQ(verdict("a.example.com", monday_noon), Verdict::Pass);
    EXPECT_EQ(verdict("a.example.com", tuesday_night), Verdict::Pass);
    EXPECT_EQ(verdict("b.example.com", monday_night), Verdict::Pass);  // an empty schedule
    // c is blocked at all times but allowed at night.
    EXPECT_EQ(verdict("c.example.com", monday_noon), Verdict::Blocked);
    EXPECT_EQ(verdict("c.example.com", monday_night), Verdict::Pass);
}

TEST(RuleFiles, BadLinesAreReportedWithTheirNumberAndSkipped) {
    Diagnostics d;
    const auto rules =
        parse_name_rules("good.example\n*\nbad[.example\nalso.good\n", "list.txt", d);
    EXPECT_EQ(rules.matcher.size(), 2U);
    ASSERT_EQ(d.size(), 2U);
    EXPECT_EQ(d[0].line, 2U);
    EXPECT_EQ(d[1].line, 3U);
    EXPECT_EQ(d[1].to_string().rfind("list.txt line 3: ", 0), 0U);
}

TEST(RuleFiles, ExampleAllowedNames) {
    Diagnostics d;
    const auto rules = parse_name_rules(example("example-allowed-names.txt"), "allowed", d);
    EXPECT_TRUE(d.empty());
    EXPECT_TRUE(matches(rules.matcher, "tracker.debian.org"));
    EXPECT_TRUE(matches(rules.matcher, "www.googleadservices.com"));
    EXPECT_FALSE(matches(rules.matcher, "debian.org"));
}

TEST(RuleFiles, ExampleIps) {
    Diagnostics d;
    const auto blocked = parse_ip_rules(example("example-blocked-ips.txt"), "ips", d);
    EXPECT_TRUE(d.empty()) << d.front().to_string();
    const auto& m = blocked.matcher;
    EXPECT_EQ(m.size(), 5U);
    const std::uint8_t a[] = {163, 5, 1, 4}, b[] = {94, 46, 118, 7}, c[] = {10, 1, 2, 3},
                       e[] = {11, 0, 0, 1}, f[] = {94, 46, 119, 7};
    EXPECT_TRUE(m.match(a));
    EXPECT_TRUE(m.match(b));
    EXPECT_TRUE(m.match(c));
    EXPECT_FALSE(m.match(e));
    EXPECT_FALSE(m.match(f));
    std::uint8_t v6[16] = {0xfe, 0x80, 0, 0x53};  // fe80:53::
    EXPECT_TRUE(m.match(v6));
    std::uint8_t v6b[16] = {0xfe, 0xbf, 0, 1};  // in fe80::/10
    EXPECT_TRUE(m.match(v6b));
    std::uint8_t v6c[16] = {0xfe, 0xc0};  // outside it
    EXPECT_FALSE(m.match(v6c));
    Diagnostics d2;
    const auto allowed = parse_ip_rules(example("example-allowed-ips.txt"), "allowed", d2);
    EXPECT_TRUE(allowed.matcher.empty());  // every line is commented out
    Diagnostics d3;
    (void)parse_ip_rules("300.1.2.3\n10.0.0.0/40\nnot-an-ip\n1.2.3.x*\n", "bad", d3);
    EXPECT_EQ(d3.size(), 4U);
}

TEST(RuleFiles, ExampleCloakingRules) {
    Diagnostics d;
    const auto rules = parse_cloaking_rules(example("example-cloaking-rules.txt"), "cloak",
                                            /*create_ptr=*/true, d);
    EXPECT_TRUE(d.empty()) << d.front().to_string();
    const auto find = [&](const char* name) -> const CloakEntry* {
        const auto m = rules.matcher.match(LookupName::from_text(name));
        return m ? &rules.entries[m->value] : nullptr;
    };
    ASSERT_NE(find("www.google.fr"), nullptr);
    EXPECT_EQ(find("www.google.fr")->target, "forcesafesearch.google.com");
    ASSERT_NE(find("localhost"), nullptr);
    EXPECT_EQ(find("localhost")->ipv4.size(), 1U);
    EXPECT_EQ(find("localhost")->ipv6.size(), 1U);
    EXPECT_EQ(find("yandex.ru")->target, "familysearch.yandex.ru");
    EXPECT_EQ(find("www.yandex.ru"), nullptr);  // '=': that name only
    ASSERT_NE(find("1.0.0.127.in-addr.arpa"), nullptr);
    EXPECT_EQ(find("1.0.0.127.in-addr.arpa")->ptr, std::vector<std::string>{"localhost"});
    ASSERT_NE(find("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"),
              nullptr);
}

TEST(RuleFiles, CloakingSyntaxErrors) {
    Diagnostics d;
    const auto rules = parse_cloaking_rules(
        "a.example\nb.example 1.2.3.4 5.6.7.8\n"
        "self.example self.example\n",
        "c", false, d);
    EXPECT_EQ(d.size(), 3U);
}

TEST(RuleFiles, ExampleCaptivePortals) {
    Diagnostics d;
    const auto rules = parse_captive_portals(example("example-captive-portals.txt"), "cp", d);
    EXPECT_TRUE(d.empty()) << d.front().to_string();
    const auto m = rules.matcher.match(LookupName::from_text("www.msftncsi.com"));
    ASSERT_TRUE(m);
    EXPECT_EQ(rules.entries[m->value].ipv4.size(), 19U);
    const auto dns = rules.matcher.match(LookupName::from_text("dns.msftncsi.com"));
    ASSERT_TRUE(dns);
    EXPECT_EQ(rules.entries[dns->value].ipv6.size(), 1U);
    EXPECT_FALSE(rules.matcher.match(LookupName::from_text("x.captive.apple.com")));
}

TEST(RuleFiles, ForwardingRules) {
    Diagnostics d;
    const auto rules = parse_forwarding_rules(
        example("example-forwarding-rules.txt") +
            "lan 192.168.1.1\nexample.com 9.9.9.9,8.8.8.8\nipv6.example.com [2001:DB8::42]\n"
            "x.example.com 192.168.0.1:1053\ny.example.com [2001:DB8::42]:1053\n"
            "local $DHCP\ninternal 192.168.1.1,$DHCP,$BOOTSTRAP\nonion 127.0.0.1:99999\n"
            "example.org $PROXY:9.9.9.9\nnames.example ns.example\n",
        "fw", d);
    ASSERT_EQ(rules.rules.size(), 6U);
    EXPECT_EQ(rules.rules[1].servers.size(), 2U);
    EXPECT_EQ(rules.rules[2].servers[0].host, "2001:DB8::42");
    EXPECT_EQ(rules.rules[3].servers[0].port, 1053);
    EXPECT_EQ(rules.rules[4].servers[0].port, 1053);
    EXPECT_EQ(rules.rules[5].servers.size(), 1U);  // $DHCP and $BOOTSTRAP dropped
    // $DHCP alone (2 lines), $DHCP and $BOOTSTRAP, the bad port (2), $PROXY, a name (2).
    EXPECT_EQ(d.size(), 9U);
    const auto m = rules.matcher.match(LookupName::from_text("host.x.example.com"));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->value, 3U);
}

TEST(RuleFiles, ReverseNames) {
    const std::uint8_t v4[] = {192, 0, 2, 1};
    EXPECT_EQ(reverse_name(v4), "1.2.0.192.in-addr.arpa");
    std::uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
    v6[15] = 0x1;
    EXPECT_EQ(reverse_name(v6),
              "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

TEST(RuleFiles, BlockedResponseSetting) {
    EXPECT_EQ(parse_blocked_response("refused")->kind, BlockedResponse::Kind::Refused);
    EXPECT_EQ(parse_blocked_response("hinfo")->kind, BlockedResponse::Kind::Hinfo);
    const auto a = parse_blocked_response("a:192.0.2.1,aaaa:2001:db8::1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, BlockedResponse::Kind::Address);
    EXPECT_EQ((*a->a)[3], 1);
    EXPECT_TRUE(a->aaaa);
    EXPECT_FALSE(parse_blocked_response("nxdomain"));
    EXPECT_FALSE(parse_blocked_response("a:300.1.1.1"));
    // Any case, as dnscrypt-proxy 2 reads it.
    EXPECT_EQ(parse_blocked_response("REFUSED")->kind, BlockedResponse::Kind::Refused);
    const auto upper = parse_blocked_response("A:192.0.2.252,AAAA:2001:DB8::252");
    ASSERT_TRUE(upper);
    EXPECT_EQ((*upper->a)[3], 252);
    EXPECT_EQ((*upper->aaaa)[15], 0x52);
}

}  // namespace
}  // namespace dcp::rules
