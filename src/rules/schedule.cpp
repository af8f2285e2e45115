#include "rules/schedule.hpp"

#include <charconv>

#include "rules/text.hpp"

namespace dcp::rules {

bool WeeklySchedule::active(LocalTime now) const noexcept {
    if (now.weekday > 6) return false;
    for (const auto& r : days[now.weekday]) {
        if (r.after == r.before) return true;
        if (r.after > r.before) {
            if (now.minute >= r.after || now.minute <= r.before) return true;
        } else if (now.minute >= r.after && now.minute <= r.before) {
            return true;
        }
    }
    return false;
}

dcp::Result<std::uint16_t, std::string> parse_clock(std::string_view text) {
    const auto colon = text.find(':');
    unsigned hours = 0;
    unsigned minutes = 0;
    const auto bad = [&] { return Unexpected(concat({"'", text, "' is not a time (HH:MM)"})); };
    if (colon == std::string_view::npos || colon == 0 || colon + 1 >= text.size()) return bad();
    const auto h = std::from_chars(text.data(), text.data() + colon, hours);
    const auto m = std::from_chars(text.data() + colon + 1, text.data() + text.size(), minutes);
    if (h.ec != std::errc() || h.ptr != text.data() + colon || m.ec != std::errc() ||
        m.ptr != text.data() + text.size() || hours > 23 || minutes > 59) {
        return bad();
    }
    return static_cast<std::uint16_t>(hours * 60 + minutes);
}

int weekday_index(std::string_view day) noexcept {
    static constexpr std::string_view kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    for (int i = 0; i < 7; ++i) {
        if (day == kDays[i]) return i;
    }
    return -1;
}

}  // namespace dcp::rules
