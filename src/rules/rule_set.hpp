#pragma once
// Everything the proxy answers by itself, decided from the question alone (before the cache and
// the resolvers) or from the resolver's answer (IP and CNAME filtering), in dnscrypt-proxy 2's
// order: allowed names, blocked names, block_ipv6, cloaking, captive portals, forwarding,
// block_unqualified, block_undelegated. Immutable once built: workers share one and a reload
// builds a new one.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "dns/error.hpp"
#include "dns/message.hpp"
#include "rules/rule_files.hpp"

namespace dcp::rules {

// blocked_query_response: 'refused', 'hinfo' (the default) or 'a:<IPv4>,aaaa:<IPv6>' (either
// part may be left out; other types get HINFO).
struct BlockedResponse {
    enum class Kind : std::uint8_t { Refused, Hinfo, Address } kind = Kind::Hinfo;
    std::optional<std::array<std::uint8_t, 4>> a;
    std::optional<std::array<std::uint8_t, 16>> aaaa;
};
[[nodiscard]] dcp::Result<BlockedResponse, std::string> parse_blocked_response(
    std::string_view text);

// Set by config::validate() from the options (their defaults: config/options.hpp, once).
struct PolicySettings {
    bool block_ipv6 = false;
    bool block_unqualified = false;
    bool block_undelegated = false;
    BlockedResponse blocked_response;
    std::uint32_t reject_ttl = 0;  // blocked answers
    std::uint32_t cloak_ttl = 0;
};

enum class Verdict : std::uint8_t {
    Pass,           // to the cache, then the resolvers
    Blocked,        // blocked_names (or a cloaked name asked for another type)
    BlockedIpv6,    // block_ipv6
    Unqualified,    // block_unqualified: NXDOMAIN
    Undelegated,    // block_undelegated: NXDOMAIN
    Cloaked,        // answered from a cloaking rule's addresses (or PTR)
    CloakedTarget,  // the rule's target name is asked instead, its addresses answer
    Captive,        // answered from the captive portal list
    Forward,        // to the forwarding rule's plain DNS servers
};

// Firefox's canary domain (use-application-dns.net and below): always NXDOMAIN.
[[nodiscard]] bool is_firefox_canary(const dns::Name& name);

struct Decision {
    Verdict verdict = Verdict::Pass;
    bool allowed = false;     // allowed_names matched: no name or IP filtering
    std::uint32_t index = 0;  // the cloaking, captive portal or forwarding entry
};

// Malformed: the answer cannot be read whole (trailing bytes, a second OPT...), so it cannot be
// checked either: it must not pass unfiltered.
enum class AnswerVerdict : std::uint8_t { Pass, BlockedIp, BlockedName, Malformed };

class RuleSet {
  public:
    PolicySettings settings;
    std::optional<NameRules> blocked_names;
    std::optional<NameRules> allowed_names;
    std::optional<IpRules> blocked_ips;
    std::optional<IpRules> allowed_ips;
    std::optional<CloakRules> cloaking;
    std::optional<CloakRules> captive_portals;
    std::optional<ForwardRules> forwarding;

    // `now`: the local time, for time-restricted rules (only read when needs_time()).
    [[nodiscard]] Decision decide(const dns::Question& question, LocalTime now = {}) const;
    // A cloaking rule's target followed through other cloaking rules and the block lists.
    void follow_cloak_target(Decision& d, LocalTime now) const;
    [[nodiscard]] bool needs_time() const noexcept {
        return (blocked_names && blocked_names->timed()) ||
               (allowed_names && allowed_names->timed());
    }
    // Writes the reply for every verdict but Pass, CloakedTarget and Forward.
    [[nodiscard]] dcp::Result<std::size_t, dns::Error> write_reply(const Decision& decision,
                                                                   const dns::QueryInfo& query,
                                                                   MutableBytes out) const;
    // The reply to a query whose answer was filtered (blocked_ips, a CNAME to a blocked name).
    [[nodiscard]] dcp::Result<std::size_t, dns::Error> write_blocked(const dns::QueryInfo& query,
                                                                     MutableBytes out) const;
    // Whether answers need looking at (blocked IPs, or blocked names that CNAMEs may lead to).
    [[nodiscard]] bool filters_answers() const noexcept {
        return blocked_ips.has_value() || blocked_names.has_value();
    }
    [[nodiscard]] AnswerVerdict check_answer(Bytes answer, LocalTime now = {}) const;
    // The name a CloakedTarget decision asks for instead.
    [[nodiscard]] const std::string& cloak_target(const Decision& d) const {
        return cloaking->entries[d.index].target;
    }
};

// RFC 6303 and RFC 6761 zones, and names home routers use, that no public resolver can answer.
[[nodiscard]] bool is_undelegated(const LookupName& name);

}  // namespace dcp::rules
