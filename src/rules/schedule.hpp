#pragma once
// dnscrypt-proxy 2's [schedules]: weekly time ranges that time-restricted rules
// ("pattern @name" in blocked_names and allowed_names) apply within. Per day, ranges of local
// time "HH:MM" to "HH:MM", both ends included; a range whose end is before its start wraps
// past midnight within that day ({after='21:00', before='7:00'}: 0:00-7:00 and 21:00-24:00);
// equal ends mean the whole day. A day without ranges never matches.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace dcp::rules {

struct TimeRange {
    std::uint16_t after = 0;  // minutes since midnight
    std::uint16_t before = 0;
};

// The local time a rule is checked at: weekday 0 = Sunday, minute of the day.
struct LocalTime {
    std::uint8_t weekday = 0;
    std::uint16_t minute = 0;
};

struct WeeklySchedule {
    std::array<std::vector<TimeRange>, 7> days;  // Sunday first
    [[nodiscard]] bool active(LocalTime now) const noexcept;
};

using Schedules = std::map<std::string, WeeklySchedule, std::less<>>;

// "7:00", "21:30" -> minutes since midnight.
[[nodiscard]] dcp::Result<std::uint16_t, std::string> parse_clock(std::string_view text);
// "mon".."sun" -> 1..6, 0; -1 for anything else.
[[nodiscard]] int weekday_index(std::string_view day) noexcept;

}  // namespace dcp::rules
