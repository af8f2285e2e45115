#pragma once
// DNS stamps (sdns://): one URI naming a server (plain DNS, DNSCrypt, DoH, DoT, DoQ, ODoH target)
// or a relay (anonymized DNSCrypt, ODoH), with its address, keys, names, certificate pins and the
// operator's declared properties. Layouts and corner cases: ../shared/spec/stamps.md.
//
// Fields are kept as written in the stamp (an address keeps its port or lack of one), so that
// encode(parse(s)) == s for every well-formed stamp; server_address() applies default ports.
// Pure: no I/O, no allocation beyond the fields themselves.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace dcp::stamp {

enum class Protocol : std::uint8_t {
    Plain = 0x00,
    DnsCrypt = 0x01,
    DoH = 0x02,
    DoT = 0x03,
    DoQ = 0x04,
    ODoHTarget = 0x05,
    DnsCryptRelay = 0x81,
    ODoHRelay = 0x85,
};

// Informal properties the operator declares (bits of a little-endian 64-bit field).
inline constexpr std::uint64_t kDnssec = 1;
inline constexpr std::uint64_t kNoLog = 2;
inline constexpr std::uint64_t kNoFilter = 4;

using Sha256 = std::array<std::uint8_t, 32>;

struct Stamp {
    Protocol protocol = Protocol::DnsCrypt;
    std::uint64_t props = 0;  // relays have none
    // An IP literal, IPv6 in brackets, maybe with ":port"; empty allowed for DoH, DoT, DoQ and
    // ODoH relays (the host name is resolved instead). Not used by ODoH targets.
    std::string address;
    std::array<std::uint8_t, 32> provider_key{};  // DNSCrypt: the provider's Ed25519 key
    std::string provider_name;                    // DNSCrypt: where certificates are asked for
    std::vector<Sha256> hashes;                   // DoH, DoT, DoQ, ODoH relay: TBS certificate pins
    std::string hostname;                // DoH, DoT, DoQ, ODoH: the TLS/HTTP name, maybe ":port"
    std::string path;                    // DoH, ODoH: the URI path, starting with '/'
    std::vector<std::string> bootstrap;  // DoH, DoT, DoQ, ODoH relay: optional resolver IPs

    [[nodiscard]] bool dnssec() const noexcept { return (props & kDnssec) != 0; }
    [[nodiscard]] bool no_log() const noexcept { return (props & kNoLog) != 0; }
    [[nodiscard]] bool no_filter() const noexcept { return (props & kNoFilter) != 0; }
    [[nodiscard]] bool is_relay() const noexcept {
        return (static_cast<std::uint8_t>(protocol) & 0x80) != 0;
    }
    bool operator==(const Stamp&) const = default;
};

// What is wrong and where: `offset` is a byte offset into the decoded payload (the protocol id
// is byte 0), or into the text for errors in the URI itself.
struct StampError {
    std::string what;
    std::size_t offset = 0;
    bool in_text = false;  // offset into the "sdns://..." text rather than the payload
};

[[nodiscard]] std::string to_string(const StampError& e);

template <class T>
using StampResult = dcp::Result<T, StampError>;

// One stamp: "sdns://" (the "//" is optional, as dnscrypt-proxy allows) then unpadded base64url.
[[nodiscard]] StampResult<Stamp> parse(std::string_view text);

// The two-stamp form dnscrypt-proxy reads for ODoH: "sdns://<relay>/<server>".
struct RelayedStamp {
    Stamp relay;
    Stamp server;
};
[[nodiscard]] StampResult<RelayedStamp> parse_relayed(std::string_view text);

// The stamp's URI. Fields are written as they are (see the top of this file); an invalid stamp
// (a field over 255 bytes) gives an error rather than a stamp nobody can read.
[[nodiscard]] StampResult<std::string> encode(const Stamp& stamp);

[[nodiscard]] std::string_view protocol_name(Protocol p) noexcept;
[[nodiscard]] std::uint16_t default_port(Protocol p) noexcept;

// Where to connect: host (an IP literal for every protocol but DoH/DoT/DoQ/ODoH with an empty
// address, where it is the host name to resolve) and port (the stamp's, else the default).
struct HostPort {
    std::string host;  // without brackets
    std::uint16_t port = 0;
    bool is_ip = false;
};
[[nodiscard]] StampResult<HostPort> server_address(const Stamp& stamp);

// "host[:port]" split, IPv6 in brackets; nullopt when malformed (a bad port included).
struct SplitHostPort {
    std::string_view host;  // brackets removed
    std::optional<std::uint16_t> port;
    bool bracketed = false;
};
[[nodiscard]] std::optional<SplitHostPort> split_host_port(std::string_view text);

// Whether `host` (no brackets) is an IPv4 or IPv6 literal (an IPv6 zone suffix is allowed).
[[nodiscard]] bool is_ip_literal(std::string_view host);

}  // namespace dcp::stamp
