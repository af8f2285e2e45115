#include "rules/rule_set.hpp"

#include <algorithm>
#include <cctype>

#include <arpa/inet.h>

#include "dns/constants.hpp"
#include "dns/name.hpp"
#include "rules/local_reply.hpp"
#include "rules/text.hpp"

namespace dcp::rules {
namespace {

constexpr auto kTypeA = static_cast<std::uint16_t>(dns::RecordType::A);
constexpr auto kTypeAAAA = static_cast<std::uint16_t>(dns::RecordType::AAAA);
constexpr auto kTypeCname = static_cast<std::uint16_t>(dns::RecordType::CNAME);
constexpr auto kTypeNs = static_cast<std::uint16_t>(dns::RecordType::NS);
constexpr auto kTypeSoa = static_cast<std::uint16_t>(dns::RecordType::SOA);
constexpr std::uint16_t kTypePtr = 12;
constexpr auto kClassIn = static_cast<std::uint16_t>(dns::RecordClass::IN);

// Private and special-use reverse zones (RFC 6303: RFC 1918, link-local, loopback, this
// network, broadcast, documentation; IPv6 unspecified, loopback, ULA, link-local, documentation),
// special-use names that must never leave the machine, as dnscrypt-proxy 2 answers them (RFC 6761
// with localhost, whose hosts-file answer comes first; RFC 8375 home.arpa, which forwarding rules,
// checked before these, still serve; RFC 7686 onion: caching servers MUST answer negatively;
// RFC 9476 alt) and the names home routers and corporate networks use locally (fritz.box...).
constexpr std::string_view kUndelegated[] = {
    "0.in-addr.arpa",
    "10.in-addr.arpa",
    "127.in-addr.arpa",
    "254.169.in-addr.arpa",
    "16.172.in-addr.arpa",
    "17.172.in-addr.arpa",
    "18.172.in-addr.arpa",
    "19.172.in-addr.arpa",
    "20.172.in-addr.arpa",
    "21.172.in-addr.arpa",
    "22.172.in-addr.arpa",
    "23.172.in-addr.arpa",
    "24.172.in-addr.arpa",
    "25.172.in-addr.arpa",
    "26.172.in-addr.arpa",
    "27.172.in-addr.arpa",
    "28.172.in-addr.arpa",
    "29.172.in-addr.arpa",
    "30.172.in-addr.arpa",
    "31.172.in-addr.arpa",
    "168.192.in-addr.arpa",
    "2.0.192.in-addr.arpa",
    "100.51.198.in-addr.arpa",
    "113.0.203.in-addr.arpa",
    "255.255.255.255.in-addr.arpa",
    // 100.64.0.0/10 (RFC 6598 shared address space): 64 to 127
    "64.100.in-addr.arpa",
    "65.100.in-addr.arpa",
    "66.100.in-addr.arpa",
    "67.100.in-addr.arpa",
    "68.100.in-addr.arpa",
    "69.100.in-addr.arpa",
    "70.100.in-addr.arpa",
    "71.100.in-addr.arpa",
    "72.100.in-addr.arpa",
    "73.100.in-addr.arpa",
    "74.100.in-addr.arpa",
    "75.100.in-addr.arpa",
    "76.100.in-addr.arpa",
    "77.100.in-addr.arpa",
    "78.100.in-addr.arpa",
    "79.100.in-addr.arpa",
    "80.100.in-addr.arpa",
    "81.100.in-addr.arpa",
    "82.100.in-addr.arpa",
    "83.100.in-addr.arpa",
    "84.100.in-addr.arpa",
    "85.100.in-addr.arpa",
    "86.100.in-addr.arpa",
    "87.100.in-addr.arpa",
    "88.100.in-addr.arpa",
    "89.100.in-addr.arpa",
    "90.100.in-addr.arpa",
    "91.100.in-addr.arpa",
    "92.100.in-addr.arpa",
    "93.100.in-addr.arpa",
    "94.100.in-addr.arpa",
    "95.100.in-addr.arpa",
    "96.100.in-addr.arpa",
    "97.100.in-addr.arpa",
    "98.100.in-addr.arpa",
    "99.100.in-addr.arpa",
    "100.100.in-addr.arpa",
    "101.100.in-addr.arpa",
    "102.100.in-addr.arpa",
    "103.100.in-addr.arpa",
    "104.100.in-addr.arpa",
    "105.100.in-addr.arpa",
    "106.100.in-addr.arpa",
    "107.100.in-addr.arpa",
    "108.100.in-addr.arpa",
    "109.100.in-addr.arpa",
    "110.100.in-addr.arpa",
    "111.100.in-addr.arpa",
    "112.100.in-addr.arpa",
    "113.100.in-addr.arpa",
    "114.100.in-addr.arpa",
    "115.100.in-addr.arpa",
    "116.100.in-addr.arpa",
    "117.100.in-addr.arpa",
    "118.100.in-addr.arpa",
    "119.100.in-addr.arpa",
    "120.100.in-addr.arpa",
    "121.100.in-addr.arpa",
    "122.100.in-addr.arpa",
    "123.100.in-addr.arpa",
    "124.100.in-addr.arpa",
    "125.100.in-addr.arpa",
    "126.100.in-addr.arpa",
    "127.100.in-addr.arpa",
    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
    "d.f.ip6.arpa",
    "8.e.f.ip6.arpa",
    "9.e.f.ip6.arpa",
    "a.e.f.ip6.arpa",
    "b.e.f.ip6.arpa",
    "f.f.ip6.arpa",
    "8.b.d.0.1.0.0.2.ip6.arpa",
    "test",
    "invalid",
    "example",
    "local",
    "localdomain",
    "lan",
    "home",
    "corp",
    "internal",
    "intra",
    "priv",
    "prv",
    "workgroup",
    "localnet",
    "domain",
    "router",
    "modem",
    "dhcp",
    "grp",
    "loc",
    "mynet",
    "myrouter",
    "novalocal",
    "openstacklocal",
    "belkin",
    "dlink",
    "totolink",
    "telus",
    "hub",
    "bbrouter",
    "api",
    "home.arpa",
    "onion",
    "alt",
    "fritz.box",
    "mail",
    "localhost",
};

const StringTable& undelegated_table() {
    static const StringTable table = [] {
        StringTable t;
        for (const auto z : kUndelegated) t.insert(z, 0);
        return t;
    }();
    return table;
}

bool parse_ip(std::string_view text, int family, std::uint8_t* out) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (text.size() >= sizeof buf) return false;
    text.copy(buf, text.size());
    return inet_pton(family, buf, out) == 1;
}

}  // namespace

