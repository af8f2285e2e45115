#pragma once
// The provider's Ed25519 public key as users type it: 64 hex digits, or the original
// dnscrypt-proxy's form of 16 colon-separated groups of 4 ("B735:1140:206F:...").

#include <string_view>

#include "crypto/ed25519.hpp"
#include "dnscrypt/error.hpp"

namespace dcp::dnscrypt {

[[nodiscard]] dcp::Result<crypto::Ed25519PublicKey, KeyError> parse_provider_key(
    std::string_view text);

}  // namespace dcp::dnscrypt
