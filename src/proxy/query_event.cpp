#include "proxy/query_event.hpp"

#include <array>
#include <cstring>

namespace dcp::proxy {
namespace {

constexpr std::array<std::string_view, 4> kOutcomeNames = {"answered", "truncated", "servfail",
                                                           "dropped"};
constexpr std::array<std::string_view, 5> kSourceNames = {"none", "server", "cache", "stale",
                                                          "rule"};
constexpr std::array<std::string_view, 8> kReasonNames = {
    "none",  "oversized", "malformed",      "no server",
    "limit", "timeout",   "upstream error", "unanswerable"};

template <std::size_t N, class E>
std::string_view name_in(const std::array<std::string_view, N>& names, E value) {
    const auto i = static_cast<std::size_t>(value);
    return i < N ? names[i] : "?";
}

}  // namespace

std::string_view to_string(Outcome o) noexcept {
    return name_in(kOutcomeNames, o);
}

std::string_view to_string(Source s) noexcept {
    return name_in(kSourceNames, s);
}

std::string_view to_string(Reason r) noexcept {
    return name_in(kReasonNames, r);
}

asio::ip::udp::endpoint ClientAddress::endpoint() const {
    asio::ip::udp::endpoint ep;
    if (address != nullptr && length <= ep.capacity() &&
        (address->sa_family == AF_INET || address->sa_family == AF_INET6)) {
        std::memcpy(ep.data(), address, length);
        ep.resize(length);
    }
    return ep;
}

}  // namespace dcp::proxy