bool is_undelegated(const LookupName& name) {
    const auto& table = undelegated_table();
    for (std::size_t i = 0; i < name.labels(); ++i) {
        if (table.find(name.suffix(i)) != nullptr) return true;
    }
    return false;
}

dcp::Result<BlockedResponse, std::string> parse_blocked_response(std::string_view given) {
    // Any case, as dnscrypt-proxy 2 reads it ('A:192.0.2.1,AAAA:2001:db8::1', 'REFUSED').
    std::string lowered(given);
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view text = lowered;
    BlockedResponse out;
    if (text == "refused") {
        out.kind = BlockedResponse::Kind::Refused;
        return out;
    }
    if (text == "hinfo") return out;
    out.kind = BlockedResponse::Kind::Address;
    while (!text.empty()) {
        const auto comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item.starts_with("a:")) {
            std::array<std::uint8_t, 4> a{};
            if (!parse_ip(item.substr(2), AF_INET, a.data())) {
                return Unexpected(concat({"'", item, "' is not a:<IPv4 address>"}));
            }
            out.a = a;
        } else if (item.starts_with("aaaa:")) {
            std::array<std::uint8_t, 16> aaaa{};
            if (!parse_ip(item.substr(5), AF_INET6, aaaa.data())) {
                return Unexpected(concat({"'", item, "' is not aaaa:<IPv6 address>"}));
            }
            out.aaaa = aaaa;
        } else {
            return Unexpected(
                concat({"'", item, "': expected 'refused', 'hinfo' or 'a:<IPv4>,aaaa:<IPv6>'"}));
        }
    }
    if (!out.a && !out.aaaa) return Unexpected(std::string("no address given"));
    return out;
}

namespace {

// A match of a rule that applies now.
bool matches_now(const std::optional<NameRules>& rules, const LookupName& name, LocalTime now) {
    if (!rules) return false;
    const auto m = rules->matcher.match(name);
    return m && rules->applies(m->value, now);
}

}  // namespace

bool is_firefox_canary(const dns::Name& name) {
    // use-application-dns.net or a name below it, in any case, from the wire form's end.
    static constexpr std::string_view kTail = "\x13use-application-dns\x03net";
    const Bytes wire = name.wire();
    if (wire.size() < kTail.size() + 1) return false;
    const std::size_t at = wire.size() - 1 - kTail.size();
    for (std::size_t i = 0; i < kTail.size(); ++i) {
        const auto c = static_cast<unsigned char>(wire[at + i]);
        if (std::tolower(c) != static_cast<unsigned char>(kTail[i])) return false;
    }
    // Its first label, or a whole label of a longer name (not "xuse-application-dns.net").
    std::size_t pos = 0;
    while (pos < at) pos += std::size_t{1} + wire[pos];
    return pos == at;
}

