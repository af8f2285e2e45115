#include "rules/rule_files.hpp"

#include "rules/text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace dcp::rules {
namespace {

// Calls fn(line_number, stripped_text) for every line that says something.
template <class Fn>
void for_each_line(std::string_view text, Fn&& fn) {
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        const auto eol = text.find('\n');
        const auto line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        const auto stripped = strip_line(line);
        if (!stripped.empty()) fn(number, stripped);
    }
}

bool blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

std::vector<std::string_view> split_blanks(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && blank(s[i])) ++i;
        const std::size_t start = i;
        while (i < s.size() && !blank(s[i])) ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

// Calls fn(item) for each non-empty, trimmed item of a comma-separated list.
template <class Fn>
void for_each_item(std::string_view list, Fn&& fn) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const auto item = trim(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        if (!item.empty()) fn(item);
    }
}

// Calls fn(line_number, name, rest) for every line of the form "name value[,value...]" (captive
// portals, forwarding rules): the name lowered, the rest trimmed. A line with a name alone is
// reported as `incomplete`.
template <class Fn>
void for_each_named_line(std::string_view text, const std::string& file, Diagnostics& diagnostics,
                         std::string_view incomplete, Fn&& fn) {
    for_each_line(text, [&](std::size_t number, std::string_view line) {
        const auto first_blank = line.find_first_of(" \t");
        if (first_blank == std::string_view::npos) {
            diagnostics.push_back({file, number, std::string(incomplete)});
            return;
        }
        fn(number, lower(line.substr(0, first_blank)), trim(line.substr(first_blank)));
    });
}

// Adds `pattern` to `matcher`, its value the index `entry` gets at the end of `entries`, and
// the entry: true. A pattern the matcher refuses is reported, and the entry dropped.
template <class Matcher, class Entry>
bool add_rule(Matcher& matcher, std::vector<Entry>& entries, std::string_view pattern, Entry entry,
              const std::string& file, std::size_t line, Diagnostics& diagnostics) {
    const auto value = static_cast<std::uint32_t>(entries.size());
    if (const auto added = matcher.add(pattern, value); !added) {
        diagnostics.push_back({file, line, concat({added.error(), ": '", pattern, "'"})});
        return false;
    }
    entries.push_back(std::move(entry));
    return true;
}

// An address literal: 4 or 16 bytes written to `out`, or 0.
std::size_t parse_address(std::string_view text, std::array<std::uint8_t, 16>& out) {
    if (text.size() >= INET6_ADDRSTRLEN) return 0;
    char buf[INET6_ADDRSTRLEN] = {};
    text.copy(buf, text.size());
    if (inet_pton(AF_INET, buf, out.data()) == 1) return 4;
    if (inet_pton(AF_INET6, buf, out.data()) == 1) return 16;
    return 0;
}

void add_address(CloakEntry& e, const std::array<std::uint8_t, 16>& bytes, std::size_t size) {
    if (size == 4) {
        e.ipv4.push_back({bytes[0], bytes[1], bytes[2], bytes[3]});
    } else {
        e.ipv6.push_back(bytes);
    }
}

// One server of a forwarding rule: an IP address, an optional port ("[v6]:port" for IPv6).
dcp::Result<ForwardServer, std::string> parse_forward_server(std::string_view item) {
    if (item.front() == '$') {
        return Unexpected(
            concat({"'", item, "' is not supported (only server addresses are): entry skipped"}));
    }
    std::string_view host = item;
    std::string_view port;
    if (host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos) {
            return Unexpected(concat({"missing ']' in '", item, "'"}));
        }
        if (close + 1 < host.size()) {
            if (host[close + 1] != ':') {
                return Unexpected(concat({"bad server address '", item, "'"}));
            }
            port = host.substr(close + 2);
        }
        host = host.substr(1, close - 1);
    } else if (std::count(host.begin(), host.end(), ':') == 1) {
        port = host.substr(host.find(':') + 1);
        host = host.substr(0, host.find(':'));
    }
    std::array<std::uint8_t, 16> bytes{};
    if (parse_address(host, bytes) == 0) {
        return Unexpected(
            concat({"not an IP address: '", item, "' (server names are not resolved)"}));
    }
    ForwardServer server;
    if (!port.empty()) {
        unsigned value = 0;
        const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
            return Unexpected(concat({"bad port in '", item, "'"}));
        }
        server.port = static_cast<std::uint16_t>(value);
    }
    server.host = std::string(host);
    return server;
}

}  // namespace

