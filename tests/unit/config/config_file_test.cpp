#include "config/config_file.hpp"

#include <gtest/gtest.h>

#include <string>

namespace dcp::config {
namespace {

Options load(const std::string& text) {
    Options o;
    load_config_text(text, "test.toml", o);
    return o;
}

std::string error_of(const std::string& text) {
    try {
        (void)load(text);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(ConfigFile, EveryKeyLandsInItsField) {
    const auto o = load(R"(
local-address = ["127.0.0.1:5300", "[::1]:5300"]
local-port = 5353
resolver-address = "192.0.2.53:8443"
provider-name = "2.dnscrypt-cert.example.com"
provider-key = "B735:1140:206F:225D:3E2B:D822:D7FD:691E:A1C3:3CC8:D666:8D0C:BE04:BFAB:CA43:FB79"
tcp-only = true
tcp-port = 8444
edns-payload-size = 1232
timeout = 2500
cert-refresh = 600
ephemeral-keys = true
client-key = "/etc/key"
max-tcp-connections = 77
tcp-idle-timeout = 4321
max-active-requests = 99
threads = 3
daemonize = true
pid-file = "/run/p.pid"
logfile = "/var/log/p.log"
syslog = true
loglevel = "debug"
user = "_dcp"
)");
    EXPECT_EQ(o.local_addresses, (std::vector<std::string>{"127.0.0.1:5300", "[::1]:5300"}));
    EXPECT_EQ(o.local_port, 5353);
    EXPECT_EQ(o.resolver_address, "192.0.2.53:8443");
    EXPECT_EQ(o.provider_name, "2.dnscrypt-cert.example.com");
    EXPECT_EQ(o.provider_key.substr(0, 9), "B735:1140");
    EXPECT_TRUE(o.tcp_only);
    EXPECT_EQ(o.tcp_port, 8444);
    EXPECT_EQ(o.edns_payload_size, 1232);
    EXPECT_EQ(o.timeout_ms, 2500u);
    EXPECT_EQ(o.cert_refresh_s, 600u);
    EXPECT_TRUE(o.ephemeral_keys);
    EXPECT_EQ(o.client_key_file, "/etc/key");
    EXPECT_EQ(o.max_tcp_connections, 77u);
    EXPECT_EQ(o.tcp_idle_timeout_ms, 4321u);
    EXPECT_EQ(o.max_active_requests, 99u);
    EXPECT_EQ(o.threads, 3u);
    EXPECT_TRUE(o.daemonize);
    EXPECT_EQ(o.pid_file, "/run/p.pid");
    EXPECT_EQ(o.logfile, "/var/log/p.log");
    EXPECT_TRUE(o.syslog);
    EXPECT_EQ(o.loglevel, "debug");
    EXPECT_EQ(o.user, "_dcp");
}

TEST(ConfigFile, OneStringForAListOfAddresses) {
    EXPECT_EQ(load("local-address = \"127.0.0.1\"\n").local_addresses,
              std::vector<std::string>{"127.0.0.1"});
}

TEST(ConfigFile, AnEmptyFileChangesNothing) {
    const Options defaults;
    const auto o = load("# only a comment\n");
    EXPECT_EQ(o.timeout_ms, defaults.timeout_ms);
    EXPECT_EQ(o.local_addresses, defaults.local_addresses);
    EXPECT_FALSE(o.threads);
}

TEST(ConfigFile, ErrorsNameTheFileTheLineAndTheKey) {
    EXPECT_EQ(error_of("\n\nresolver-adress = \"1.2.3.4\"\n"),
              "test.toml line 3: unknown key 'resolver-adress'");
    EXPECT_EQ(error_of("timeout = \"soon\"\n"),
              "test.toml line 1: 'timeout' must be an integer from 0 to 4294967295");
    EXPECT_EQ(error_of("local-port = 70000\n"),
              "test.toml line 1: 'local-port' must be an integer from 0 to 65535");
    EXPECT_EQ(error_of("timeout = -1\n"),
              "test.toml line 1: 'timeout' must be an integer from 0 to 4294967295");
    EXPECT_EQ(error_of("tcp-only = 1\n"), "test.toml line 1: 'tcp-only' must be true or false");
    EXPECT_EQ(error_of("user = 5\n"), "test.toml line 1: 'user' must be a string");
    EXPECT_EQ(error_of("local-address = [\"a\", 1]\n"),
              "test.toml line 1: 'local-address' must be a string or an array of strings");
    EXPECT_EQ(error_of("timeout = 1.5\n"),
              "test.toml line 1: 'timeout' must be an integer from 0 to 4294967295");
}

TEST(ConfigFile, SyntaxErrorsHaveALine) {
    const auto e = error_of("a = 1\nthis is not toml\n");
    EXPECT_EQ(e.rfind("test.toml line 2: ", 0), 0u) << e;
}

TEST(ConfigFile, ATableMeansADnscryptProxy2File) {
    EXPECT_EQ(error_of("[static]\nx = 1\n"), "test.toml line 2: [static.x] needs a stamp");
}

// dnscrypt-proxy 2's dialect: its keys land where this proxy acts on them; every other key is
// collected for one warning; relative paths are read from the file's directory.
TEST(ConfigFile, DnscryptProxy2Keys) {
    Options o;
    load_config_text(R"(listen_addresses = ['127.0.0.1:5300', '[::1]:5300']
server_names = ['a', 'b']
disabled_server_names = ['c']
require_dnssec = true
require_nolog = false
require_nofilter = false
ipv4_servers = false
ipv6_servers = true
dnscrypt_servers = true
doh_servers = false
odoh_servers = true
max_clients = 99
force_tcp = true
timeout = 2500
cert_refresh_delay = 30
log_level = 3
log_file = 'proxy.log'
use_syslog = true
user_name = 'nobody'
dnscrypt_ephemeral_keys = true
cache = true
block_ipv6 = false
lb_strategy = 'p3'
lb_estimator = false
[query_log]
  format = 'tsv'
[allowed_names]
[sources]
  [sources.lists]
  urls = ['https://example.invalid/l.md']
  cache_file = 'l.md'
  minisign_key = 'RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3'
  refresh_delay = 24
  prefix = 'x-'
  cache_ttl = 3
[static]
  [static.mine]
  stamp = 'sdns://AQcAAAAAAAAADjIxMi40Ny4yMjguMTM2IOgBuE6mBr-wusDOQ0RbsV66ZLAvo8SqMa4QY2oHkDJNHzIuZG5zY3J5cHQtY2VydC5mci5kbnNjcnlwdC5vcmc'
)",
                     "/etc/dnscrypt-proxy/dnscrypt-proxy.toml", o);
    EXPECT_TRUE(o.dnscrypt_proxy2_file);
    EXPECT_EQ(o.local_addresses, (std::vector<std::string>{"127.0.0.1:5300", "[::1]:5300"}));
    const auto& c = o.catalogue;
    const auto& f = c.filters;
    EXPECT_EQ(f.server_names, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(f.disabled_server_names, std::vector<std::string>{"c"});
    EXPECT_TRUE(f.require_dnssec);
    EXPECT_FALSE(f.require_nolog || f.require_nofilter || f.ipv4_servers || f.doh_servers);
    EXPECT_TRUE(f.ipv6_servers && f.dnscrypt_servers && f.odoh_servers);
    EXPECT_EQ(o.max_active_requests, 99U);
    EXPECT_TRUE(o.tcp_only);
    EXPECT_EQ(o.timeout_ms, 2500U);
    EXPECT_EQ(o.cert_refresh_s, 1800U);  // minutes there
    EXPECT_EQ(o.loglevel, "warning");
    EXPECT_EQ(o.logfile, "/etc/dnscrypt-proxy/proxy.log");
    EXPECT_TRUE(o.syslog);
    EXPECT_EQ(o.user, "nobody");
    EXPECT_TRUE(o.ephemeral_keys);
    ASSERT_EQ(c.sources.size(), 1U);
    EXPECT_EQ(c.sources[0].name, "lists");
    EXPECT_EQ(c.sources[0].urls, std::vector<std::string>{"https://example.invalid/l.md"});
    EXPECT_EQ(c.sources[0].cache_file, "/etc/dnscrypt-proxy/l.md");
    EXPECT_EQ(c.sources[0].refresh_delay_hours, 24);
    EXPECT_EQ(c.sources[0].prefix, "x-");
    ASSERT_EQ(c.statics.size(), 1U);
    EXPECT_EQ(c.statics[0].name, "mine");
    // Not acted on: named; switched off (false) or empty: changes nothing, not named.
    EXPECT_EQ(o.lb_strategy, "p3");
    EXPECT_FALSE(o.lb_estimator);
    EXPECT_TRUE(o.local.cache);  // acted on since the cache exists
    EXPECT_EQ(o.unimplemented_keys,
              (std::vector<std::string>{"query_log", "sources.lists.cache_ttl"}));
}

TEST(ConfigFile, DnscryptProxy2AnonymizedDns) {
    const auto o = load(R"(server_names = ['x']
[anonymized_dns]
routes = [
  { server_name='x', via=['anon-1', 'sdns://gRIxMzcuNzQuMjIzLjIzNDo0NDM'] },
  { server_name='*', via=['*'] },
]
skip_incompatible = true
direct_cert_fallback = true
)");
    const auto& r = o.catalogue.routes;
    ASSERT_EQ(r.size(), 2U);
    EXPECT_EQ(r[0].server_name, "x");
    EXPECT_EQ(r[0].via, (std::vector<std::string>{"anon-1", "sdns://gRIxMzcuNzQuMjIzLjIzNDo0NDM"}));
    EXPECT_EQ(r[1].server_name, "*");
    EXPECT_EQ(r[1].via, std::vector<std::string>{"*"});
    EXPECT_TRUE(o.catalogue.skip_incompatible);
    // Certificates are fetched through the relay only: the fallback is named, not acted on.
    EXPECT_EQ(o.unimplemented_keys,
              std::vector<std::string>{"anonymized_dns.direct_cert_fallback"});
    // Off (false) changes nothing here either.
    EXPECT_TRUE(
        load("[anonymized_dns]\ndirect_cert_fallback = false\n").unimplemented_keys.empty());
    EXPECT_EQ(error_of("[anonymized_dns]\nroutes = [{ server_name = 'x' }]\n"),
              "test.toml line 2: each anonymized_dns route needs server_name and via");
    EXPECT_EQ(error_of("[anonymized_dns]\nroutes = 'x'\n"),
              "test.toml line 2: 'anonymized_dns.routes' must be an array of { server_name, via } "
              "tables");
}

TEST(ConfigFile, DnscryptProxy2Errors) {
    EXPECT_EQ(error_of("listen_addresses = 5\n"),
              "test.toml line 1: 'listen_addresses' must be a string or an array of strings");
    EXPECT_EQ(error_of("log_level = 9\n"),
              "test.toml line 1: 'log_level' must be an integer from 0 to 6");
    EXPECT_EQ(error_of("[sources]\nx = 1\n"), "test.toml line 2: [sources.x] must be a table");
    EXPECT_EQ(error_of("[sources.x]\nformat = 'v1'\n"),
              "test.toml line 2: 'sources.x.format' must be \"v2\" (the only list format)");
    // Our own dialect stays strict.
    EXPECT_EQ(error_of("resolver-adress = 'x'\n"),
              "test.toml line 1: unknown key 'resolver-adress'");
}

TEST(ConfigFile, DnscryptProxy2LocalAnswers) {
    Options o;
    load_config_text(R"(listen_addresses = ['127.0.0.1:5300']
cache = true
cache_size = 100
cache_min_ttl = 5
cache_max_ttl = 600
cache_neg_ttl = 30
block_ipv6 = true
block_unqualified = true
block_undelegated = true
blocked_query_response = 'refused'
reject_ttl = 7
cloaking_rules = 'cloak.txt'
cloak_ttl = 9
cloak_ptr = true
forwarding_rules = '/etc/fwd.txt'
[blocked_names]
  blocked_names_file = 'blocked.txt'
  log_file = 'blocked.log'
[allowed_ips]
  allowed_ips_file = 'aips.txt'
[ip_blacklist]
  blacklist_file = 'bips.txt'
[captive_portals]
  map_file = 'captive.txt'
[schedules]
  [schedules.night]
    mon = [{after='21:00', before='7:00'}]
    sun = [{after='0:00', before='6:30'}, {after='22:00', before='23:59'}]
  [schedules.never]
)",
                     "/conf/dnscrypt-proxy.toml", o);
    const auto& l = o.local;
    EXPECT_TRUE(l.cache);
    EXPECT_EQ(l.cache_size, 100U);
    EXPECT_EQ(l.cache_min_ttl, 5U);
    EXPECT_EQ(l.cache_neg_min_ttl, 30U);
    EXPECT_EQ(l.cache_neg_max_ttl, 30U);
    EXPECT_TRUE(l.block_ipv6 && l.block_unqualified && l.block_undelegated && l.cloak_ptr);
    EXPECT_EQ(l.blocked_query_response, "refused");
    EXPECT_EQ(l.reject_ttl, 7U);
    EXPECT_EQ(l.cloak_ttl, 9U);
    // Relative paths from the file's directory, as dnscrypt-proxy 2 reads them.
    EXPECT_EQ(l.cloaking_rules, "/conf/cloak.txt");
    EXPECT_EQ(l.forwarding_rules, "/etc/fwd.txt");
    EXPECT_EQ(l.blocked_names_file, "/conf/blocked.txt");
    EXPECT_EQ(l.allowed_ips_file, "/conf/aips.txt");
    EXPECT_EQ(l.blocked_ips_file, "/conf/bips.txt");
    EXPECT_EQ(l.captive_portals_file, "/conf/captive.txt");
    ASSERT_EQ(l.schedules.size(), 2U);
    const auto& night = l.schedules.at("night");
    ASSERT_EQ(night.days[1].size(), 1U);
    EXPECT_EQ(night.days[1][0].after, 21 * 60);
    EXPECT_EQ(night.days[1][0].before, 7 * 60);
    EXPECT_EQ(night.days[0].size(), 2U);
    EXPECT_TRUE(l.schedules.at("never").days[1].empty());
    EXPECT_EQ(o.unimplemented_keys, std::vector<std::string>{"blocked_names.log_file"});
    EXPECT_EQ(error_of("[schedules.x]\nmonday = []\n"),
              "test.toml line 2: 'schedules.x.monday' is not a day (sun, mon, tue, wed, thu, "
              "fri, sat)");
    EXPECT_EQ(error_of("[schedules.x]\nmon = [{after='25:00', before='1:00'}]\n"),
              "test.toml line 2: 'schedules.x.mon' '25:00' is not a time (HH:MM)");
    EXPECT_EQ(error_of("[schedules.x]\nmon = [{after='1:00'}]\n"),
              "test.toml line 2: 'schedules.x.mon' must be an array of {after='HH:MM', "
              "before='HH:MM'}");
}

TEST(ConfigFile, OwnKeysForLocalAnswers) {
    const auto o = load(R"(no-cache = true
cache-size = 10
cache-min-ttl = 1
cache-max-ttl = 2
cache-neg-min-ttl = 3
cache-neg-max-ttl = 4
cache-serve-stale = 5
no-cache-prefetch = true
blocked-names = "b.txt"
allowed-names = "a.txt"
blocked-ips = "bi.txt"
allowed-ips = "ai.txt"
cloaking-rules = "c.txt"
forwarding-rules = "f.txt"
captive-portals = "p.txt"
block-ipv6 = true
block-unqualified = true
block-undelegated = true
blocked-query-response = "refused"
reject-ttl = 6
cloak-ttl = 7
cloak-ptr = true
)");
    const auto& l = o.local;
    EXPECT_FALSE(l.cache);
    EXPECT_FALSE(l.cache_prefetch);
    EXPECT_EQ(l.cache_size, 10U);
    EXPECT_EQ(l.cache_min_ttl + l.cache_max_ttl + l.cache_neg_min_ttl + l.cache_neg_max_ttl +
                  l.cache_serve_stale + l.reject_ttl + l.cloak_ttl,
              1U + 2U + 3U + 4U + 5U + 6U + 7U);
    EXPECT_EQ(l.blocked_names_file + l.allowed_names_file + l.blocked_ips_file +
                  l.allowed_ips_file + l.cloaking_rules + l.forwarding_rules +
                  l.captive_portals_file,
              "b.txta.txtbi.txtai.txtc.txtf.txtp.txt");
    EXPECT_TRUE(l.block_ipv6 && l.block_unqualified && l.block_undelegated && l.cloak_ptr);
    EXPECT_EQ(l.blocked_query_response, "refused");
}

TEST(ConfigFile, MissingFileIsAnError) {
    Options o;
    try {
        load_config_file("/nonexistent/dcp.toml", o);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("/nonexistent/dcp.toml", 0), 0u) << e.what();
    }
}

}  // namespace
}  // namespace dcp::config
