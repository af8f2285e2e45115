#pragma once
// Address patterns with dnscrypt-proxy 2's meaning (blocked_ips, allowed_ips files):
//   192.0.2.1, 2001:db8::1     that address
//   10.0.0.0/8, fe80::/10      a network (CIDR)
//   94.46.118.*, fe80:53:*     addresses whose text starts so (IPv6 in RFC 5952 form)
// Lookups cost one hash probe per distinct prefix length in the list, whatever its size.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "rules/string_table.hpp"

namespace dcp::rules {

class IpMatcher {
  public:
    dcp::Result<void, std::string> add(std::string_view pattern, std::uint32_t value);
    // `address`: 4 bytes (IPv4) or 16 (IPv6).
    [[nodiscard]] std::optional<std::uint32_t> match(std::span<const std::uint8_t> address) const;

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  private:
    // Networks by family and prefix length, as the masked address bytes.
    StringTable networks_;
    std::vector<std::uint16_t> lengths4_, lengths6_;  // prefix lengths present, longest first
    StringTable text_prefixes_;
    std::vector<std::uint16_t> text_lengths_;
    std::size_t size_ = 0;
};

}  // namespace dcp::rules
