#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.hpp"

namespace dcp::crypto {

enum class Error : std::uint8_t {
    WeakKey,     // X25519 gave an all-zero result (small-order peer key)
    AuthFailed,  // Poly1305 tag mismatch
};

[[nodiscard]] std::string_view to_string(Error e) noexcept;

template <class T>
using Result = dcp::Result<T, Error>;

}  // namespace dcp::crypto
