#pragma once
// Hex text <-> bytes, for keys given on the command line, logs and test vectors.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"

namespace dcp {

// Lower-case hex, no separators.
[[nodiscard]] std::string hex_encode(Bytes data);
// Groups of 4 hex digits joined by ':' ("b735:1140:..."), the form keys are shown in (and, upper
// case, the original dnscrypt-proxy's --provider-key form).
[[nodiscard]] std::string hex_encode_grouped(Bytes data, bool upper = false);
// Accepts upper and lower case; nullopt on an odd length or a non-hex character.
[[nodiscard]] std::optional<std::vector<std::uint8_t>> hex_decode(std::string_view text);

// One hex digit's value (either case), or -1. For parsers that must not copy what they read
// (secret keys: dnscrypt::parse_provider_key).
[[nodiscard]] int hex_digit_value(char c) noexcept;

}  // namespace dcp
