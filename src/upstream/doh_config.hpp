#pragma once
// Identity and tuning of one DNS-over-HTTPS server (from a DoH stamp).

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/asio.hpp"

namespace dcp::upstream {

struct DohConfig {
    std::string name;          // as the user knows it: list or [static] name, else the host name
    std::string host;          // TLS server name (SNI, certificate check), without port or brackets
    std::string authority;     // HTTP ":authority": the stamp's host name, port included if any
    std::uint16_t port = 443;  // where to connect
    std::string path = "/dns-query";
    // Where to connect: the stamp's address, else the host name resolved by the system.
    std::optional<asio::ip::address> address;
    // SHA-256 digests of a TBSCertificate one of which the server's chain must contain (none:
    // the usual verification only).
    std::vector<std::array<std::uint8_t, 32>> hashes;
    // Deadline of a connection's set-up (connect, TLS handshake), as of a query: from
    // TransportSettings (upstream::doh_config).
    std::chrono::milliseconds timeout{0};
    // A connection opened at start, so that the first queries do not wait for a handshake.
    // With many servers (a resolver list without server_names selects dozens) each connects
    // when first chosen instead: idle connections to servers never asked cost memory, and
    // servers close them anyway.
    bool connect_at_start = true;

    [[nodiscard]] std::string url() const {
        std::string u = "https://";
        u += authority;
        u += path;
        return u;
    }
};

struct ServerSpec;
struct TransportSettings;
// The DoH configuration of a DoH server's spec (factory.cpp).
[[nodiscard]] DohConfig doh_config(const ServerSpec& spec, const TransportSettings& settings);

}  // namespace dcp::upstream
