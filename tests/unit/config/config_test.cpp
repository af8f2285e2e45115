#include "config/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <thread>

#include "common/hex.hpp"
#include "upstream/doh_config.hpp"
#include "upstream/resolver_config.hpp"

namespace dcp::config {
namespace {

Options custom() {
    Options o;
    o.resolver_address = "192.0.2.53";
    o.provider_name = "2.dnscrypt-cert.example.test";
    o.provider_key =
        "B735:1140:206F:225D:3E2B:D822:D7FD:691E:A1C3:3CC8:D666:8D0C:BE04:BFAB:CA43:FB79";
    return o;
}

// The first server's DNSCrypt configuration, as its transport gets it.
upstream::ResolverConfig dnscrypt_of(const Settings& s) {
    return upstream::resolver_config(s.servers.at(0), s.transport);
}

std::string error_of(const Options& o) {
    try {
        (void)validate(o);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(Config, DefaultsUseTheCompiledInResolver) {
    const auto s = validate(Options{});
    ASSERT_EQ(s.listen.size(), 1u);
    EXPECT_EQ(s.listen[0].address().to_string(), "127.0.0.1");
    EXPECT_EQ(s.listen[0].port(), 53);
    EXPECT_EQ(dnscrypt_of(s).provider_name_text, "2.dnscrypt-cert.quad9.net");  // Quad9, no filter
    EXPECT_EQ(hex_encode(dnscrypt_of(s).provider_key),
              "67c847b8c8758cd120245543be756746df34df1d84c00b8c470368df821d863e");
    EXPECT_EQ(dnscrypt_of(s).address.to_string(), "9.9.9.10");
    EXPECT_EQ(dnscrypt_of(s).port, 8443);
    EXPECT_EQ(dnscrypt_of(s).tcp_port, 8443);
    EXPECT_FALSE(dnscrypt_of(s).tcp_only);
    EXPECT_EQ(s.processor.edns_payload_size, 1280);
    EXPECT_EQ(dnscrypt_of(s).timeout.count(), 3000);
}

TEST(Config, EverySwitchLandsWhereItActs) {
    auto o = custom();
    o.local_addresses = {"127.0.0.2", "[::1]:5300"};
    o.local_port = 5353;
    o.tcp_port = 8443;
    o.edns_payload_size = 4096;
    o.timeout_ms = 700;
    o.cert_refresh_s = 60;
    o.ephemeral_keys = true;
    o.max_tcp_connections = 9;
    o.tcp_idle_timeout_ms = 1234;
    const auto s = validate(o);
    ASSERT_EQ(s.listen.size(), 2u);
    EXPECT_EQ(s.listen[0].port(), 5353);  // --local-port overrides every address's port
    EXPECT_EQ(s.listen[1].port(), 5353);
    EXPECT_TRUE(s.listen[1].address().is_v6());
    EXPECT_EQ(dnscrypt_of(s).port, 443);
    EXPECT_EQ(dnscrypt_of(s).tcp_port, 8443);
    EXPECT_TRUE(dnscrypt_of(s).tcp_only);  // --tcp-port implies it
    EXPECT_TRUE(s.processor.tcp_only);
    EXPECT_EQ(s.processor.edns_payload_size, 4096);
    EXPECT_EQ(dnscrypt_of(s).timeout.count(), 700);
    EXPECT_EQ(dnscrypt_of(s).cert_refresh.count(), 60);
    EXPECT_TRUE(dnscrypt_of(s).ephemeral_keys);
    EXPECT_EQ(s.tcp.max_connections, 9u);
    EXPECT_EQ(s.tcp.idle_timeout.count(), 1234);
}

TEST(Config, Threads) {
    auto o = custom();
    // One per core (what the README promises), within 1..64.
    const std::size_t cores = std::thread::hardware_concurrency();
    EXPECT_EQ(validate(o).threads, std::clamp<std::size_t>(cores, 1, 64));
    o.threads = 3;
    EXPECT_EQ(validate(o).threads, 3u);
    o.threads = 0;
    EXPECT_NE(error_of(o).find("--threads"), std::string::npos);
    o.threads = 65;
    EXPECT_NE(error_of(o).find("--threads"), std::string::npos);
}

TEST(Config, ClearErrors) {
    auto o = custom();
    o.provider_key = "nope";
    EXPECT_NE(error_of(o).find("--provider-key"), std::string::npos);
    o = custom();
    o.provider_name = "a..b";
    EXPECT_NE(error_of(o).find("--provider-name"), std::string::npos);
    o = custom();
    o.resolver_address = "dns.example";
    EXPECT_NE(error_of(o).find("--resolver-address"), std::string::npos);
    o = custom();
    o.provider_name.clear();
    EXPECT_NE(error_of(o).find("--provider-name"), std::string::npos);
    Options only_name;
    only_name.provider_name = "x.example";
    EXPECT_NE(error_of(only_name).find("--resolver-address"), std::string::npos);
    o = custom();
    o.edns_payload_size = 5000;
    EXPECT_NE(error_of(o).find("4096"), std::string::npos);
    o = custom();
    o.timeout_ms = 5;
    EXPECT_NE(error_of(o).find("--timeout"), std::string::npos);
    o = custom();
    o.local_addresses = {"127.0.0.1:99999"};
    EXPECT_NE(error_of(o).find("--local-address"), std::string::npos);
}

TEST(Config, LogLevels) {
    EXPECT_EQ(parse_log_level("trace"), LogLevel::Trace);
    EXPECT_EQ(parse_log_level("notice"), LogLevel::Info);
    EXPECT_EQ(parse_log_level("warn"), LogLevel::Warning);
    EXPECT_EQ(parse_log_level("off"), LogLevel::Off);
    EXPECT_EQ(parse_log_level("0"), LogLevel::Critical);  // syslog emerg
    EXPECT_EQ(parse_log_level("3"), LogLevel::Error);
    EXPECT_EQ(parse_log_level("4"), LogLevel::Warning);
    EXPECT_EQ(parse_log_level("6"), LogLevel::Info);
    EXPECT_EQ(parse_log_level("7"), LogLevel::Debug);
    for (const char* bad : {"", "8", "-1", "INFO", "loud", "77", "info "}) {
        EXPECT_EQ(parse_log_level(bad), std::nullopt) << bad;
    }
    // A bad level is found by validate(), with the other configuration errors (exit status 2),
    // not when logging starts.
    auto o = custom();
    o.loglevel = "loud";
    EXPECT_NE(error_of(o).find("--loglevel: 'loud' is not a level"), std::string::npos);
    o.loglevel = "warning";
    EXPECT_EQ(validate(o).service.loglevel, LogLevel::Warning);
}

TEST(Config, CatalogueFromADnscryptProxy2File) {
    Options o;
    o.dnscrypt_proxy2_file = true;
    EXPECT_NE(error_of(o).find("names no server"), std::string::npos);
    o.catalogue.sources.push_back(
        {"lists", {}, "", "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3", 0, ""});
    EXPECT_EQ(error_of(o), "[sources.lists]: cache_file is missing");
    o.catalogue.sources[0].cache_file = "/var/cache/lists.md";
    o.catalogue.sources[0].minisign_key = "RWQ";
    EXPECT_NE(error_of(o).find("[sources.lists]: minisign_key: bad minisign public key"),
              std::string::npos);
    o.catalogue.sources[0].minisign_key =
        "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3";
    o.catalogue.statics.push_back({"mine", "sdns://gQA"});
    EXPECT_EQ(error_of(o), "[static.mine] stamp: address: empty (at byte 1)");
    o.catalogue.statics.clear();
    o.unimplemented_keys = {"cache", "query_log"};
    auto s = validate(o);
    ASSERT_TRUE(s.catalogue.has_value());
    EXPECT_EQ(s.catalogue->sources[0].refresh_delay, std::chrono::hours(72));  // 0: the default
    EXPECT_EQ(s.notes, std::vector<std::string>{
                           "dnscrypt-proxy 2 settings not acted on (not implemented yet): cache, "
                           "query_log"});
    o.catalogue.sources[0].refresh_delay_hours = 1000;  // at most a week, as dnscrypt-proxy 2
    EXPECT_EQ(validate(o).catalogue->sources[0].refresh_delay, std::chrono::hours(168));
    // The command line's resolver wins over the file's servers, and says so.
    o.resolver_address = "192.0.2.1";
    o.provider_name = "2.dnscrypt-cert.example.org";
    o.provider_key = std::string(64, 'a');
    s = validate(o);
    EXPECT_FALSE(s.catalogue.has_value());
    EXPECT_NE(s.notes[0].find("the resolver given on the command line is used"), std::string::npos);
}

TEST(Config, EveryRangeAtItsBothEnds) {
    // validate() is the one place ranges are checked, for the file and the command line alike.
    struct Case {
        void (*set)(Options&, std::uint64_t);
        std::uint64_t lo, hi;
        const char* message_start;
    };
    const Case cases[] = {
        {[](Options& o, std::uint64_t v) { o.timeout_ms = static_cast<std::uint32_t>(v); }, 100,
         60000, "--timeout: "},
        {[](Options& o, std::uint64_t v) { o.cert_refresh_s = static_cast<std::uint32_t>(v); }, 1,
         86400, "--cert-refresh: "},
        {[](Options& o, std::uint64_t v) { o.max_tcp_connections = static_cast<std::uint32_t>(v); },
         1, 65535, "--max-tcp-connections: "},
        {[](Options& o, std::uint64_t v) { o.tcp_idle_timeout_ms = static_cast<std::uint32_t>(v); },
         100, 3600000, "--tcp-idle-timeout: "},
        {[](Options& o, std::uint64_t v) { o.max_active_requests = static_cast<std::uint32_t>(v); },
         1, 1000000, "--max-active-requests: "},
        {[](Options& o, std::uint64_t v) { o.threads = static_cast<std::uint32_t>(v); }, 1, 64,
         "--threads: "},
        {[](Options& o, std::uint64_t v) { o.local_port = static_cast<std::uint16_t>(v); }, 1,
         65535, "--local-port: "},
        {[](Options& o, std::uint64_t v) { o.tcp_port = static_cast<std::uint16_t>(v); }, 1, 65535,
         "--tcp-port: "},
        {[](Options& o, std::uint64_t v) { o.edns_payload_size = static_cast<std::uint16_t>(v); },
         0, 4096, "--edns-payload-size: "},
    };
    for (const auto& c : cases) {
        for (const auto v : {c.lo, c.hi}) {
            auto o = custom();
            c.set(o, v);
            EXPECT_EQ(error_of(o), "") << c.message_start << v;
        }
        const std::uint64_t limit = c.message_start == std::string("--local-port: ") ||
                                            c.message_start == std::string("--tcp-port: ") ||
                                            c.message_start == std::string("--edns-payload-size: ")
                                        ? 65535
                                        : 4294967295u;
        for (const auto v : {c.lo - 1, c.hi + 1}) {
            if (c.lo == 0 && v == c.lo - 1) continue;  // nothing below 0
            if (v > limit) continue;                   // the field cannot hold it
            auto o = custom();
            c.set(o, v);
            EXPECT_EQ(error_of(o).rfind(std::string(c.message_start) + std::to_string(v), 0), 0u)
                << error_of(o);
        }
    }
}

TEST(Config, DohStampsBecomeDohServers) {
    // Parsing only: nothing is sent anywhere.
    Options o;
    const std::string cloudflare =
        "sdns://AgcAAAAAAAAABzEuMC4wLjEAEmRucy5jbG91ZGZsYXJlLmNvbQovZG5zLXF1ZXJ5";
    // ../shared/spec/stamps.md 4.6: no address, one hash.
    const std::string dnshome =
        "sdns://"
        "AgcAAAAAAAAAACAy7bsRzCWPvjPCzSShSScPC-b0RvVyZLO9HCW5hTMnLg5kbnMuZG5zaG9tZS5kZQovZG5z"
        "LXF1ZXJ5";
    stamp::Stamp with_port;
    with_port.protocol = stamp::Protocol::DoH;
    with_port.address = "192.0.2.1";
    with_port.hostname = "doh.example:8443";
    with_port.path = "/q";
    o.resolver_stamps = {cloudflare, dnshome, *stamp::encode(with_port), cloudflare};
    o.timeout_ms = 1234;
    const auto s = validate(o);
    ASSERT_EQ(s.servers.size(), 3u);  // the repeated one once
    for (const auto& server : s.servers) EXPECT_EQ(server.stamp.protocol, stamp::Protocol::DoH);
    EXPECT_NE(s.servers[0].id, s.servers[1].id);
    EXPECT_NE(s.servers[1].id, s.servers[2].id);
    const auto doh_of = [&](std::size_t i) {
        return upstream::doh_config(s.servers[i], s.transport);
    };

    const auto cf = doh_of(0);
    EXPECT_EQ(cf.name, "dns.cloudflare.com");
    EXPECT_EQ(cf.host, "dns.cloudflare.com");
    EXPECT_EQ(cf.authority, "dns.cloudflare.com");
    EXPECT_EQ(cf.port, 443);
    EXPECT_EQ(cf.path, "/dns-query");
    EXPECT_EQ(cf.address, asio::ip::make_address("1.0.0.1"));
    EXPECT_TRUE(cf.hashes.empty());
    EXPECT_EQ(cf.timeout, std::chrono::milliseconds(1234));
    EXPECT_EQ(cf.url(), "https://dns.cloudflare.com/dns-query");

    const auto dh = doh_of(1);
    EXPECT_FALSE(dh.address.has_value());  // resolved when connecting
    EXPECT_EQ(dh.host, "dns.dnshome.de");
    ASSERT_EQ(dh.hashes.size(), 1u);
    EXPECT_EQ(hex_encode(Bytes(dh.hashes[0].data(), 32)),
              "32edbb11cc258fbe33c2cd24a149270f0be6f446f57264b3bd1c25b98533272e");

    const auto wp = doh_of(2);
    EXPECT_EQ(wp.host, "doh.example");
    EXPECT_EQ(wp.authority, "doh.example:8443");
    EXPECT_EQ(wp.port, 8443);
    EXPECT_EQ(wp.url(), "https://doh.example:8443/q");

    stamp::Stamp dot;
    dot.protocol = stamp::Protocol::DoT;
    dot.address = "192.0.2.1";
    dot.hostname = "dot.example";
    Options only_dot;
    only_dot.resolver_stamps = {*stamp::encode(dot)};
    EXPECT_NE(error_of(only_dot).find("no DNSCrypt or DoH stamp"), std::string::npos);
}

}  // namespace
}  // namespace dcp::config
