#pragma once
// Settings as the user gave them, one field per switch, before validation (config.hpp). Pure:
// the configuration file reader fills these without any of the network code.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dcp::config {

// Raw options, one field per switch.
struct Options {
    std::vector<std::string> local_addresses;  // empty: the default
    std::optional<std::uint16_t> local_port;
    std::vector<std::string> resolver_stamps;  // --resolver sdns://...: instead of -r/-N/-k
    std::string resolver_address;  // empty: the compiled-in default resolver
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
    // Running as a service.
    bool daemonize = false;
    std::string pid_file;
    std::string logfile;
    bool syslog = false;
    std::string loglevel = "info";
    std::string user;
    std::optional<std::uint32_t> test_minutes;  // --test: check the certificate and exit
};

struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace dcp::config
