#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace dcp {

// "2026-11-28 03:16:36 UTC", for certificate validity in logs and --test output.
[[nodiscard]] std::string format_utc(std::uint32_t unix_time);

// "12.3 ms": a round trip or set-up time in the log.
[[nodiscard]] std::string format_ms(std::chrono::microseconds d);

}  // namespace dcp