void RuleSet::follow_cloak_target(Decision& d, LocalTime now) const {
    // A target that is itself cloaked is followed (dnscrypt-proxy 2 does), a few steps at most
    // (a loop ends there and goes upstream); a target that is blocked gets the blocked
    // response, never its real address.
    d.verdict = Verdict::CloakedTarget;
    for (int step = 0; step < 8; ++step) {
        const auto target = LookupName::from_text(cloaking->entries[d.index].target);
        if (!d.allowed && !matches_now(allowed_names, target, now) &&
            matches_now(blocked_names, target, now)) {
            d.verdict = Verdict::Blocked;
            return;
        }
        const auto next = cloaking->matcher.match(target);
        if (!next) return;
        d.index = next->value;
        if (cloaking->entries[d.index].target.empty()) {
            d.verdict = Verdict::Cloaked;
            return;
        }
    }
}

Decision RuleSet::decide(const dns::Question& q, LocalTime now) const {
    Decision d;
    const bool ipv6_blocked = settings.block_ipv6 && q.qtype == kTypeAAAA && q.qclass == kClassIn;
    const bool any_name_rules = blocked_names || allowed_names || cloaking || captive_portals ||
                                forwarding || settings.block_unqualified ||
                                settings.block_undelegated;
    if (!any_name_rules) {  // no name to look at: spare building it
        if (is_firefox_canary(q.name)) {
            d.verdict = Verdict::Undelegated;
        } else if (ipv6_blocked) {
            d.verdict = Verdict::BlockedIpv6;
        }
        return d;
    }
    const auto name = LookupName::from_wire(q.name.wire());
    // Connectivity checks first (dnscrypt-proxy 2's order): an OS asking them behind a captive
    // portal must get the map's answer whatever the block lists say.
    if (captive_portals && q.qclass == kClassIn) {
        if (const auto m = captive_portals->matcher.match(name)) {
            d.verdict = Verdict::Captive;
            d.index = m->value;
            return d;
        }
    }
    if (matches_now(allowed_names, name, now)) d.allowed = true;
    if (!d.allowed && matches_now(blocked_names, name, now)) {
        d.verdict = Verdict::Blocked;
        return d;
    }
    if (ipv6_blocked) {
        d.verdict = Verdict::BlockedIpv6;
        return d;
    }
    if (cloaking && q.qclass == kClassIn && q.qtype != kTypeNs && q.qtype != kTypeSoa) {
        if (const auto m = cloaking->matcher.match(name)) {
            d.index = m->value;
            const auto& e = cloaking->entries[m->value];
            if (q.qtype != kTypeA && q.qtype != kTypeAAAA && q.qtype != kTypePtr) {
                d.verdict = Verdict::Blocked;  // as dnscrypt-proxy 2: other types are refused
            } else if (!e.target.empty() && q.qtype != kTypePtr) {
                follow_cloak_target(d, now);
            } else {
                d.verdict = Verdict::Cloaked;
            }
            return d;
        }
    }
    // Firefox's canary (use-application-dns.net): NXDOMAIN tells it to keep using the system's
    // resolver, this proxy, instead of its own DoH. dnscrypt-proxy 2 always answers it so.
    if (is_firefox_canary(q.name)) {
        d.verdict = Verdict::Undelegated;
        return d;
    }
    if (forwarding) {
        if (const auto m = forwarding->matcher.match(name)) {
            d.verdict = Verdict::Forward;
            d.index = m->value;
            return d;
        }
    }
    if (settings.block_unqualified && q.qclass == kClassIn &&
        (q.qtype == kTypeA || q.qtype == kTypeAAAA) && name.labels() == 1 && name.text() != ".") {
        d.verdict = Verdict::Unqualified;
        return d;
    }
    if (settings.block_undelegated && is_undelegated(name)) d.verdict = Verdict::Undelegated;
    return d;
}

