// Untrusted input: a user's rule file (any of the five formats, by the first byte) and the
// names looked up in it (each line of the input, as a query name would be).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dns/name.hpp"
#include "fuzz/fuzz_support.hpp"
#include "rules/rule_files.hpp"
#include "rules/rule_set.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp;
    fuzz::init_once();
    if (size == 0 || size > 1 << 16) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    rules::Diagnostics d;
    rules::RuleSet set;
    switch (data[0] % 5) {
        case 0: {
            static const rules::Schedules schedules = [] {
                rules::Schedules s;
                s["night"].days[1] = {{21 * 60, 7 * 60}};
                s["never"];
                return s;
            }();
            set.blocked_names = rules::parse_name_rules(text, "f", d, &schedules);
            break;
        }
        case 1:
            set.blocked_ips = rules::parse_ip_rules(text, "f", d);
            break;
        case 2:
            set.cloaking = rules::parse_cloaking_rules(text, "f", true, d);
            break;
        case 3:
            set.captive_portals = rules::parse_captive_portals(text, "f", d);
            break;
        default:
            set.forwarding = rules::parse_forwarding_rules(text, "f", d);
            break;
    }
    for (const auto& diag : d) {
        if (diag.line > size) std::abort();
    }
    // Every line as a query name, through every rule.
    std::string_view rest = text;
    while (!rest.empty()) {
        const auto eol = rest.find('\n');
        const auto line = rest.substr(0, eol);
        rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
        const auto name = dns::encode_name(line.substr(0, line.find(' ')));
        if (!name) continue;
        dns::Question q;
        q.name = *name;
        q.qclass = 1;
        for (const std::uint16_t type :
             {std::uint16_t{1}, std::uint16_t{12}, std::uint16_t{16}, std::uint16_t{28}}) {
            q.qtype = type;
            (void)set.decide(
                q, {static_cast<std::uint8_t>(size % 7), static_cast<std::uint16_t>(size % 1440)});
        }
    }
    return 0;
}
