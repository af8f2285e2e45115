#include "crypto/shared_key.hpp"

#include <sodium.h>

namespace dcp::crypto {

static_assert(crypto_box_BEFORENMBYTES == kSharedKeySize);
static_assert(crypto_box_curve25519xchacha20poly1305_BEFORENMBYTES == kSharedKeySize);
static_assert(crypto_box_NONCEBYTES == kNonceSize);
static_assert(crypto_box_curve25519xchacha20poly1305_NONCEBYTES == kNonceSize);
static_assert(crypto_box_MACBYTES == kMacSize);
static_assert(crypto_box_curve25519xchacha20poly1305_MACBYTES == kMacSize);

Result<SharedKey> SharedKey::precompute(Construction construction, const PublicKey& peer_public,
                                        const SecretKey& own_secret) noexcept {
    SharedKey key(construction);
    int rc = -1;
    switch (construction) {
        case Construction::XSalsa20Poly1305:
            rc = crypto_box_beforenm(key.key_.data(), peer_public.data(), own_secret.data());
            break;
        case Construction::XChaCha20Poly1305:
            rc = crypto_box_curve25519xchacha20poly1305_beforenm(
                key.key_.data(), peer_public.data(), own_secret.data());
            break;
    }
    if (rc != 0) return Unexpected(Error::WeakKey);
    return key;
}

void SharedKey::seal(std::span<std::uint8_t> data, std::span<std::uint8_t, kMacSize> mac,
                     const Nonce& nonce) const noexcept {
    // The detached secretbox functions accept c == m (in place), libsodium documents it.
    switch (construction_) {
        case Construction::XSalsa20Poly1305:
            crypto_box_detached_afternm(data.data(), mac.data(), data.data(), data.size(),
                                        nonce.data(), key_.data());
            break;
        case Construction::XChaCha20Poly1305:
            crypto_box_curve25519xchacha20poly1305_detached_afternm(
                data.data(), mac.data(), data.data(), data.size(), nonce.data(), key_.data());
            break;
    }
}

dcp::Result<void, Error> SharedKey::open(std::span<std::uint8_t> data,
                                         std::span<const std::uint8_t, kMacSize> mac,
                                         const Nonce& nonce) const noexcept {
    int rc = -1;
    switch (construction_) {
        case Construction::XSalsa20Poly1305:
            rc = crypto_box_open_detached_afternm(data.data(), data.data(), mac.data(), data.size(),
                                                  nonce.data(), key_.data());
            break;
        case Construction::XChaCha20Poly1305:
            rc = crypto_box_curve25519xchacha20poly1305_open_detached_afternm(
                data.data(), data.data(), mac.data(), data.size(), nonce.data(), key_.data());
            break;
    }
    if (rc != 0) return Unexpected(Error::AuthFailed);
    return {};
}

}  // namespace dcp::crypto
