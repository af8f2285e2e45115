#pragma once
// X25519 key pairs for the client side of DNSCrypt.

#include <array>
#include <cstdint>
#include <span>

#include "common/secret_bytes.hpp"
#include "crypto/construction.hpp"
#include "crypto/error.hpp"

namespace dcp::crypto {

using PublicKey = std::array<std::uint8_t, kPublicKeySize>;
using SecretKey = SecretBytes<kSecretKeySize>;

struct KeyPair {
    PublicKey public_key{};
    SecretKey secret_key;

    // Fresh random key pair.
    [[nodiscard]] static KeyPair generate() noexcept;
    // Key pair from a known secret (e.g. --client-key); public = X25519(secret, 9).
    [[nodiscard]] static Result<KeyPair> from_secret(
        std::span<const std::uint8_t, kSecretKeySize> secret) noexcept;
};

}  // namespace dcp::crypto
