#include "common/time_format.hpp"

#include <cstdio>
#include <ctime>

namespace dcp {

std::string format_utc(std::uint32_t unix_time) {
    const auto t = static_cast<std::time_t>(unix_time);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string format_ms(std::chrono::microseconds d) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f ms", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

}  // namespace dcp
