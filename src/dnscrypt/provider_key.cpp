#include "dnscrypt/provider_key.hpp"

#include <sodium.h>

#include "common/hex.hpp"

namespace dcp::dnscrypt {
namespace {

constexpr std::size_t kHexDigits = 2 * crypto::kEd25519PublicKeySize;
constexpr std::size_t kGroupSize = 4;
constexpr std::size_t kGroups = kHexDigits / kGroupSize;
constexpr std::size_t kSeparatedSize = kHexDigits + kGroups - 1;

}  // namespace

// The digits go straight into the key, with no copy anywhere else: the same parser reads client
// secret keys (--client-key), and a copy in a freed string would outlive the key.
dcp::Result<crypto::Ed25519PublicKey, KeyError> parse_provider_key(std::string_view text) {
    const bool grouped = text.size() == kSeparatedSize;
    if (text.size() != kHexDigits && !grouped) return Unexpected(KeyError::BadProviderKey);
    crypto::Ed25519PublicKey key{};
    std::size_t digit = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool separator_place = grouped && (i % (kGroupSize + 1)) == kGroupSize;
        if (separator_place != (text[i] == ':')) {
            sodium_memzero(key.data(), key.size());
            return Unexpected(KeyError::BadProviderKey);
        }
        if (separator_place) continue;
        const int value = hex_digit_value(text[i]);
        if (value < 0) {
            sodium_memzero(key.data(), key.size());
            return Unexpected(KeyError::BadProviderKey);
        }
        auto& byte = key[digit / 2];
        byte = static_cast<std::uint8_t>(digit % 2 == 0 ? value << 4 : byte | value);
        ++digit;
    }
    return key;
}

}  // namespace dcp::dnscrypt
