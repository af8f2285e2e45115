#pragma once
// Fixed-size secret storage that is wiped when it dies and cannot be copied by accident.
// Moving transfers the bytes and wipes the source.

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace dcp {

template <std::size_t N>
class SecretBytes {
  public:
    SecretBytes() noexcept { bytes_.fill(0); }
    explicit SecretBytes(std::span<const std::uint8_t, N> src) noexcept {
        std::copy(src.begin(), src.end(), bytes_.begin());
    }
    ~SecretBytes() { sodium_memzero(bytes_.data(), N); }

    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;
    SecretBytes(SecretBytes&& other) noexcept : bytes_(other.bytes_) { other.wipe(); }
    SecretBytes& operator=(SecretBytes&& other) noexcept {
        if (this != &other) {
            bytes_ = other.bytes_;
            other.wipe();
        }
        return *this;
    }

    [[nodiscard]] std::uint8_t* data() noexcept { return bytes_.data(); }
    [[nodiscard]] const std::uint8_t* data() const noexcept { return bytes_.data(); }
    [[nodiscard]] static constexpr std::size_t size() noexcept { return N; }
    [[nodiscard]] std::span<const std::uint8_t, N> view() const noexcept { return bytes_; }
    void wipe() noexcept { sodium_memzero(bytes_.data(), N); }

  private:
    std::array<std::uint8_t, N> bytes_;
};

}  // namespace dcp
