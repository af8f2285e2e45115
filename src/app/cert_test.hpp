#pragma once
// --test=<minutes>: fetch and verify the resolver's certificate, print it, and say by the exit
// code whether it stays valid for at least that long.

#include <cstdint>

#include "config/config.hpp"

namespace dcp::app {

inline constexpr int kTestValid = 0;
inline constexpr int kTestExpiresSoon = 1;  // valid now, but not for the whole margin
inline constexpr int kTestNoCertificate = 3;

// The first DNSCrypt server of `settings` (ConfigError if there is none).
[[nodiscard]] int run_certificate_test(const config::Settings& settings,
                                       std::uint32_t margin_minutes);

}  // namespace dcp::app
