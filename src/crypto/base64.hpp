#pragma once
// Base64 through libsodium, strict: no whitespace, no stray characters, no non-canonical
// trailing bits. Stamps use the URL-safe alphabet without padding; minisign the original one.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"

namespace dcp::crypto {

enum class Base64 : std::uint8_t { Original, UrlNoPadding };

[[nodiscard]] std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text,
                                                                     Base64 variant);
[[nodiscard]] std::string base64_encode(Bytes data, Base64 variant);

}  // namespace dcp::crypto
