#include "config/option_table.hpp"

#include <array>
#include <type_traits>

#include "config/options.hpp"

namespace dcp::config {
namespace {

// The field of Options a row sets, as a function (a lambda without captures).
#define DCP_FIELD(member)      \
    [](Options & o) -> auto& { \
        return o.member;       \
    }

constexpr Range kPort{1, 65535, ""};
constexpr Range kTtl{0, 604800, " s"};

// In --help's order. The help strings say what a value does; help_text() adds the default
// (from Options{}) and the range.
const std::array kTable = std::to_array<OptionSpec>({
    {"-a,--local-address", "listen_addresses", DCP_FIELD(local_addresses), "ADDR",
     "Address to listen on, ip[:port] or [ipv6]:port; repeat for several", std::nullopt, kPlain},
    {"--local-port", "", DCP_FIELD(local_port), "PORT",
     "Port to listen on, for every local address", kPort, kPlain},
    {"-r,--resolver-address", "", DCP_FIELD(resolver_address), "ADDR",
     "DNSCrypt resolver, ip[:port] (port 443 by default)", std::nullopt, kNoDefaultShown},
    {"-N,--provider-name", "", DCP_FIELD(provider_name), "FQDN",
     "Provider name of the resolver, e.g. 2.dnscrypt-cert.example.com", std::nullopt, kPlain},
    {"--resolver", "", DCP_FIELD(resolver_stamps), "STAMP",
     "A resolver as a DNS stamp (sdns://...), instead of -r, -N and -k; repeatable: every "
     "DNSCrypt and DoH stamp is used",
     std::nullopt, kPlain},
    {"--lb-strategy", "lb_strategy", DCP_FIELD(lb_strategy), "STRATEGY",
     "With several resolvers: wp2, p2, ph, p<n>, first or random, as dnscrypt-proxy 2's "
     "lb_strategy",
     std::nullopt, kPlain},
    {"--no-lb-estimator", "lb_estimator", DCP_FIELD(lb_estimator), "",
     "With several resolvers: keep them in the order given instead of ranking them by measured "
     "latency (dnscrypt-proxy 2's lb_estimator = false)",
     std::nullopt, kNegated},
    {"--no-hedging", "", DCP_FIELD(no_hedging), "",
     "With several resolvers: never ask a second one while the first is slow (failover after a "
     "failure or a long silence still happens)",
     std::nullopt, kPlain},
    {"-k,--provider-key", "", DCP_FIELD(provider_key), "KEY",
     "Provider public key: 64 hex digits, or the XXXX:XXXX:... form", std::nullopt, kPlain},
    {"-T,--tcp-only", "force_tcp", DCP_FIELD(tcp_only), "",
     "Talk to the resolver over TCP only; UDP clients are told to retry over TCP", std::nullopt,
     kPlain},
    {"--tcp-port", "", DCP_FIELD(tcp_port), "PORT", "Resolver TCP port; implies --tcp-only", kPort,
     kPlain},
    {"-e,--edns-payload-size", "", DCP_FIELD(edns_payload_size), "BYTES",
     "UDP payload size advertised to the resolver when the client sent no EDNS (512 or less: "
     "add none)",
     Range{0, 4096, ""}, kPlain},
    {"--timeout", "timeout", DCP_FIELD(timeout_ms), "MS",
     "Milliseconds to wait for the resolver before answering SERVFAIL", Range{100, 60000, " ms"},
     kPlain},
    {"--cert-refresh", "", DCP_FIELD(cert_refresh_s), "SECONDS",
     "Seconds between certificate checks (also before expiry)", Range{1, 86400, " s"}, kPlain},
    {"-E,--ephemeral-keys", "dnscrypt_ephemeral_keys", DCP_FIELD(ephemeral_keys), "",
     "Use a new client key pair for every query (costs one key exchange each)", std::nullopt,
     kPlain},
    {"-K,--client-key", "", DCP_FIELD(client_key_file), "FILE",
     "File holding a fixed client secret key (64 hex digits)", std::nullopt, kPlain},
    {"--max-tcp-connections", "", DCP_FIELD(max_tcp_connections), "COUNT",
     "Client TCP connections open at once", Range{1, 65535, ""}, kPlain},
    {"--tcp-idle-timeout", "", DCP_FIELD(tcp_idle_timeout_ms), "MS",
     "Milliseconds before an idle client TCP connection is closed", Range{100, 3600000, " ms"},
     kPlain},
    // Simultaneous client queries: what dnscrypt-proxy 2's max_clients bounds (the same default).
    {"-n,--max-active-requests", "max_clients", DCP_FIELD(max_active_requests), "COUNT",
     "Queries waiting for the resolver at once; beyond, SERVFAIL at once", Range{1, 1000000, ""},
     kPlain},
    {"--threads", "", DCP_FIELD(threads), "N",
     "Worker threads, each with its own sockets (default: one per core)", Range{1, 64, ""}, kPlain},
    {"--no-cache", "cache", DCP_FIELD(local.cache), "",
     "Send every query to the resolvers (by default answers are cached)", std::nullopt, kNegated},
    {"--cache-size", "cache_size", DCP_FIELD(local.cache_size), "COUNT",
     "Answers kept in the cache", Range{1, 10000000, ""}, kPlain},
    {"--cache-min-ttl", "cache_min_ttl", DCP_FIELD(local.cache_min_ttl), "SECONDS",
     "Shortest time an answer is kept, raising lower TTLs (above --cache-max-ttl: that)", kTtl,
     kPlain},
    {"--cache-max-ttl", "cache_max_ttl", DCP_FIELD(local.cache_max_ttl), "SECONDS",
     "Longest time an answer is kept", Range{1, 604800, " s"}, kPlain},
    {"--cache-neg-min-ttl", "cache_neg_min_ttl", DCP_FIELD(local.cache_neg_min_ttl), "SECONDS",
     "Shortest time a negative answer is kept", kTtl, kPlain},
    {"--cache-neg-max-ttl", "cache_neg_max_ttl", DCP_FIELD(local.cache_neg_max_ttl), "SECONDS",
     "Longest time a negative answer is kept", Range{1, 604800, " s"}, kPlain},
    // This proxy's own (RFC 8767); the key in a dnscrypt-proxy 2 file as well.
    {"--cache-serve-stale", "cache_serve_stale", DCP_FIELD(local.cache_serve_stale), "SECONDS",
     "Keep expired answers this long and give one (TTL 30) when the resolvers fail, RFC 8767 "
     "(0: off)",
     kTtl, kPlain},
    {"--no-cache-prefetch", "cache_prefetch", DCP_FIELD(local.cache_prefetch), "",
     "Do not refresh popular cache entries before they expire", std::nullopt, kNegated},
    {"--blocked-names", "", DCP_FIELD(local.blocked_names_file), "FILE",
     "Block names matching the patterns in FILE (dnscrypt-proxy 2's format)", std::nullopt, kPlain},
    {"--allowed-names", "", DCP_FIELD(local.allowed_names_file), "FILE",
     "Never block names matching the patterns in FILE", std::nullopt, kPlain},
    {"--blocked-ips", "", DCP_FIELD(local.blocked_ips_file), "FILE",
     "Block answers carrying an address listed in FILE", std::nullopt, kPlain},
    {"--allowed-ips", "", DCP_FIELD(local.allowed_ips_file), "FILE",
     "Never block answers carrying an address listed in FILE", std::nullopt, kPlain},
    {"--cloaking-rules", "cloaking_rules", DCP_FIELD(local.cloaking_rules), "FILE",
     "Answer names from FILE's rules (addresses, or another name's)", std::nullopt, kV2Path},
    {"--forwarding-rules", "forwarding_rules", DCP_FIELD(local.forwarding_rules), "FILE",
     "Send the domains in FILE to the plain DNS servers it names", std::nullopt, kV2Path},
    {"--captive-portals", "", DCP_FIELD(local.captive_portals_file), "FILE",
     "Answer the connectivity-check names in FILE with its addresses", std::nullopt, kPlain},
    {"--block-ipv6", "block_ipv6", DCP_FIELD(local.block_ipv6), "",
     "Answer AAAA queries here, with no address", std::nullopt, kPlain},
    {"--block-unqualified", "block_unqualified", DCP_FIELD(local.block_unqualified), "",
     "Answer NXDOMAIN to A and AAAA queries for names without a dot", std::nullopt, kPlain},
    {"--block-undelegated", "block_undelegated", DCP_FIELD(local.block_undelegated), "",
     "Answer NXDOMAIN for private and local zones no public resolver knows", std::nullopt, kPlain},
    {"--blocked-query-response", "blocked_query_response", DCP_FIELD(local.blocked_query_response),
     "RESPONSE", "refused, hinfo or a:<IPv4>,aaaa:<IPv6>", std::nullopt, kPlain},
    {"--reject-ttl", "reject_ttl", DCP_FIELD(local.reject_ttl), "SECONDS", "TTL of blocked answers",
     kTtl, kPlain},
    {"--cloak-ttl", "cloak_ttl", DCP_FIELD(local.cloak_ttl), "SECONDS", "TTL of cloaked answers",
     kTtl, kPlain},
    {"--cloak-ptr", "cloak_ptr", DCP_FIELD(local.cloak_ptr), "",
     "Answer PTR queries for the addresses of cloaking rules without wildcards", std::nullopt,
     kPlain},
    {"-d,--daemonize", "", DCP_FIELD(daemonize), "", "Run in the background", std::nullopt, kPlain},
    {"-p,--pid-file,--pidfile", "", DCP_FIELD(pid_file), "FILE", "Write the process id to FILE",
     std::nullopt, kPlain},
    {"-l,--logfile", "log_file", DCP_FIELD(logfile), "FILE", "Log to FILE (reopened on SIGHUP)",
     std::nullopt, kV2Path},
    {"-S,--syslog", "use_syslog", DCP_FIELD(syslog), "", "Log to syslog", std::nullopt, kPlain},
    {"-m,--loglevel", "", DCP_FIELD(loglevel), "LEVEL",
     "trace, debug, info, warning, error, critical, off, or a syslog number 0-7", std::nullopt,
     kPlain},
    {"-u,--user", "", DCP_FIELD(user), "USER",
     "After binding, chroot to USER's home directory and run as USER", std::nullopt, kPlain},
    {"-t,--test", "", DCP_FIELD(test_minutes), "MINUTES",
     "Fetch and print the certificate; exit 0 if it stays valid this many minutes", std::nullopt,
     kCommandLineOnly},
    // Which servers of the resolver lists to use: dnscrypt-proxy 2's keys, with its defaults.
    {"", "server_names", DCP_FIELD(catalogue.filters.server_names), "", "", std::nullopt, kPlain},
    {"", "disabled_server_names", DCP_FIELD(catalogue.filters.disabled_server_names), "", "",
     std::nullopt, kPlain},
    {"", "require_dnssec", DCP_FIELD(catalogue.filters.require_dnssec), "", "", std::nullopt,
     kPlain},
    {"", "require_nolog", DCP_FIELD(catalogue.filters.require_nolog), "", "", std::nullopt, kPlain},
    {"", "require_nofilter", DCP_FIELD(catalogue.filters.require_nofilter), "", "", std::nullopt,
     kPlain},
    {"", "ipv4_servers", DCP_FIELD(catalogue.filters.ipv4_servers), "", "", std::nullopt, kPlain},
    {"", "ipv6_servers", DCP_FIELD(catalogue.filters.ipv6_servers), "", "", std::nullopt, kPlain},
    {"", "dnscrypt_servers", DCP_FIELD(catalogue.filters.dnscrypt_servers), "", "", std::nullopt,
     kPlain},
    {"", "doh_servers", DCP_FIELD(catalogue.filters.doh_servers), "", "", std::nullopt, kPlain},
    {"", "odoh_servers", DCP_FIELD(catalogue.filters.odoh_servers), "", "", std::nullopt, kPlain},
});

#undef DCP_FIELD

// The default, as --help prints it; empty when there is nothing to show (a flag, an empty or
// unset value: the help says what that means).
// A numeric row's value in `o`; nullopt for other rows and for an unset optional value.
std::optional<std::uint64_t> number_in(const OptionSpec& spec, Options& o) {
    return std::visit(
        [&o](auto field) -> std::optional<std::uint64_t> {
            const auto& v = field(o);
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::uint16_t> || std::is_same_v<T, std::uint32_t>) {
                return v;
            } else if constexpr (std::is_same_v<T, std::optional<std::uint16_t>> ||
                                 std::is_same_v<T, std::optional<std::uint32_t>>) {
                if (v) return *v;
                return std::nullopt;
            } else {
                return std::nullopt;
            }
        },
        spec.field);
}

std::string default_text(const OptionSpec& spec) {
    static Options defaults;  // only read (the rows reach fields through non-const references)
    if (const auto n = number_in(spec, defaults)) return std::to_string(*n);
    return std::visit(
        [](auto field) -> std::string {
            const auto& value = field(defaults);
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::string>) {
                return value;
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                std::string joined;
                for (const auto& v : value) joined += (joined.empty() ? "" : ", ") + v;
                return joined;
            } else {
                return {};  // flags and unset values have no default to show
            }
        },
        spec.field);
}

}  // namespace

