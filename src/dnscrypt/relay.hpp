#pragma once
// Anonymized DNSCrypt (spec section 14): the header that tells a relay where to forward.

#include <array>
#include <cstdint>

#include "dnscrypt/constants.hpp"

namespace dcp::dnscrypt {

using RelayHeader = std::array<std::uint8_t, relay::kHeaderSize>;

// Target given as an IPv6 address (16 bytes, network order).
[[nodiscard]] RelayHeader relay_header(const std::array<std::uint8_t, 16>& ipv6,
                                       std::uint16_t port) noexcept;
// Target given as an IPv4 address (4 bytes, network order), written IPv4-mapped.
[[nodiscard]] RelayHeader relay_header(const std::array<std::uint8_t, 4>& ipv4,
                                       std::uint16_t port) noexcept;

}  // namespace dcp::dnscrypt
