#pragma once
// DNSCrypt v2 wire layouts (shared/spec/dnscrypt-protocol.md sections 2, 4, 6, 10, 14).

#include <array>
#include <cstddef>
#include <cstdint>

#include "crypto/construction.hpp"
#include "crypto/ed25519.hpp"

namespace dcp::dnscrypt {

using ClientMagic = std::array<std::uint8_t, 8>;
using ClientNonceHalf = std::array<std::uint8_t, 12>;
using ResolverNonceHalf = std::array<std::uint8_t, 12>;

inline constexpr std::array<std::uint8_t, 4> kCertMagic = {'D', 'N', 'S', 'C'};
inline constexpr std::array<std::uint8_t, 8> kResolverMagic = {0x72, 0x36, 0x66, 0x6e,
                                                               0x76, 0x57, 0x6a, 0x38};
inline constexpr std::array<std::uint8_t, 10> kAnonymizationMagic = {0xff, 0xff, 0xff, 0xff, 0xff,
                                                                     0xff, 0xff, 0xff, 0x00, 0x00};

// Certificate layout.
namespace cert {
inline constexpr std::size_t kMagicOffset = 0;
inline constexpr std::size_t kEsVersionOffset = 4;
inline constexpr std::size_t kMinorVersionOffset = 6;
inline constexpr std::size_t kSignatureOffset = 8;
inline constexpr std::size_t kResolverPkOffset = kSignatureOffset + crypto::kEd25519SignatureSize;
inline constexpr std::size_t kClientMagicOffset = kResolverPkOffset + crypto::kPublicKeySize;
inline constexpr std::size_t kSerialOffset = kClientMagicOffset + sizeof(ClientMagic);
inline constexpr std::size_t kTsStartOffset = kSerialOffset + 4;
inline constexpr std::size_t kTsEndOffset = kTsStartOffset + 4;
inline constexpr std::size_t kMinSize = kTsEndOffset + 4;  // extensions may follow
// The signature covers everything from the resolver key to the end (extensions included).
inline constexpr std::size_t kSignedOffset = kResolverPkOffset;
static_assert(kResolverPkOffset == 72);
static_assert(kMinSize == 124);
}  // namespace cert

// Query: client-magic(8) || client-pk(32) || client-nonce(12) || tag(16) || ciphertext.
namespace query {
inline constexpr std::size_t kClientMagicOffset = 0;
inline constexpr std::size_t kClientPkOffset = kClientMagicOffset + sizeof(ClientMagic);
inline constexpr std::size_t kNonceOffset = kClientPkOffset + crypto::kPublicKeySize;
inline constexpr std::size_t kMacOffset = kNonceOffset + sizeof(ClientNonceHalf);
inline constexpr std::size_t kHeaderSize = kMacOffset + crypto::kMacSize;
static_assert(kHeaderSize == 68);
}  // namespace query

// Response: resolver-magic(8) || client-nonce(12) || resolver-nonce(12) || tag(16) || ciphertext.
namespace response {
inline constexpr std::size_t kMagicOffset = 0;
inline constexpr std::size_t kNonceOffset = kMagicOffset + kResolverMagic.size();
inline constexpr std::size_t kMacOffset =
    kNonceOffset + sizeof(ClientNonceHalf) + sizeof(ResolverNonceHalf);
inline constexpr std::size_t kHeaderSize = kMacOffset + crypto::kMacSize;
static_assert(kHeaderSize == 48);
}  // namespace response

// Anonymized DNSCrypt relay header: magic(10) || IPv6 or IPv4-mapped address(16) || port(2).
namespace relay {
inline constexpr std::size_t kAddressOffset = kAnonymizationMagic.size();
inline constexpr std::size_t kPortOffset = kAddressOffset + 16;
inline constexpr std::size_t kHeaderSize = kPortOffset + 2;
static_assert(kHeaderSize == 28);
}  // namespace relay

// Padding (section 8).
inline constexpr std::size_t kPaddingBlock = 64;
inline constexpr std::size_t kMinUdpQueryLength = 256;  // padded plaintext, spec's initial value
// Through a relay, which drops answers larger than the query (dnscrypt-proxy 2's floor for all).
inline constexpr std::size_t kMinRelayedQueryLength = 512;
inline constexpr std::size_t kMaxTcpPadding = 256;  // including the 0x80; dnsdist enforces it
inline constexpr std::uint8_t kPaddingDelimiter = 0x80;
// Smallest DNS message worth decrypting (dnscrypt-proxy's rule): header + 5.
inline constexpr std::size_t kMinDnsMessage = 17;
inline constexpr std::size_t kMaxDnsMessage = 65535;

}  // namespace dcp::dnscrypt
