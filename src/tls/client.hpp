#pragma once
// A TLS client connection made the one way every TLS user needs it (DNS-over-HTTPS today;
// DNS-over-TLS or Oblivious DoH would take the same): the host name resolved unless an address
// is given, connected, the handshake done with SNI, the server's identity checked as a browser
// does against the system's trust store, an ALPN protocol required, and, when pins are given,
// one certificate of the chain whose TBSCertificate hashes to one of them. There is no fallback
// to an unverified connection: every failure is a sentence for the log.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include "common/result.hpp"
#include "net/asio.hpp"

namespace dcp::tls {

using Stream = asio::ssl::stream<asio::ip::tcp::socket>;
using Pin = std::array<std::uint8_t, 32>;  // SHA-256 of a certificate's TBSCertificate

// The settings every client connection of the process shares (one trust store in memory):
// peer verification against OpenSSL's default paths (SSL_CERT_FILE and SSL_CERT_DIR override
// them, as for every OpenSSL program), TLS 1.2 at least.
[[nodiscard]] std::shared_ptr<asio::ssl::context> make_client_context();

struct Peer {
    // The identity the certificate must prove: a host name (also sent as SNI) or an IP
    // literal (a zone, fe80::1%eth0, says where to reach it and is not checked).
    std::string host;
    std::uint16_t port = 443;
    std::optional<asio::ip::address> address;  // where to connect; none: `host` resolved
    std::vector<Pin> pins;                     // none: the usual verification only
    std::string_view alpn;                     // the protocol the server must select ("h2")
    std::string_view protocol;                 // its name for the log ("HTTP/2")
};

// Connects a fresh `stream` to `peer` and does the handshake, before `timer` (set by the
// caller) fires: the endpoint it is connected to, or why not. The caller may close the
// stream's socket or cancel the timer meanwhile to abandon it (an error then).
[[nodiscard]] net::awaitable<dcp::Result<asio::ip::tcp::endpoint, std::string>> connect(
    Stream& stream, asio::steady_timer& timer, const Peer& peer);

// The protocol version negotiated ("TLSv1.3").
[[nodiscard]] std::string_view version(Stream& stream);

}  // namespace dcp::tls
