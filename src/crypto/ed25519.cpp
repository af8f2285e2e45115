#include "crypto/ed25519.hpp"

#include <sodium.h>

namespace dcp::crypto {

static_assert(crypto_sign_PUBLICKEYBYTES == kEd25519PublicKeySize);
static_assert(crypto_sign_BYTES == kEd25519SignatureSize);

bool ed25519_verify(std::span<const std::uint8_t, kEd25519SignatureSize> signature, Bytes message,
                    const Ed25519PublicKey& public_key) noexcept {
    return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                       public_key.data()) == 0;
}

}  // namespace dcp::crypto
