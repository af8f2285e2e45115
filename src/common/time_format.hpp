#pragma once

#include <cstdint>
#include <string>

namespace dcp {

// "2026-11-28 03:16:36 UTC", for certificate validity in logs and --test output.
[[nodiscard]] std::string format_utc(std::uint32_t unix_time);

}  // namespace dcp
