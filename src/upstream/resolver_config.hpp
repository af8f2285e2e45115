#pragma once
// Identity and tuning of one DNSCrypt server the proxy talks to.

#include <chrono>
#include <cstdint>
#include <string>

#include "crypto/ed25519.hpp"
#include "dns/name.hpp"
#include "net/asio.hpp"

namespace dcp::upstream {

struct ResolverConfig {
    std::string name;  // as the user knows it: [static] or list name, else the provider name
    asio::ip::address address;
    std::uint16_t port = 443;      // UDP, and TCP unless tcp_port says otherwise
    std::uint16_t tcp_port = 443;  // TCP (--tcp-port)
    dns::Name provider_name;
    std::string provider_name_text;
    crypto::Ed25519PublicKey provider_key{};
    bool tcp_only = false;
    bool ephemeral_keys = false;
    // Upstream answer deadline per query; a miss is a SERVFAIL to the client.
    std::chrono::milliseconds timeout{3000};
    // Certificates are fetched again this often, and before the current one expires.
    std::chrono::seconds cert_refresh{3600};
    // Long-lived connected UDP sockets towards the resolver; queries are spread over them.
    std::size_t udp_sockets = 4;
    // Largest UDP packet we send (a resolver answers with at most as much).
    std::size_t max_udp_packet = 4096;

    [[nodiscard]] asio::ip::udp::endpoint udp_endpoint() const { return {address, port}; }
    [[nodiscard]] asio::ip::tcp::endpoint tcp_endpoint() const { return {address, tcp_port}; }
};

}  // namespace dcp::upstream
