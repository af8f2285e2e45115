#include "config/config.hpp"

#if defined(__linux__)
#include <sched.h>
#endif
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "common/hex.hpp"
#include "config/defaults.hpp"
#include "config/option_table.hpp"
#include "minisign/minisign.hpp"
#include "net/endpoint.hpp"
#include "stamp/stamp.hpp"
#include "upstream/factory.hpp"

namespace dcp::config {
namespace {

// The cores this process may run on: under taskset or a cpuset, fewer than the machine has.
std::size_t usable_cpus() {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        return static_cast<std::size_t>(CPU_COUNT(&set));
    }
#endif
    return std::thread::hardware_concurrency();
}

constexpr std::uint16_t kDefaultDnsPort = 53;
constexpr std::uint16_t kDefaultDnsCryptPort = 443;
// The most workers one per core may give: more only add sockets and memory (the resolver is the
// limit long before); the --threads row's range.
std::size_t max_threads() {
    return static_cast<std::size_t>(find_option("threads")->range->max);
}

net::HostPort parse_address(const std::string& option, const std::string& text) {
    const auto hp = net::parse_host_port(text);
    if (!hp) throw ConfigError(option + ": " + hp.error());
    return *hp;
}

// A dnscrypt-proxy 2 file's [sources] and [static]: checked here, loaded by the app.
CatalogueSettings catalogue_of(const CatalogueOptions& c) {
    CatalogueSettings out;
    out.filters = c.filters;
    for (const auto& s : c.sources) {
        const std::string where = "[sources." + s.name + "]";
        if (s.cache_file.empty()) throw ConfigError(where + ": cache_file is missing");
        if (s.minisign_key.empty()) throw ConfigError(where + ": minisign_key is missing");
        if (const auto key = minisign::parse_public_key(s.minisign_key); !key) {
            throw ConfigError(where + ": minisign_key: " + minisign::to_string(key.error()));
        }
        sources::SourceConfig sc;
        sc.name = s.name;
        sc.urls = s.urls;
        sc.cache_file = s.cache_file;
        sc.minisign_key = s.minisign_key;
        // As dnscrypt-proxy 2: 72 hours unless set, never more than a week.
        sc.refresh_delay = std::chrono::hours(
            s.refresh_delay_hours <= 0 ? 72 : std::min<std::int64_t>(s.refresh_delay_hours, 168));
        sc.prefix = s.prefix;
        out.sources.push_back(std::move(sc));
    }
    for (const auto& st : c.statics) {
        auto parsed = stamp::parse(st.stamp);
        if (!parsed) {
            throw ConfigError("[static." + st.name +
                              "] stamp: " + stamp::to_string(parsed.error()));
        }
        out.statics.push_back({st.name, std::move(*parsed), "static"});
    }
    return out;
}

// --resolver sdns://...: every stamp must parse (the user wrote them); every DNSCrypt and DoH
// one is used. Other protocols are named in a warning.
void resolver_from_stamps(const Options& o, Settings& s) {
    for (std::size_t i = 0; i < o.resolver_stamps.size(); ++i) {
        const auto& text = o.resolver_stamps[i];
        const auto st = stamp::parse(text);
        if (!st) throw ConfigError("--resolver " + text + ": " + stamp::to_string(st.error()));
        if (!upstream::has_transport(st->protocol)) {
            s.notes.push_back("--resolver #" + std::to_string(i + 1) + " is a " +
                              std::string(stamp::protocol_name(st->protocol)) +
                              " stamp: only DNSCrypt and DoH servers are used so far; ignored");
            continue;
        }
        const auto& name = st->protocol == stamp::Protocol::DoH ? st->hostname : st->provider_name;
        add_stamp_server(s, *st, name, "--resolver " + text);
    }
    if (s.servers.empty()) {
        throw ConfigError(
            "--resolver: no DNSCrypt or DoH stamp among them (the protocols used so far)");
    }
}

}  // namespace

