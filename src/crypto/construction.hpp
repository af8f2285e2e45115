#pragma once
// The two DNSCrypt encryption systems a classic client implements (es-version 1 and 2).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dcp::crypto {

enum class Construction : std::uint8_t {
    XSalsa20Poly1305 = 1,   // es-version 1, NaCl crypto_box
    XChaCha20Poly1305 = 2,  // es-version 2
};

[[nodiscard]] constexpr std::string_view to_string(Construction c) noexcept {
    return c == Construction::XSalsa20Poly1305 ? "X25519-XSalsa20Poly1305"
                                               : "X25519-XChaCha20Poly1305";
}

inline constexpr std::size_t kPublicKeySize = 32;
inline constexpr std::size_t kSecretKeySize = 32;
inline constexpr std::size_t kSharedKeySize = 32;
inline constexpr std::size_t kNonceSize = 24;
inline constexpr std::size_t kMacSize = 16;

}  // namespace dcp::crypto
