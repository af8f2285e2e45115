#include "dnscrypt/provider_key.hpp"

#include <string>

#include "common/hex.hpp"

namespace dcp::dnscrypt {
namespace {

constexpr std::size_t kHexDigits = 2 * crypto::kEd25519PublicKeySize;
constexpr std::size_t kGroupSize = 4;
constexpr std::size_t kGroups = kHexDigits / kGroupSize;
constexpr std::size_t kSeparatedSize = kHexDigits + kGroups - 1;

}  // namespace

dcp::Result<crypto::Ed25519PublicKey, KeyError> parse_provider_key(std::string_view text) {
    std::string digits;
    if (text.size() == kHexDigits) {
        digits = text;
    } else if (text.size() == kSeparatedSize) {
        for (std::size_t i = 0; i < text.size(); ++i) {
            const bool separator_place = (i % (kGroupSize + 1)) == kGroupSize;
            if (separator_place != (text[i] == ':')) return Unexpected(KeyError::BadProviderKey);
            if (!separator_place) digits.push_back(text[i]);
        }
    } else {
        return Unexpected(KeyError::BadProviderKey);
    }
    const auto bytes = hex_decode(digits);
    if (!bytes) return Unexpected(KeyError::BadProviderKey);
    crypto::Ed25519PublicKey key{};
    std::copy(bytes->begin(), bytes->end(), key.begin());
    return key;
}

}  // namespace dcp::dnscrypt
