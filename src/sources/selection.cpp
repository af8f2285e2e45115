#include "sources/selection.hpp"

#include <algorithm>

namespace dcp::sources {
namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

Filters Filters::everything() {
    Filters f;
    f.require_nolog = false;
    f.require_nofilter = false;
    f.ipv6_servers = true;
    f.odoh_servers = true;
    return f;
}

Selection select_servers(const std::vector<ListEntry>& entries, const Filters& f) {
    std::uint64_t required = 0;
    if (f.require_dnssec) required |= stamp::kDnssec;
    if (f.require_nolog) required |= stamp::kNoLog;
    if (f.require_nofilter) required |= stamp::kNoFilter;

    Selection out;
    for (const auto& entry : entries) {
        if (entry.stamps.empty()) continue;
        const auto& s = entry.stamps.front();
        if (!s.is_relay()) {
            if (!f.server_names.empty()) {
                if (!contains(f.server_names, entry.name)) continue;
            } else if ((s.props & required) != required) {
                continue;
            }
        }
        if (contains(f.disabled_server_names, entry.name)) continue;
        if (f.ipv4_servers || f.ipv6_servers) {
            // As the reference decides it: an address in brackets is IPv6; DoH counts as both
            // (its host name may resolve to either); anything else is IPv4.
            bool v4 = true, v6 = false;
            if (s.protocol == stamp::Protocol::DoH) v6 = true;
            if (!s.address.empty() && s.address.front() == '[') v4 = false, v6 = true;
            if (!((f.ipv4_servers && v4) || (f.ipv6_servers && v6))) continue;
        }
        Candidate c{entry.name, s, entry.description};
        switch (s.protocol) {
            case stamp::Protocol::DnsCryptRelay:
            case stamp::Protocol::ODoHRelay:
                out.relays.push_back(std::move(c));
                continue;
            case stamp::Protocol::DnsCrypt:
                if (!f.dnscrypt_servers) continue;
                break;
            case stamp::Protocol::DoH:
                if (!f.doh_servers) continue;
                break;
            case stamp::Protocol::ODoHTarget:
                if (!f.odoh_servers) continue;
                break;
            default:
                continue;  // plain DNS, DoT, DoQ: dnscrypt-proxy 2 does not use them either
        }
        out.servers.push_back(std::move(c));
    }
    return out;
}

}  // namespace dcp::sources
