#include "app/cli.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "app/exit_status.hpp"
#include "config/config_file.hpp"

#ifndef DCP_VERSION
#define DCP_VERSION "0.0.0"
#endif

namespace dcp::app {
namespace {

void add_options(CLI::App& app, config::Options& o, std::string& config_file) {
    app.add_option("-c,--config", config_file,
                   "TOML file whose keys are these switches' long names; switches override it")
        ->type_name("FILE");
    app.add_option("-a,--local-address", o.local_addresses,
                   "Address to listen on, ip[:port] or [ipv6]:port (default 127.0.0.1:53); "
                   "repeat for several")
        ->type_name("ADDR");
    app.add_option("--local-port", o.local_port, "Port to listen on, for every local address")
        ->type_name("PORT");
    app.add_option("-r,--resolver-address", o.resolver_address,
                   "DNSCrypt resolver, ip[:port] (port 443 by default)")
        ->type_name("ADDR");
    app.add_option("-N,--provider-name", o.provider_name,
                   "Provider name of the resolver, e.g. 2.dnscrypt-cert.example.com")
        ->type_name("FQDN");
    app.add_option("--resolver", o.resolver_stamps,
                   "A resolver as a DNS stamp (sdns://...), instead of -r, -N and -k; "
                   "repeatable: every DNSCrypt and DoH stamp is used")
        ->type_name("STAMP");
    app.add_option("--lb-strategy", o.lb_strategy,
                   "With several resolvers: wp2 (default), p2, ph, p<n>, first or random, as "
                   "dnscrypt-proxy 2's lb_strategy")
        ->type_name("STRATEGY");
    app.add_flag("--no-hedging", o.no_hedging,
                 "With several resolvers: never ask a second one while the first is slow "
                 "(failover after a failure or a long silence still happens)");
    app.add_option("-k,--provider-key", o.provider_key,
                   "Provider public key: 64 hex digits, or the XXXX:XXXX:... form")
        ->type_name("KEY");
    app.add_flag("-T,--tcp-only", o.tcp_only,
                 "Talk to the resolver over TCP only; UDP clients are told to retry over TCP");
    app.add_option("--tcp-port", o.tcp_port, "Resolver TCP port; implies --tcp-only")
        ->type_name("PORT");
    app.add_option("-e,--edns-payload-size", o.edns_payload_size,
                   "UDP payload size advertised to the resolver when the client sent no EDNS "
                   "(default 1280, at most 4096; 512 or less: add none)")
        ->type_name("BYTES");
    app.add_option("--timeout", o.timeout_ms,
                   "Milliseconds to wait for the resolver before answering SERVFAIL "
                   "(default 3000)")
        ->type_name("MS");
    app.add_option("--cert-refresh", o.cert_refresh_s,
                   "Seconds between certificate checks (default 3600; also before expiry)")
        ->type_name("SECONDS");
    app.add_flag("-E,--ephemeral-keys", o.ephemeral_keys,
                 "Use a new client key pair for every query (costs one key exchange each)");
    app.add_option("-K,--client-key", o.client_key_file,
                   "File holding a fixed client secret key (64 hex digits)")
        ->type_name("FILE");
    app.add_option("--max-tcp-connections", o.max_tcp_connections,
                   "Client TCP connections open at once (default 256)")
        ->type_name("COUNT");
    app.add_option("--tcp-idle-timeout", o.tcp_idle_timeout_ms,
                   "Milliseconds before an idle client TCP connection is closed (default 10000)")
        ->type_name("MS");
    app.add_option("-n,--max-active-requests", o.max_active_requests,
                   "Queries waiting for the resolver at once; beyond, SERVFAIL at once "
                   "(default 250)")
        ->type_name("COUNT");
    app.add_option("--threads", o.threads,
                   "Worker threads, each with its own sockets (default: one per core)")
        ->type_name("N");
    app.add_flag(
        "--no-cache", [&o](std::int64_t) { o.local.cache = false; },
        "Send every query to the resolvers (by default answers are cached)");
    app.add_option("--cache-size", o.local.cache_size, "Answers kept in the cache (default 4096)")
        ->type_name("COUNT");
    app.add_option("--cache-min-ttl", o.local.cache_min_ttl,
                   "Shortest time an answer is kept, raising lower TTLs (default 60)")
        ->type_name("SECONDS");
    app.add_option("--cache-max-ttl", o.local.cache_max_ttl,
                   "Longest time an answer is kept (default 86400)")
        ->type_name("SECONDS");
    app.add_option("--cache-neg-min-ttl", o.local.cache_neg_min_ttl,
                   "Shortest time a negative answer is kept (default 60)")
        ->type_name("SECONDS");
    app.add_option("--cache-neg-max-ttl", o.local.cache_neg_max_ttl,
                   "Longest time a negative answer is kept (default 600)")
        ->type_name("SECONDS");
    app.add_option("--cache-serve-stale", o.local.cache_serve_stale,
                   "Keep expired answers this long and give one (TTL 30) when the resolvers "
                   "fail, RFC 8767 (default 0: off)")
        ->type_name("SECONDS");
    app.add_flag(
        "--no-cache-prefetch", [&o](std::int64_t) { o.local.cache_prefetch = false; },
        "Do not refresh popular cache entries before they expire");
    app.add_option("--blocked-names", o.local.blocked_names_file,
                   "Block names matching the patterns in FILE (dnscrypt-proxy 2's format)")
        ->type_name("FILE");
    app.add_option("--allowed-names", o.local.allowed_names_file,
                   "Never block names matching the patterns in FILE")
        ->type_name("FILE");
    app.add_option("--blocked-ips", o.local.blocked_ips_file,
                   "Block answers carrying an address listed in FILE")
        ->type_name("FILE");
    app.add_option("--allowed-ips", o.local.allowed_ips_file,
                   "Never block answers carrying an address listed in FILE")
        ->type_name("FILE");
    app.add_option("--cloaking-rules", o.local.cloaking_rules,
                   "Answer names from FILE's rules (addresses, or another name's)")
        ->type_name("FILE");
    app.add_option("--forwarding-rules", o.local.forwarding_rules,
                   "Send the domains in FILE to the plain DNS servers it names")
        ->type_name("FILE");
    app.add_option("--captive-portals", o.local.captive_portals_file,
                   "Answer the connectivity-check names in FILE with its addresses")
        ->type_name("FILE");
    app.add_flag("--block-ipv6", o.local.block_ipv6, "Answer AAAA queries here, with no address");
    app.add_flag("--block-unqualified", o.local.block_unqualified,
                 "Answer NXDOMAIN to A and AAAA queries for names without a dot");
    app.add_flag("--block-undelegated", o.local.block_undelegated,
                 "Answer NXDOMAIN for private and local zones no public resolver knows");
    app.add_option("--blocked-query-response", o.local.blocked_query_response,
                   "refused, hinfo (default) or a:<IPv4>,aaaa:<IPv6>")
        ->type_name("RESPONSE");
    app.add_option("--reject-ttl", o.local.reject_ttl, "TTL of blocked answers (default 600)")
        ->type_name("SECONDS");
    app.add_option("--cloak-ttl", o.local.cloak_ttl, "TTL of cloaked answers (default 600)")
        ->type_name("SECONDS");
    app.add_flag("--cloak-ptr", o.local.cloak_ptr,
                 "Answer PTR queries for the addresses of cloaking rules without wildcards");
    app.add_flag("-d,--daemonize", o.daemonize, "Run in the background");
    app.add_option("-p,--pid-file,--pidfile", o.pid_file, "Write the process id to FILE")
        ->type_name("FILE");
    app.add_option("-l,--logfile", o.logfile, "Log to FILE (reopened on SIGHUP)")
        ->type_name("FILE");
    app.add_flag("-S,--syslog", o.syslog, "Log to syslog");
    app.add_option("-m,--loglevel", o.loglevel,
                   "trace, debug, info, warning, error, critical, off, or a syslog number 0-7 "
                   "(default info)")
        ->type_name("LEVEL");
    app.add_option("-u,--user", o.user,
                   "After binding, chroot to USER's home directory and run as USER")
        ->type_name("USER");
    app.add_option("-t,--test", o.test_minutes,
                   "Fetch and print the certificate; exit 0 if it stays valid this many minutes")
        ->type_name("MINUTES");
}

// The --config value, found before the real parse so the file can be read first and the
// command line can then override it.
std::optional<std::string> find_config_file(int argc, char** argv) {
    std::optional<std::string> found;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
            found = argv[++i];
        } else if (arg.rfind("--config=", 0) == 0) {
            found = arg.substr(std::strlen("--config="));
        }
    }
    return found;
}

}  // namespace