std::string Diagnostic::to_string() const {
    if (line == 0) return concat({file, ": ", message});
    return concat({file, " line ", std::to_string(line), ": ", message});
}

std::string_view strip_line(std::string_view line) noexcept {
    line = trim(line);
    if (!line.empty() && line.front() == '#') return {};
    for (std::size_t i = 1; i < line.size(); ++i) {
        if (line[i] == '#' && blank(line[i - 1])) {
            line = line.substr(0, i);
            break;
        }
    }
    return trim(line);
}

NameRules parse_name_rules(std::string_view text, const std::string& file, Diagnostics& diagnostics,
                           const Schedules* schedules) {
    NameRules out;
    std::map<std::string, std::int16_t, std::less<>> used;  // schedule name -> index in out
    for_each_line(text, [&](std::size_t number, std::string_view line) {
        std::int16_t schedule = -1;
        if (const auto at = line.find('@'); at != std::string_view::npos) {
            const auto name = trim(line.substr(at + 1));
            line = trim(line.substr(0, at));
            const auto found =
                schedules != nullptr ? schedules->find(name) : Schedules::const_iterator{};
            if (schedules == nullptr || found == schedules->end() ||
                name.find('@') != std::string_view::npos) {
                ++out.skipped_scheduled;
                diagnostics.push_back({file, number,
                                       concat({"no schedule named '", name,
                                               "' in [schedules]: time-restricted rule skipped"})});
                return;
            }
            auto [it, inserted] = used.try_emplace(std::string(name),
                                                   static_cast<std::int16_t>(out.schedules.size()));
            if (inserted) out.schedules.push_back(found->second);
            schedule = it->second;
        }
        if (add_rule(out.matcher, out.lines, line, static_cast<std::uint32_t>(number), file, number,
                     diagnostics)) {
            out.schedule_of.push_back(schedule);
        }
    });
    if (!out.timed()) out.schedule_of.clear();  // nothing to look up per match
    out.matcher.shrink_to_fit();
    return out;
}

IpRules parse_ip_rules(std::string_view text, const std::string& file, Diagnostics& diagnostics) {
    IpRules out;
    for_each_line(text, [&](std::size_t number, std::string_view line) {
        add_rule(out.matcher, out.lines, line, static_cast<std::uint32_t>(number), file, number,
                 diagnostics);
    });
    return out;
}

std::string reverse_name(std::span<const std::uint8_t> address) {
    std::string out;
    if (address.size() == 4) {
        for (std::size_t i = 4; i-- > 0;) {
            out += std::to_string(address[i]);
            out += '.';
        }
        out += "in-addr.arpa";
    } else {
        static constexpr char kHex[] = "0123456789abcdef";
        for (std::size_t i = address.size(); i-- > 0;) {
            out += kHex[address[i] & 0xf];
            out += '.';
            out += kHex[address[i] >> 4];
            out += '.';
        }
        out += "ip6.arpa";
    }
    return out;
}

