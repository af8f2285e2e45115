#pragma once
// Random bytes for nonces on the query path without a system call per query: a ChaCha20 key
// drawn from the system generator (libsodium's randombytes), expanded in user space a block of
// keystream at a time, and replaced by a fresh key every kRekeyBytes. Output is as unpredictable
// as the key; one instance per thread (not thread-safe). randombytes_buf costs a getrandom()
// system call each time on Linux with libsodium 1.0.18 (about 0.4 µs, bench/micro_bench).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/noncopyable.hpp"
#include "common/secret_bytes.hpp"

namespace dcp::crypto {

class FastRandom : NonCopyable {
  public:
    static constexpr std::size_t kBufferBytes = 1024;
    static constexpr std::size_t kRekeyBytes = std::size_t{1} << 20;

    FastRandom() noexcept;
    ~FastRandom();

    void fill(std::span<std::uint8_t> out) noexcept;
    // Uniform in [0, upper_bound); upper_bound > 0.
    [[nodiscard]] std::uint32_t uniform(std::uint32_t upper_bound) noexcept;

  private:
    void refill() noexcept;

    SecretBytes<32> key_;
    std::uint64_t block_counter_ = 0;
    std::size_t since_rekey_ = 0;
    std::array<std::uint8_t, kBufferBytes> buffer_{};
    std::size_t used_ = kBufferBytes;
};

}  // namespace dcp::crypto
