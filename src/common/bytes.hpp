#pragma once
// Bounds-checked cursors over byte spans. Every wire parser goes through these: a read past the
// end yields an empty optional instead of touching memory, and lengths are checked before any
// addition that could wrap. A failed read is sticky: every later read fails too, so a parser that
// checks only its last read cannot accept a short field read earlier.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace dcp {

using Bytes = std::span<const std::uint8_t>;
using MutableBytes = std::span<std::uint8_t>;

inline std::uint16_t load_u16_be(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_u32_be(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}
inline void store_u16_be(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
inline void store_u32_be(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

class ByteReader {
  public:
    explicit ByteReader(Bytes data, std::size_t offset = 0) noexcept
        : data_(data), pos_(offset <= data.size() ? offset : data.size()) {}

    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    [[nodiscard]] std::size_t remaining() const noexcept {
        return failed_ ? 0 : data_.size() - pos_;
    }
    [[nodiscard]] bool empty() const noexcept { return remaining() == 0; }
    // False once any read or skip has run past the end.
    [[nodiscard]] bool ok() const noexcept { return !failed_; }

    std::optional<std::uint8_t> u8() noexcept {
        if (!has(1)) return std::nullopt;
        return data_[pos_++];
    }
    std::optional<std::uint16_t> u16() noexcept {
        if (!has(2)) return std::nullopt;
        const auto v = load_u16_be(data_.data() + pos_);
        pos_ += 2;
        return v;
    }
    std::optional<std::uint32_t> u32() noexcept {
        if (!has(4)) return std::nullopt;
        const auto v = load_u32_be(data_.data() + pos_);
        pos_ += 4;
        return v;
    }
    std::optional<Bytes> bytes(std::size_t n) noexcept {
        if (!has(n)) return std::nullopt;
        const auto v = data_.subspan(pos_, n);
        pos_ += n;
        return v;
    }
    template <std::size_t N>
    std::optional<std::array<std::uint8_t, N>> array() noexcept {
        if (!has(N)) return std::nullopt;
        std::array<std::uint8_t, N> out{};
        std::memcpy(out.data(), data_.data() + pos_, N);
        pos_ += N;
        return out;
    }
    [[nodiscard]] bool skip(std::size_t n) noexcept {
        if (!has(n)) return false;
        pos_ += n;
        return true;
    }

  private:
    bool has(std::size_t n) noexcept {
        if (remaining() < n) failed_ = true;
        return !failed_;
    }

    Bytes data_;
    std::size_t pos_;
    bool failed_ = false;
};

class ByteWriter {
  public:
    explicit ByteWriter(MutableBytes out, std::size_t offset = 0) noexcept
        : out_(out), pos_(offset <= out.size() ? offset : out.size()) {}

    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return out_.size() - pos_; }

    [[nodiscard]] bool u8(std::uint8_t v) noexcept {
        if (remaining() < 1) return false;
        out_[pos_++] = v;
        return true;
    }
    [[nodiscard]] bool u16(std::uint16_t v) noexcept {
        if (remaining() < 2) return false;
        store_u16_be(out_.data() + pos_, v);
        pos_ += 2;
        return true;
    }
    [[nodiscard]] bool u32(std::uint32_t v) noexcept {
        if (remaining() < 4) return false;
        store_u32_be(out_.data() + pos_, v);
        pos_ += 4;
        return true;
    }
    [[nodiscard]] bool bytes(Bytes v) noexcept {
        if (remaining() < v.size()) return false;
        if (!v.empty()) std::memmove(out_.data() + pos_, v.data(), v.size());
        pos_ += v.size();
        return true;
    }
    [[nodiscard]] bool zeros(std::size_t n) noexcept {
        if (remaining() < n) return false;
        if (n != 0) std::memset(out_.data() + pos_, 0, n);
        pos_ += n;
        return true;
    }

  private:
    MutableBytes out_;
    std::size_t pos_;
};

}  // namespace dcp
