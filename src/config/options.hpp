#pragma once
// Settings as the user gave them, one field per switch, before validation (config.hpp). Pure:
// the configuration file reader fills these without any of the network code. The initializers
// are the defaults, written only here: --help shows them (option_table.hpp) and the components'
// settings get them through validate().

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/defaults.hpp"
#include "rules/schedule.hpp"
#include "sources/selection.hpp"

namespace dcp::config {

// dnscrypt-proxy 2's [sources.NAME]: where a signed resolver list comes from.
struct SourceOptions {
    std::string name;
    std::vector<std::string> urls;
    std::string cache_file;
    std::string minisign_key;
    std::int64_t refresh_delay_hours = 72;
    std::string prefix;
};

// dnscrypt-proxy 2's [static.NAME]: a server given by stamp.
struct StaticOptions {
    std::string name;
    std::string stamp;
};

// dnscrypt-proxy 2's [anonymized_dns] routes entry: a server ('*': every server) reached
// through relays, each a relay name, an sdns:// relay or DNSCrypt stamp, or '*' (any relay).
struct RouteOptions {
    std::string server_name;
    std::vector<std::string> via;
};

// Which servers of the catalogue to use: dnscrypt-proxy 2's keys and defaults.
struct CatalogueOptions {
    sources::Filters filters;
    std::vector<SourceOptions> sources;
    std::vector<StaticOptions> statics;
    std::vector<RouteOptions> routes;
    bool skip_incompatible = false;  // a routed server with no usable relay: skipped, not direct

    [[nodiscard]] bool used() const { return !sources.empty() || !statics.empty(); }
};

// Answering locally: the cache and the rules (dnscrypt-proxy 2's keys, the same defaults except
// cache_size, 4096 as in its example configuration rather than its built-in 512).
struct LocalOptions {
    bool cache = true;
    std::uint32_t cache_size = 4096;
    std::uint32_t cache_min_ttl = 60;
    std::uint32_t cache_max_ttl = 86400;
    std::uint32_t cache_neg_min_ttl = 60;
    std::uint32_t cache_neg_max_ttl = 600;
    std::uint32_t cache_serve_stale = 0;  // seconds an expired answer may still be given; 0: off
    bool cache_prefetch = true;
    std::string blocked_names_file;
    std::string allowed_names_file;
    std::string blocked_ips_file;
    std::string allowed_ips_file;
    std::string cloaking_rules;
    std::string forwarding_rules;
    std::string captive_portals_file;
    bool block_ipv6 = false;
    bool block_unqualified = false;
    bool block_undelegated = false;
    std::string blocked_query_response = "hinfo";
    std::uint32_t reject_ttl = 600;
    std::uint32_t cloak_ttl = 600;
    bool cloak_ptr = false;
    rules::Schedules schedules;  // [schedules.NAME], for "pattern @NAME" rules
};

// Raw options, one field per switch.
struct Options {
    std::vector<std::string> local_addresses{kDefaultLocalAddress};  // empty: that default too
    std::optional<std::uint16_t> local_port;
    std::vector<std::string> resolver_stamps;  // --resolver sdns://...: instead of -r/-N/-k
    std::string resolver_address;              // empty: the compiled-in default resolver
    std::string provider_name;
    std::string provider_key;
    bool tcp_only = false;
    std::optional<std::uint16_t> tcp_port;
    std::uint16_t edns_payload_size = 1280;
    std::uint32_t timeout_ms = 3000;
    std::uint32_t cert_refresh_s = 3600;
    bool ephemeral_keys = false;
    std::string client_key_file;
    std::uint32_t max_tcp_connections = 256;
    std::uint32_t tcp_idle_timeout_ms = 10000;
    std::uint32_t max_active_requests = 250;
    std::optional<std::uint32_t> threads;  // empty: one per core
    // Several servers: dnscrypt-proxy 2's lb_strategy and lb_estimator; hedged queries.
    std::string lb_strategy = "wp2";
    bool lb_estimator = true;
    bool no_hedging = false;
    // Running as a service.
    bool daemonize = false;
    std::string pid_file;
    std::string logfile;
    bool syslog = false;
    std::string loglevel = "info";
    std::string user;
    bool user_chroot = true;  // false for dnscrypt-proxy 2's user_name: privileges only
    std::optional<std::uint32_t> test_minutes;  // --test: check the certificate and exit
    LocalOptions local;
    // From a dnscrypt-proxy 2 configuration file.
    CatalogueOptions catalogue;
    bool dnscrypt_proxy2_file = false;            // the file was in dnscrypt-proxy 2's dialect
    std::vector<std::string> unimplemented_keys;  // its keys this proxy does not act on (yet)
};

struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace dcp::config
