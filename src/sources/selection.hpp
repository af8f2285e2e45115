#pragma once
// Which servers of the lists to use, with dnscrypt-proxy 2's settings and semantics (its
// updateRegisteredServers): named servers (server_names) are taken whatever their properties;
// without names, every server whose declared properties meet require_*; then
// disabled_server_names, the IPv4/IPv6 and protocol filters. Relays go to their own set.
// Pure: the caller loads the lists.

#include <string>
#include <vector>

#include "sources/list.hpp"

namespace dcp::sources {

struct Filters {
    std::vector<std::string> server_names;  // empty: every server meeting the requirements
    std::vector<std::string> disabled_server_names;
    // dnscrypt-proxy 2's defaults.
    bool require_dnssec = false;
    bool require_nolog = true;
    bool require_nofilter = true;
    bool ipv4_servers = true;
    bool ipv6_servers = false;
    bool dnscrypt_servers = true;
    bool doh_servers = true;
    bool odoh_servers = false;

    // --list-all: every server, whatever the settings.
    [[nodiscard]] static Filters everything();
};

struct Candidate {
    std::string name;
    stamp::Stamp stamp;  // the entry's first stamp (the others are its alternates)
    std::string description;
};

struct Selection {
    std::vector<Candidate> servers;
    std::vector<Candidate> relays;
};

[[nodiscard]] Selection select_servers(const std::vector<ListEntry>& entries,
                                       const Filters& filters);

}  // namespace dcp::sources
