#include "config/config.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/hex.hpp"
#include "config/defaults.hpp"
#include "dnscrypt/provider_key.hpp"
#include "net/endpoint.hpp"

namespace dcp::config {
namespace {

constexpr std::uint16_t kDefaultDnsPort = 53;
constexpr std::uint16_t kDefaultDnsCryptPort = 443;
constexpr std::uint16_t kMaxEdnsPayload = 4096;
// More workers than this only add sockets and memory: the resolver is the limit long before.
constexpr std::uint32_t kMaxThreads = 64;

net::HostPort parse_address(const std::string& option, const std::string& text) {
    std::string error;
    const auto hp = net::parse_host_port(text, error);
    if (!hp) throw ConfigError(option + ": " + error);
    return *hp;
}

}  // namespace

Settings validate(const Options& o) {
    Settings s;

    const auto locals = o.local_addresses.empty() ? std::vector<std::string>{kDefaultLocalAddress}
                                                  : o.local_addresses;
    for (const auto& text : locals) {
        const auto hp = parse_address("--local-address", text);
        const std::uint16_t port = o.local_port.value_or(hp.port.value_or(kDefaultDnsPort));
        s.listen.emplace_back(hp.address, port);
    }

    const bool custom = !o.resolver_address.empty();
    if (custom && (o.provider_name.empty() || o.provider_key.empty())) {
        throw ConfigError(
            "--resolver-address needs --provider-name and --provider-key as well (they identify "
            "the resolver and authenticate its certificates)");
    }
    if (!custom && (!o.provider_name.empty() || !o.provider_key.empty())) {
        throw ConfigError("--provider-name and --provider-key need --resolver-address");
    }
    const auto resolver =
        parse_address("--resolver-address", custom ? o.resolver_address : kDefaultResolverAddress);
    auto& r = s.resolver;
    r.address = resolver.address;
    r.port = resolver.port.value_or(kDefaultDnsCryptPort);
    r.tcp_port = o.tcp_port.value_or(r.port);
    r.tcp_only = o.tcp_only || o.tcp_port.has_value();
    r.provider_name_text = custom ? o.provider_name : kDefaultProviderName;
    const auto name = dns::encode_name(r.provider_name_text);
    if (!name)
        throw ConfigError("--provider-name: '" + r.provider_name_text + "' is not a domain name");
    r.provider_name = *name;
    const auto key = dnscrypt::parse_provider_key(custom ? o.provider_key : kDefaultProviderKey);
    if (!key) throw ConfigError("--provider-key: " + std::string(dnscrypt::to_string(key.error())));
    r.provider_key = *key;
    r.ephemeral_keys = o.ephemeral_keys;
    if (o.timeout_ms < 100 || o.timeout_ms > 60000) {
        throw ConfigError("--timeout: " + std::to_string(o.timeout_ms) +
                          " ms is outside 100..60000 ms");
    }
    r.timeout = std::chrono::milliseconds(o.timeout_ms);
    if (o.cert_refresh_s < 1 || o.cert_refresh_s > 86400) {
        throw ConfigError("--cert-refresh: " + std::to_string(o.cert_refresh_s) +
                          " s is outside 1..86400 s");
    }
    r.cert_refresh = std::chrono::seconds(o.cert_refresh_s);

    if (o.edns_payload_size > kMaxEdnsPayload) {
        throw ConfigError("--edns-payload-size: " + std::to_string(o.edns_payload_size) +
                          " is over 4096");
    }
    s.processor.edns_payload_size = o.edns_payload_size;
    s.processor.tcp_only = r.tcp_only;

    if (o.max_tcp_connections == 0) throw ConfigError("--max-tcp-connections must be at least 1");
    s.tcp.max_connections = o.max_tcp_connections;
    s.tcp.idle_timeout = std::chrono::milliseconds(o.tcp_idle_timeout_ms);
    if (!o.client_key_file.empty()) s.client_key_file = o.client_key_file;
    if (o.max_active_requests == 0) throw ConfigError("--max-active-requests must be at least 1");
    s.processor.max_active_requests = o.max_active_requests;
    if (o.threads) {
        if (*o.threads < 1 || *o.threads > kMaxThreads) {
            throw ConfigError("--threads: " + std::to_string(*o.threads) + " is outside 1.." +
                              std::to_string(kMaxThreads));
        }
        s.threads = *o.threads;
    } else {
        s.threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, kMaxThreads);
    }

    auto& svc = s.service;
    svc.daemonize = o.daemonize;
    if (!o.pid_file.empty()) svc.pid_file = o.pid_file;
    if (!o.logfile.empty()) svc.logfile = o.logfile;
    svc.syslog = o.syslog;
    svc.loglevel = o.loglevel;
    if (!o.user.empty()) svc.user = o.user;
    svc.test_minutes = o.test_minutes;
    return s;
}

crypto::KeyPair load_client_keys(const std::optional<std::string>& file) {
    if (!file) return crypto::KeyPair::generate();
    std::ifstream in(*file);
    if (!in) throw ConfigError("--client-key: cannot read '" + *file + "'");
    std::stringstream text;
    text << in.rdbuf();
    std::string content = text.str();
    while (!content.empty() && std::isspace(static_cast<unsigned char>(content.back()))) {
        content.pop_back();
    }
    // Same forms as a provider key: 64 hex digits, plain or in colon-separated groups of 4.
    auto secret = dnscrypt::parse_provider_key(content);
    sodium_memzero(content.data(), content.size());
    if (!secret) {
        throw ConfigError("--client-key: '" + *file +
                          "' must hold a secret key of 64 hex digits, optionally as 16 groups "
                          "of 4 separated by ':'");
    }
    auto pair = crypto::KeyPair::from_secret(*secret);
    sodium_memzero(secret->data(), secret->size());
    if (!pair) throw ConfigError("--client-key: the key in '" + *file + "' is not usable");
    return std::move(*pair);
}

}  // namespace dcp::config
