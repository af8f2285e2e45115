#pragma once
// libsodium set-up and randomness. initialize() must run once before any other crypto call
// (app main, test main, fuzz targets); it picks the fastest implementations for this CPU.

#include <cstdint>
#include <span>

namespace dcp::crypto {

// Returns false if libsodium cannot be initialised (no usable randomness source).
[[nodiscard]] bool initialize() noexcept;

void random_bytes(std::span<std::uint8_t> out) noexcept;
// Uniform in [0, upper_bound); upper_bound must be > 0.
[[nodiscard]] std::uint32_t random_uniform(std::uint32_t upper_bound) noexcept;

}  // namespace dcp::crypto
