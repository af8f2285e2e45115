#pragma once
// dnscrypt-proxy 2's rule files, parsed from their text (the caller reads the file). A line that
// cannot be used is reported with its file and line number and skipped; nothing here is fatal.
// Comments: a line starting with '#', or '#' after a space or tab.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules/ip_matcher.hpp"
#include "rules/name_matcher.hpp"
#include "rules/schedule.hpp"

namespace dcp::rules {

struct Diagnostic {
    std::string file;
    std::size_t line = 0;  // 0: about the whole file
    std::string message;
    [[nodiscard]] std::string to_string() const;
};
using Diagnostics = std::vector<Diagnostic>;

// The text of a line without its comment and surrounding blanks.
[[nodiscard]] std::string_view strip_line(std::string_view line) noexcept;

// blocked_names / allowed_names: one pattern per line, optionally time-restricted
// ("pattern @schedule", a name of `schedules`: the rule applies only within it). A line naming
// a schedule that does not exist is reported and skipped.
struct NameRules {
    NameMatcher matcher;
    std::vector<std::uint32_t> lines;       // value -> line number, for the log
    std::vector<WeeklySchedule> schedules;  // the ones this file uses
    std::vector<std::int16_t> schedule_of;  // value -> index in schedules, -1: always
    std::size_t skipped_scheduled = 0;

    [[nodiscard]] bool timed() const noexcept { return !schedules.empty(); }
    // Whether the rule `value` applies at `now`.
    [[nodiscard]] bool applies(std::uint32_t value, LocalTime now) const noexcept {
        const auto s = value < schedule_of.size() ? schedule_of[value] : -1;
        return s < 0 || schedules[static_cast<std::size_t>(s)].active(now);
    }
};
[[nodiscard]] NameRules parse_name_rules(std::string_view text, const std::string& file,
                                         Diagnostics& diagnostics,
                                         const Schedules* schedules = nullptr);

// blocked_ips / allowed_ips: one address, network or prefix per line.
struct IpRules {
    IpMatcher matcher;
    std::vector<std::uint32_t> lines;
};
[[nodiscard]] IpRules parse_ip_rules(std::string_view text, const std::string& file,
                                     Diagnostics& diagnostics);

// cloaking_rules ("pattern target", one target per line, a pattern may repeat) and
// captive_portals ("name addr, addr, ..."): names answered here.
struct CloakEntry {
    std::vector<std::array<std::uint8_t, 4>> ipv4;
    std::vector<std::array<std::uint8_t, 16>> ipv6;
    std::string target;            // a name whose addresses answer for this one (no IPs given)
    std::vector<std::string> ptr;  // PTR answers (reverse names of cloak_ptr entries)
    std::uint32_t line = 0;
    [[nodiscard]] bool has_addresses() const noexcept { return !ipv4.empty() || !ipv6.empty(); }
};
struct CloakRules {
    NameMatcher matcher;
    std::vector<CloakEntry> entries;
};
[[nodiscard]] CloakRules parse_cloaking_rules(std::string_view text, const std::string& file,
                                              bool create_ptr, Diagnostics& diagnostics);
[[nodiscard]] CloakRules parse_captive_portals(std::string_view text, const std::string& file,
                                               Diagnostics& diagnostics);

// forwarding_rules: "domain server[:port][,server...]"; $BOOTSTRAP, $DHCP, $RESOLVCONF and
// $PROXY: are reported as unsupported (the entry is dropped; a rule left with no server too).
struct ForwardServer {
    std::string host;  // an IP address literal
    std::uint16_t port = 53;
    friend bool operator==(const ForwardServer&, const ForwardServer&) = default;
};
struct ForwardRule {
    std::string domain;
    std::vector<ForwardServer> servers;
    std::uint32_t line = 0;
};
struct ForwardRules {
    NameMatcher matcher;
    std::vector<ForwardRule> rules;
};
[[nodiscard]] ForwardRules parse_forwarding_rules(std::string_view text, const std::string& file,
                                                  Diagnostics& diagnostics);

// "1.2.3.4" -> "4.3.2.1.in-addr.arpa"; IPv6 by nibbles under ip6.arpa.
[[nodiscard]] std::string reverse_name(std::span<const std::uint8_t> address);

}  // namespace dcp::rules
