#pragma once
// --test=<minutes>: fetch and verify the resolver's certificate, print it, and say by the exit
// code whether it stays valid for at least that long.

#include <cstdint>

#include "upstream/resolver_config.hpp"

namespace dcp::app {

inline constexpr int kTestValid = 0;
inline constexpr int kTestExpiresSoon = 1;  // valid now, but not for the whole margin
inline constexpr int kTestNoCertificate = 3;

[[nodiscard]] int run_certificate_test(const upstream::ResolverConfig& resolver,
                                       std::uint32_t margin_minutes);

}  // namespace dcp::app
