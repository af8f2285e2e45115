#pragma once
// Settings as the user gave them (command line, our TOML or a dnscrypt-proxy 2 file), validated
// into what the rest of the program runs with.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache.hpp"
#include "config/log_level.hpp"
#include "config/options.hpp"
#include "crypto/x25519.hpp"
#include "frontend/tcp_listener.hpp"
#include "net/asio.hpp"
#include "proxy/query_processor.hpp"
#include "rules/rule_set.hpp"
#include "sources/selection.hpp"
#include "sources/source.hpp"
#include "stamp/stamp.hpp"
#include "upstream/balancer.hpp"
#include "upstream/server.hpp"

namespace dcp::config {

// How the process runs (logging, daemon, privileges).
struct ServiceSettings {
    bool daemonize = false;
    std::optional<std::string> pid_file;
    std::optional<std::string> logfile;
    bool syslog = false;
    LogLevel loglevel = LogLevel::Info;
    std::optional<std::string> user;
    bool user_chroot = true;
    std::optional<std::uint32_t> test_minutes;
};

// Servers from resolver lists and static stamps (a dnscrypt-proxy 2 configuration).
struct CatalogueSettings {
    sources::Filters filters;
    std::vector<sources::SourceConfig> sources;
    std::vector<sources::Candidate> statics;  // [static.NAME], stamps parsed
    std::vector<RouteOptions> routes;         // [anonymized_dns]
    bool skip_incompatible = false;
};

// The rule files (paths as given, relative to a dnscrypt-proxy 2 file's directory) and the
// settings that go with them; read at start and again on SIGHUP.
struct RulesConfig {
    std::string blocked_names;
    std::string allowed_names;
    std::string blocked_ips;
    std::string allowed_ips;
    std::string cloaking;
    std::string forwarding;
    std::string captive_portals;
    bool cloak_ptr = false;
    rules::PolicySettings policy;
    rules::Schedules schedules;  // for time-restricted name rules

    // Anything for the rules to do (else no rule set is built at all).
    [[nodiscard]] bool any() const {
        return !blocked_names.empty() || !allowed_names.empty() || !blocked_ips.empty() ||
               !allowed_ips.empty() || !cloaking.empty() || !forwarding.empty() ||
               !captive_portals.empty() || policy.block_ipv6 || policy.block_unqualified ||
               policy.block_undelegated;
    }
};

// What the program runs with.
struct Settings {
    std::vector<asio::ip::udp::endpoint> listen;  // UDP and TCP on each
    // What every server shares (timeouts, TCP, keys).
    upstream::TransportSettings transport;
    // The servers to use, of every protocol, in the user's order (-r/-N/-k: one; --resolver or
    // the catalogue: as many as given or selected), each once.
    std::vector<upstream::ServerSpec> servers;
    upstream::BalancerSettings balancer;
    proxy::ProcessorSettings processor;
    std::optional<cache::CacheSettings> cache;  // none: --no-cache
    RulesConfig rules;
    frontend::TcpLimits tcp;
    std::size_t threads = 1;  // workers, each with its own event loop and sockets
    // No --threads: one worker per usable core, but the ones beyond the first read from the
    // first one's sockets only while it is saturated (net::SpillControl).
    bool spill_threads = false;
    std::optional<std::string> client_key_file;
    ServiceSettings service;
    std::vector<std::string> notes;  // worth a warning at start (e.g. stamps not used yet)
    // Set when the servers come from the catalogue: the app picks them (add_stamp_server)
    // from local copies of the lists before serving.
    std::optional<CatalogueSettings> catalogue;
};

// Adds the server of a stamp to settings.servers, unless the same server (its id) is there
// already. Throws ConfigError, prefixed with `what`, if it cannot be used.
void add_stamp_server(Settings& settings, const stamp::Stamp& stamp, const std::string& name,
                      const std::string& what,
                      const std::optional<upstream::RelaySpec>& relay = std::nullopt);

// Throws ConfigError with a message naming the option and what is wrong.
[[nodiscard]] Settings validate(const Options& options);

}  // namespace dcp::config