std::string_view OptionSpec::long_name() const {
    // CLI11's names: comma-separated, the long ones with two dashes; the first long one.
    std::string_view rest = names;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const auto name = rest.substr(0, comma);
        if (name.starts_with("--")) return name.substr(2);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return {};
}

std::span<const OptionSpec> option_table() {
    return kTable;
}

const OptionSpec* find_option(std::string_view long_name) {
    if (long_name.empty()) return nullptr;
    for (const auto& spec : kTable) {
        if (spec.long_name() == long_name) return &spec;
    }
    return nullptr;
}

const OptionSpec* find_v2_option(std::string_view v2_key) {
    if (v2_key.empty()) return nullptr;
    for (const auto& spec : kTable) {
        if (spec.v2_key == v2_key) return &spec;
    }
    return nullptr;
}

std::string help_text(const OptionSpec& spec) {
    std::string out(spec.help);
    std::string extra;
    if (!spec.is(kNoDefaultShown)) {
        if (const auto d = default_text(spec); !d.empty()) extra = "default " + d;
    }
    if (spec.range) {
        if (!extra.empty()) extra += "; ";
        extra += std::to_string(spec.range->min) + " to " + std::to_string(spec.range->max);
        extra += spec.range->unit;
    }
    if (!extra.empty()) out += " (" + extra + ")";
    return out;
}

void check_ranges(const Options& o) {
    Options options = o;  // a copy: the rows' fields are reached through non-const references
    for (const auto& spec : kTable) {
        if (!spec.range) continue;
        const auto value = number_in(spec, options);
        if (!value) continue;
        const auto& r = *spec.range;
        if (*value >= r.min && *value <= r.max) continue;
        const std::string unit(r.unit);
        throw ConfigError("--" + std::string(spec.long_name()) + ": " + std::to_string(*value) +
                          unit + " is outside " + std::to_string(r.min) + ".." +
                          std::to_string(r.max) + unit);
    }
}

}  // namespace dcp::config
