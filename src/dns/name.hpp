#pragma once
// Domain names in wire form. Only what a proxy needs: skip a name, read one (following
// compression pointers safely), encode one from text, compare two case-insensitively.
//
// Compression pointers must point strictly backwards and past the header (PowerDNS rejects
// forward references the same way): this makes pointer loops impossible by construction.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "dns/constants.hpp"
#include "dns/error.hpp"

namespace dcp::dns {

// An uncompressed wire-form name in fixed storage (no heap allocation per query).
class Name {
  public:
    Name() noexcept { wire_[0] = 0; }

    [[nodiscard]] Bytes wire() const noexcept { return {wire_.data(), size_}; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    // Presentation form with a trailing dot ("example.com."); non-printable bytes as \DDD.
    [[nodiscard]] std::string to_text() const;

    friend bool operator==(const Name& a, const Name& b) noexcept;  // case-insensitive

  private:
    friend Result<std::size_t> read_name(Bytes, std::size_t, Name&) noexcept;
    friend Result<Name> encode_name(std::string_view) noexcept;

    std::array<std::uint8_t, kMaxNameWireSize> wire_{};
    std::size_t size_ = 1;
};

// Returns the offset just past the name at `offset`, without following pointers (but checking
// that a pointer would be legal). Errors: ShortPacket, BadLabelType, NameTooLong, BadPointer.
[[nodiscard]] Result<std::size_t> skip_name(Bytes msg, std::size_t offset) noexcept;

// Reads the name at `offset` into `out`, following compression pointers; returns the offset just
// past the name as it is stored at `offset`.
[[nodiscard]] Result<std::size_t> read_name(Bytes msg, std::size_t offset, Name& out) noexcept;

// "example.com", "example.com." or "." -> wire form. Escapes are not supported (provider names
// never need them); empty labels, labels over 63 bytes and names over 255 bytes are BadName.
[[nodiscard]] Result<Name> encode_name(std::string_view text) noexcept;

}  // namespace dcp::dns