dcp::Result<std::size_t, dns::Error> RuleSet::write_blocked(const dns::QueryInfo& query,
                                                            MutableBytes out) const {
    const auto& br = settings.blocked_response;
    if (br.kind == BlockedResponse::Kind::Refused) {
        ReplyWriter w(query, dns::Rcode::Refused, out);
        return w.finish(ExtendedError::Filtered);
    }
    ReplyWriter w(query, dns::Rcode::NoError, out);
    const auto qtype = query.question.qtype;
    if (br.kind == BlockedResponse::Kind::Address && qtype == kTypeA && br.a) {
        w.answer_a(*br.a, settings.reject_ttl);
        return w.finish(ExtendedError::ForgedAnswer);
    }
    if (br.kind == BlockedResponse::Kind::Address && qtype == kTypeAAAA && br.aaaa) {
        w.answer_aaaa(*br.aaaa, settings.reject_ttl);
        return w.finish(ExtendedError::ForgedAnswer);
    }
    w.answer_hinfo("This query has been locally blocked", "by dnscrypt-proxy", settings.reject_ttl);
    return w.finish(ExtendedError::Filtered);
}

dcp::Result<std::size_t, dns::Error> RuleSet::write_reply(const Decision& d,
                                                          const dns::QueryInfo& query,
                                                          MutableBytes out) const {
    switch (d.verdict) {
        case Verdict::Blocked:
            return write_blocked(query, out);
        case Verdict::BlockedIpv6: {
            ReplyWriter w(query, dns::Rcode::NoError, out);
            w.answer_hinfo("AAAA queries have been locally blocked by dnscrypt-proxy",
                           "Set block_ipv6 to false to disable this feature", 86400);
            w.authority_soa_of_parent(60, 2400);
            return w.finish();
        }
        case Verdict::Unqualified:
        case Verdict::Undelegated: {
            ReplyWriter w(query, dns::Rcode::NxDomain, out);
            return w.finish();
        }
        case Verdict::Cloaked:
        case Verdict::Captive: {
            const bool captive = d.verdict == Verdict::Captive;
            const auto& e =
                captive ? captive_portals->entries[d.index] : cloaking->entries[d.index];
            // Captive portal answers live one second (dnscrypt-proxy 2's): the network they
            // describe can change at any moment. Other types of those names: empty NOERROR.
            const std::uint32_t ttl = captive ? 1 : settings.cloak_ttl;
            ReplyWriter w(query, dns::Rcode::NoError, out);
            const auto qtype = query.question.qtype;
            if (qtype == kTypeA) {
                for (const auto& a : e.ipv4) w.answer_a(a, ttl);
            } else if (qtype == kTypeAAAA) {
                for (const auto& a : e.ipv6) w.answer_aaaa(a, ttl);
            } else if (qtype == kTypePtr) {
                for (const auto& p : e.ptr) w.answer_ptr(p, ttl);
            }
            return w.finish();
        }
        case Verdict::Pass:
        case Verdict::CloakedTarget:
        case Verdict::Forward:
            break;
    }
    return Unexpected(dns::Error::NoSpace);
}

AnswerVerdict RuleSet::check_answer(Bytes answer, LocalTime now) const {
    const auto layout = dns::parse_layout(answer);
    if (!layout) return AnswerVerdict::Malformed;
    bool blocked_ip = false;
    std::size_t offset = layout->answer_offset;
    for (std::uint16_t i = 0; i < layout->header.ancount; ++i) {
        const auto rr = dns::read_record(answer, offset);
        if (!rr) return AnswerVerdict::Malformed;  // parse_layout read it: cannot happen
        offset = rr->end();
        if (rr->klass != kClassIn) continue;
        const bool a = rr->type == kTypeA && rr->rdlength == 4;
        const bool aaaa = rr->type == kTypeAAAA && rr->rdlength == 16;
        if (a || aaaa) {
            auto address = answer.subspan(rr->rdata_offset, rr->rdlength);
            // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is that IPv4 address to the rules:
            // a blocklist of IPv4 networks must not be bypassed by spelling it in an AAAA.
            static constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                                               0, 0, 0, 0, 0xff, 0xff};
            if (aaaa && std::equal(address.begin(), address.begin() + 12, kMappedPrefix)) {
                address = address.subspan(12);
            }
            if (allowed_ips && allowed_ips->matcher.match(address)) return AnswerVerdict::Pass;
            if (blocked_ips && blocked_ips->matcher.match(address)) blocked_ip = true;
        } else if (rr->type == kTypeCname && blocked_names) {
            dns::Name target;
            if (!dns::read_name(answer, rr->rdata_offset, target)) continue;
            const auto name = LookupName::from_wire(target.wire());
            if (matches_now(allowed_names, name, now)) continue;
            if (matches_now(blocked_names, name, now)) return AnswerVerdict::BlockedName;
        }
    }
    return blocked_ip ? AnswerVerdict::BlockedIp : AnswerVerdict::Pass;
}

}  // namespace dcp::rules
