#pragma once
// Ed25519 signature verification, for certificates signed by a provider key.

#include <array>
#include <cstdint>
#include <span>

#include "common/bytes.hpp"

namespace dcp::crypto {

inline constexpr std::size_t kEd25519PublicKeySize = 32;
inline constexpr std::size_t kEd25519SignatureSize = 64;

using Ed25519PublicKey = std::array<std::uint8_t, kEd25519PublicKeySize>;

[[nodiscard]] bool ed25519_verify(std::span<const std::uint8_t, kEd25519SignatureSize> signature,
                                  Bytes message, const Ed25519PublicKey& public_key) noexcept;

}  // namespace dcp::crypto
