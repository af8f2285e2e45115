#pragma once
// A precomputed X25519 shared key for one construction (libsodium's *_beforenm), and the
// per-packet seal/open operations on it (*_detached_afternm). Computed once per
// (client key pair, certificate); a key libsodium refuses is an error, never replaced.
//
// Seal and open work in place: the message bytes are replaced by the ciphertext (or back), and
// the 16-byte Poly1305 tag lives in its own span, as in the DNSCrypt packet layouts.

#include <cstdint>
#include <span>

#include "common/secret_bytes.hpp"
#include "crypto/construction.hpp"
#include "crypto/error.hpp"
#include "crypto/x25519.hpp"

namespace dcp::crypto {

using Nonce = std::array<std::uint8_t, kNonceSize>;

class SharedKey {
  public:
    [[nodiscard]] static Result<SharedKey> precompute(Construction construction,
                                                      const PublicKey& peer_public,
                                                      const SecretKey& own_secret) noexcept;

    [[nodiscard]] Construction construction() const noexcept { return construction_; }
    // For tests and known-answer checks only.
    [[nodiscard]] std::span<const std::uint8_t, kSharedKeySize> bytes() const noexcept {
        return key_.view();
    }

    // Encrypts `data` in place and writes its tag into `mac`.
    void seal(std::span<std::uint8_t> data, std::span<std::uint8_t, kMacSize> mac,
              const Nonce& nonce) const noexcept;
    // Checks `mac` and decrypts `data` in place; on AuthFailed, `data` is untouched.
    [[nodiscard]] dcp::Result<void, Error> open(std::span<std::uint8_t> data,
                                                std::span<const std::uint8_t, kMacSize> mac,
                                                const Nonce& nonce) const noexcept;

  private:
    SharedKey(Construction c) noexcept : construction_(c) {}

    Construction construction_;
    SecretBytes<kSharedKeySize> key_;
};

}  // namespace dcp::crypto