dcp::Result<CommandLine, int> parse_command_line(int argc, char** argv) {
    CLI::App app{
        "dnscrypt-proxy: forwards DNS queries to DNSCrypt and DNS-over-HTTPS resolvers, "
        "authenticated and encrypted",
        "dnscrypt-proxy"};
    CommandLine cli;
    config::Options& options = cli.options;
    std::string config_file;
    add_options(app, options, config_file);
    app.add_flag("--list", cli.list,
                 "Print the servers the resolver list knows that pass the filters, and exit");
    app.add_flag("--list-all", cli.list_all,
                 "Print every server the resolver list knows, and exit");
    app.add_flag("--json", cli.json,
                 "With --list or --list-all: JSON, as dnscrypt-proxy 2 prints it");
    app.set_version_flag("-V,--version", std::string("dnscrypt-proxy ") + DCP_VERSION);
    // A switch given twice: the last one wins, as with most Unix tools (and so a wrapper script
    // can append overrides).
    for (auto* opt : app.get_options()) {
        if (opt->get_expected_max() <= 1) {
            opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
        }
    }
    try {
        // The file first; the command line, parsed into the same options, overrides it.
        if (const auto file = find_config_file(argc, argv)) {
            config::load_config_file(*file, options);
        }
        app.parse(argc, argv);
        if (app.count("--user") > 0) options.user_chroot = true;  // the switch always chroots
    } catch (const CLI::Success& e) {
        return Unexpected(app.exit(e));  // --help, --version
    } catch (const CLI::ParseError& e) {
        // A usage error like any other: exit status 2, one line (CLI11's own status and its
        // "Run with --help" line would make scripts tell it apart from a bad value in the file).
        std::fprintf(stderr, "dnscrypt-proxy: %s (see --help)\n", e.what());
        return Unexpected(kExitUsage);
    } catch (const config::ConfigError& e) {
        std::fprintf(stderr, "dnscrypt-proxy: %s\n", e.what());
        return Unexpected(kExitUsage);
    }
    return cli;
}

}  // namespace dcp::app
