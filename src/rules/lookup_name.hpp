#pragma once
// A query name as rules see it: the lowercase presentation form without the trailing dot
// ("www.example.com"; the root is "."), with where each label starts, built without allocating.
// Bytes that are not letters, digits, '-', '_' or '*' are written \DDD (a dot inside a label
// too), so a name can never match a rule written for another name.

#include <array>
#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "dns/constants.hpp"

namespace dcp::rules {

class LookupName {
  public:
    // `wire`: an uncompressed name in wire form (dns::Name::wire()).
    static LookupName from_wire(Bytes wire) noexcept;
    // For rule files and tests: "Example.COM." -> "example.com" (no escapes are interpreted).
    static LookupName from_text(std::string_view text) noexcept;

    [[nodiscard]] std::string_view text() const noexcept { return {text_.data(), len_}; }
    [[nodiscard]] std::size_t labels() const noexcept { return labels_; }
    // The name from label i on ("www.example.com": 0 -> itself, 1 -> "example.com").
    [[nodiscard]] std::string_view suffix(std::size_t i) const noexcept {
        return text().substr(starts_[i]);
    }

  private:
    static constexpr std::size_t kMaxText = dns::kMaxNameWireSize * 4;
    std::array<char, kMaxText> text_{};
    std::array<std::uint16_t, dns::kMaxNameWireSize / 2 + 1> starts_{};
    std::uint16_t len_ = 0;
    std::uint16_t labels_ = 0;
};

}  // namespace dcp::rules
