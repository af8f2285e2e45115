#include "dnscrypt/relay.hpp"

#include <algorithm>

#include "common/bytes.hpp"

namespace dcp::dnscrypt {

RelayHeader relay_header(const std::array<std::uint8_t, 16>& ipv6, std::uint16_t port) noexcept {
    RelayHeader h{};
    std::copy(kAnonymizationMagic.begin(), kAnonymizationMagic.end(), h.begin());
    std::copy(ipv6.begin(), ipv6.end(), h.begin() + relay::kAddressOffset);
    store_u16_be(h.data() + relay::kPortOffset, port);
    return h;
}

RelayHeader relay_header(const std::array<std::uint8_t, 4>& ipv4, std::uint16_t port) noexcept {
    std::array<std::uint8_t, 16> mapped{};  // ::ffff:a.b.c.d
    mapped[10] = 0xff;
    mapped[11] = 0xff;
    std::copy(ipv4.begin(), ipv4.end(), mapped.begin() + 12);
    return relay_header(mapped, port);
}

}  // namespace dcp::dnscrypt
