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
// Accepts upper and lower case; nullopt on an odd length or a non-hex character.
[[nodiscard]] std::optional<std::vector<std::uint8_t>> hex_decode(std::string_view text);

}  // namespace dcp