CloakRules parse_cloaking_rules(std::string_view text, const std::string& file, bool create_ptr,
                                Diagnostics& diagnostics) {
    // Lines of one pattern gather into one entry; PTR entries by reverse name.
    std::map<std::string, CloakEntry> by_pattern;
    std::vector<std::string> order;
    auto entry_for = [&](const std::string& pattern) -> CloakEntry& {
        auto [it, inserted] = by_pattern.try_emplace(pattern);
        if (inserted) order.push_back(pattern);
        return it->second;
    };
    for_each_line(text, [&](std::size_t number, std::string_view line) {
        const auto parts = split_blanks(line);
        if (parts.size() != 2) {
            diagnostics.push_back({file, number,
                                   parts.size() < 2 ? "a cloaking rule needs a name and a target"
                                                    : "unexpected space in a cloaking rule"});
            return;
        }
        const std::string pattern = lower(parts[0]);
        std::array<std::uint8_t, 16> bytes{};
        const std::size_t size = parse_address(parts[1], bytes);
        CloakEntry& e = entry_for(pattern);
        e.line = static_cast<std::uint32_t>(number);
        if (size == 0) {
            e.target = lower(parts[1]);
            if (e.target.size() > 1 && e.target.back() == '.') e.target.pop_back();
            return;
        }
        add_address(e, bytes, size);
        if (!create_ptr || is_wildcard_pattern(pattern)) return;
        const std::string owner = pattern.front() == '=' ? pattern.substr(1) : pattern;
        CloakEntry& ptr = entry_for(concat({"=", reverse_name(std::span(bytes.data(), size))}));
        ptr.line = static_cast<std::uint32_t>(number);
        ptr.ptr.push_back(owner);
    });
    CloakRules out;
    for (const auto& pattern : order) {
        CloakEntry& e = by_pattern[pattern];
        if (e.has_addresses()) e.target.clear();  // addresses win over a name target
        const std::size_t line = e.line;          // `e` is moved from in the call
        add_rule(out.matcher, out.entries, pattern, std::move(e), file, line, diagnostics);
    }
    // A name target that is itself cloaked to a name could loop: such chains are not followed
    // (the target is asked of the resolvers as it is), so only self-references are refused.
    for (auto& e : out.entries) {
        if (e.target.empty()) continue;
        const auto m = out.matcher.match(LookupName::from_text(e.target));
        if (m && &out.entries[m->value] == &e) {
            diagnostics.push_back(
                {file, e.line, concat({"cloaking rule targets itself: '", e.target, "'"})});
            e.target.clear();
        }
    }
    out.matcher.shrink_to_fit();
    return out;
}

CloakRules parse_captive_portals(std::string_view text, const std::string& file,
                                 Diagnostics& diagnostics) {
    CloakRules out;
    for_each_named_line(
        text, file, diagnostics, "a captive portal line needs a name and addresses",
        [&](std::size_t number, std::string name, std::string_view rest) {
            if (name.size() > 1 && name.back() == '.') name.pop_back();
            CloakEntry e;
            e.line = static_cast<std::uint32_t>(number);
            for_each_item(rest, [&](std::string_view item) {
                std::array<std::uint8_t, 16> bytes{};
                const std::size_t size = parse_address(item, bytes);
                if (size == 0) {
                    diagnostics.push_back(
                        {file, number, concat({"not an IP address: '", item, "'"})});
                    return;
                }
                add_address(e, bytes, size);
            });
            if (!e.has_addresses()) return;
            add_rule(out.matcher, out.entries, concat({"=", name}), std::move(e), file, number,
                     diagnostics);
        });
    return out;
}

ForwardRules parse_forwarding_rules(std::string_view text, const std::string& file,
                                    Diagnostics& diagnostics) {
    ForwardRules out;
    for_each_named_line(
        text, file, diagnostics, "a forwarding rule needs a domain and servers",
        [&](std::size_t number, std::string domain, std::string_view rest) {
            ForwardRule rule;
            rule.line = static_cast<std::uint32_t>(number);
            rule.domain = domain;
            if (rest.starts_with("$PROXY:")) {
                diagnostics.push_back({file, number,
                                       "'$PROXY:' (forwarding through an HTTP/SOCKS proxy) is not "
                                       "supported: rule skipped"});
                return;
            }
            for_each_item(rest, [&](std::string_view item) {
                auto server = parse_forward_server(item);
                if (!server) {
                    diagnostics.push_back({file, number, server.error()});
                    return;
                }
                rule.servers.push_back(std::move(*server));
            });
            if (rule.servers.empty()) {
                diagnostics.push_back(
                    {file, number,
                     concat({"no usable server for '", rule.domain, "': rule skipped"})});
                return;
            }
            add_rule(out.matcher, out.rules, domain, std::move(rule), file, number, diagnostics);
        });
    return out;
}

}  // namespace dcp::rules
