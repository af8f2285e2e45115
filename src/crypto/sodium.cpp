#include "crypto/sodium.hpp"

#include <sodium.h>

namespace dcp::crypto {

bool initialize() noexcept {
    return sodium_init() >= 0;
}

void random_bytes(std::span<std::uint8_t> out) noexcept {
    randombytes_buf(out.data(), out.size());
}

std::uint32_t random_uniform(std::uint32_t upper_bound) noexcept {
    return randombytes_uniform(upper_bound);
}

}  // namespace dcp::crypto
