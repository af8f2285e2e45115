#pragma once
// Identity and tuning of one DNSCrypt server the proxy talks to.

#include <chrono>
#include <cstdint>
#include <string>

#include <optional>

#include "crypto/ed25519.hpp"
#include "dns/name.hpp"
#include "dnscrypt/relay.hpp"
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
    // Upstream answer deadline per query; a miss is a SERVFAIL to the client. This and
    // cert_refresh: from TransportSettings (upstream::resolver_config).
    std::chrono::milliseconds timeout{0};
    // Certificates are fetched again this often, and before the current one expires.
    std::chrono::seconds cert_refresh{0};
    // Long-lived connected UDP sockets towards the resolver; queries are spread over them.
    std::size_t udp_sockets = 4;
    // Largest UDP packet we send (a resolver answers with at most as much).
    std::size_t max_udp_packet = 4096;

    // Anonymized DNSCrypt: every packet, certificate queries included, goes to this relay with
    // a header naming the server (spec section 14); the server sees only the relay's address.
    std::optional<asio::ip::address> relay_address;
    std::uint16_t relay_port = 443;
    std::string relay_name;

    [[nodiscard]] bool relayed() const { return relay_address.has_value(); }
    // Where packets go: the relay, or the server itself.
    [[nodiscard]] asio::ip::udp::endpoint udp_endpoint() const {
        return relayed() ? asio::ip::udp::endpoint{*relay_address, relay_port}
                         : asio::ip::udp::endpoint{address, port};
    }
    [[nodiscard]] asio::ip::tcp::endpoint tcp_endpoint() const {
        return relayed() ? asio::ip::tcp::endpoint{*relay_address, relay_port}
                         : asio::ip::tcp::endpoint{address, tcp_port};
    }
    [[nodiscard]] asio::ip::udp::endpoint server_endpoint() const { return {address, port}; }
    // What precedes every packet sent to the relay (empty when there is none).
    [[nodiscard]] std::size_t relay_header_size() const {
        return relayed() ? dnscrypt::relay::kHeaderSize : 0;
    }
    [[nodiscard]] dnscrypt::RelayHeader relay_header() const {
        return address.is_v4() ? dnscrypt::relay_header(address.to_v4().to_bytes(), port)
                               : dnscrypt::relay_header(address.to_v6().to_bytes(), port);
    }
};

struct ServerSpec;
struct TransportSettings;
// The DNSCrypt configuration of a DNSCrypt server's spec (factory.cpp; for the certificate
// test too).
[[nodiscard]] ResolverConfig resolver_config(const ServerSpec& spec,
                                             const TransportSettings& settings);

}  // namespace dcp::upstream
