#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.hpp"

namespace dcp::dnscrypt {

// Why a certificate was not used.
enum class CertError : std::uint8_t {
    TooShort,              // under 124 bytes
    BadMagic,              // does not start with "DNSC"
    UnsupportedEsVersion,  // not 1 or 2 (e.g. 3, the post-quantum one): skipped, not fatal
    BadSignature,          // Ed25519 check with the provider key failed
    BadValidityPeriod,     // ts-start >= ts-end
    NotYetValid,           // now < ts-start
    Expired,               // now > ts-end (ts-end is inclusive)
    WeakKey,               // the resolver key gives an all-zero X25519 result
};

// Why an encrypted packet was not produced or not accepted. Each failure is distinct so the
// proxy can count drops by reason.
enum class PacketError : std::uint8_t {
    ShortPacket,   // too short to hold the fixed header and a DNS message
    TooLarge,      // over the protocol maximum
    BadMagic,      // does not start with the resolver magic
    UnknownNonce,  // the client nonce half is not the one we sent
    AuthFailed,    // Poly1305 tag mismatch
    BadPadding,    // no 0x80 delimiter before trailing zeros
    ShortMessage,  // decrypted DNS message under 17 bytes
    CannotPad,     // the query does not fit the transport's size limit once padded
    NoSpace,       // the output buffer is too small
};

enum class KeyError : std::uint8_t {
    BadProviderKey,  // not 64 hex digits, plain or as 16 colon-separated groups of 4
};

[[nodiscard]] std::string_view to_string(CertError e) noexcept;
[[nodiscard]] std::string_view to_string(PacketError e) noexcept;
[[nodiscard]] std::string_view to_string(KeyError e) noexcept;

template <class T>
using CertResult = dcp::Result<T, CertError>;
template <class T>
using PacketResult = dcp::Result<T, PacketError>;

}  // namespace dcp::dnscrypt