void add_stamp_server(Settings& s, const stamp::Stamp& st, const std::string& name,
                      const std::string& what, const std::optional<upstream::RelaySpec>& relay) {
    auto spec = upstream::make_spec(st, name, relay);
    if (!spec) throw ConfigError(what + ": " + spec.error());
    for (const auto& other : s.servers) {
        if (other.id == spec->id)
            return;  // the same server twice (two lists, or a list and a [static])
    }
    s.servers.push_back(std::move(*spec));
}

Settings validate(const Options& o) {
    check_ranges(o);  // every range, from the option table
    Settings s;

    const auto locals = o.local_addresses.empty() ? std::vector<std::string>{kDefaultLocalAddress}
                                                  : o.local_addresses;
    for (const auto& text : locals) {
        const auto hp = parse_address("--local-address", text);
        const std::uint16_t port = o.local_port.value_or(hp.port.value_or(kDefaultDnsPort));
        s.listen.emplace_back(hp.address, port);
    }

    const bool custom = !o.resolver_address.empty();
    if (!o.resolver_stamps.empty()) {
        if (custom || !o.provider_name.empty() || !o.provider_key.empty()) {
            throw ConfigError(
                "--resolver names the resolver by stamp: --resolver-address, --provider-name and "
                "--provider-key cannot be given with it");
        }
    } else if (custom && (o.provider_name.empty() || o.provider_key.empty())) {
        throw ConfigError(
            "--resolver-address needs --provider-name and --provider-key as well (they identify "
            "the resolver and authenticate its certificates)");
    }
    if (o.resolver_stamps.empty() && !custom &&
        (!o.provider_name.empty() || !o.provider_key.empty())) {
        throw ConfigError("--provider-name and --provider-key need --resolver-address");
    }
    const bool from_command_line = custom || !o.resolver_stamps.empty();
    if (o.catalogue.used()) {
        if (from_command_line) {
            s.notes.push_back(
                "the resolver given on the command line is used; the configuration file's "
                "[sources] and [static] servers are not");
        } else {
            s.catalogue = catalogue_of(o.catalogue);
            s.catalogue->routes = o.catalogue.routes;
            s.catalogue->skip_incompatible = o.catalogue.skip_incompatible;
        }
    } else if (o.dnscrypt_proxy2_file && !from_command_line) {
        throw ConfigError(
            "the dnscrypt-proxy 2 configuration names no server: add [sources] or [static] "
            "entries, or give --resolver");
    }
    if (!o.unimplemented_keys.empty()) {
        std::string keys;
        for (const auto& k : o.unimplemented_keys) keys += (keys.empty() ? "" : ", ") + k;
        s.notes.push_back("dnscrypt-proxy 2 settings not acted on (not implemented yet): " + keys);
    }
    auto& t = s.transport;
    t.tcp_port = o.tcp_port;
    t.tcp_only = o.tcp_only || o.tcp_port.has_value();
    t.ephemeral_keys = o.ephemeral_keys;
    t.timeout = std::chrono::milliseconds(o.timeout_ms);
    t.cert_refresh = std::chrono::seconds(o.cert_refresh_s);
    if (!o.resolver_stamps.empty()) {
        resolver_from_stamps(o, s);
    } else if (!s.catalogue) {
        // The original dnscrypt-proxy's -r/-N/-k, or the compiled-in server: a DNSCrypt stamp.
        const auto hp = parse_address("--resolver-address",
                                      custom ? o.resolver_address : kDefaultResolverAddress);
        const std::string address = net::to_string(
            asio::ip::udp::endpoint(hp.address, hp.port.value_or(kDefaultDnsCryptPort)));
        const auto& provider_name = custom ? o.provider_name : std::string(kDefaultProviderName);
        const auto st = upstream::dnscrypt_stamp(
            address, provider_name, custom ? o.provider_key : std::string(kDefaultProviderKey));
        if (!st) {
            throw ConfigError(std::string(st.error().part == upstream::StampPart::ProviderKey
                                              ? "--provider-key: "
                                              : "--provider-name: ") +
                              st.error().what);
        }
        add_stamp_server(s, *st, provider_name, "--resolver-address");
    }

    const auto strategy = upstream::parse_strategy(o.lb_strategy);
    if (!strategy) {
        throw ConfigError("--lb-strategy: '" + o.lb_strategy +
                          "' is not a strategy (wp2, p2, ph, p<n>, first, random)");
    }
    s.balancer.strategy = *strategy;
    s.balancer.estimator = o.lb_estimator;
    s.balancer.hedging = !o.no_hedging;
    s.balancer.timeout = t.timeout;

    s.processor.edns_payload_size = o.edns_payload_size;
    s.processor.tcp_only = t.tcp_only;

    s.tcp.max_connections = o.max_tcp_connections;
    s.tcp.idle_timeout = std::chrono::milliseconds(o.tcp_idle_timeout_ms);
    if (!o.client_key_file.empty()) s.client_key_file = o.client_key_file;
    s.processor.max_active_requests = o.max_active_requests;

    const auto& l = o.local;
    if (l.cache) {
        cache::CacheSettings c;
        c.max_entries = l.cache_size;
        // A minimum above the maximum (only the maximum lowered): the maximum wins.
        c.ttl = {std::min(l.cache_min_ttl, l.cache_max_ttl), l.cache_max_ttl,
                 std::min(l.cache_neg_min_ttl, l.cache_neg_max_ttl), l.cache_neg_max_ttl};
        c.serve_stale_s = l.cache_serve_stale;
        c.prefetch_hits = l.cache_prefetch ? cache::kPrefetchHits : 0;
        s.cache = c;
    }
    auto& rc = s.rules;
    rc.blocked_names = l.blocked_names_file;
    rc.allowed_names = l.allowed_names_file;
    rc.blocked_ips = l.blocked_ips_file;
    rc.allowed_ips = l.allowed_ips_file;
    rc.cloaking = l.cloaking_rules;
    rc.forwarding = l.forwarding_rules;
    rc.captive_portals = l.captive_portals_file;
    rc.cloak_ptr = l.cloak_ptr;
    rc.schedules = l.schedules;
    rc.policy.block_ipv6 = l.block_ipv6;
    rc.policy.block_unqualified = l.block_unqualified;
    rc.policy.block_undelegated = l.block_undelegated;
    rc.policy.reject_ttl = l.reject_ttl;
    rc.policy.cloak_ttl = l.cloak_ttl;
    const auto blocked = rules::parse_blocked_response(l.blocked_query_response);
    if (!blocked) throw ConfigError("--blocked-query-response: " + blocked.error());
    rc.policy.blocked_response = *blocked;

    if (o.threads) {
        s.threads = *o.threads;
    } else {
        s.threads = std::clamp<std::size_t>(usable_cpus(), 1, max_threads());
        s.spill_threads = s.threads > 1;
    }

    // TCP clients are held back (their connections stop being read) before they could reach
    // --max-active-requests, which would only answer SERVFAIL; every worker gets its share
    // (with spill-over, the first worker may have to take all of it alone).
    s.tcp.max_queries_in_flight_per_worker = std::max<std::size_t>(
        1, s.spill_threads ? o.max_active_requests : o.max_active_requests / s.threads);

    auto& svc = s.service;
    svc.daemonize = o.daemonize;
    if (!o.pid_file.empty()) svc.pid_file = o.pid_file;
    if (!o.logfile.empty()) svc.logfile = o.logfile;
    svc.syslog = o.syslog;
    const auto level = parse_log_level(o.loglevel);
    if (!level) {
        throw ConfigError("--loglevel: '" + o.loglevel +
                          "' is not a level (trace, debug, info, warning, error, critical, off, "
                          "or 0-7)");
    }
    svc.loglevel = *level;
    if (!o.user.empty()) svc.user = o.user;
    svc.user_chroot = o.user_chroot;
    svc.test_minutes = o.test_minutes;
    return s;
}

}  // namespace dcp::config
