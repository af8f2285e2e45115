#include "crypto/x25519.hpp"

#include <sodium.h>

namespace dcp::crypto {

static_assert(crypto_box_PUBLICKEYBYTES == kPublicKeySize);
static_assert(crypto_box_SECRETKEYBYTES == kSecretKeySize);
static_assert(crypto_scalarmult_BYTES == kPublicKeySize);

KeyPair KeyPair::generate() noexcept {
    KeyPair kp;
    crypto_box_keypair(kp.public_key.data(), kp.secret_key.data());
    return kp;
}

Result<KeyPair> KeyPair::from_secret(
    std::span<const std::uint8_t, kSecretKeySize> secret) noexcept {
    KeyPair kp;
    kp.secret_key = SecretKey(secret);
    if (crypto_scalarmult_base(kp.public_key.data(), kp.secret_key.data()) != 0) {
        return Unexpected(Error::WeakKey);
    }
    return kp;
}

}  // namespace dcp::crypto
