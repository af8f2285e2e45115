#include "config/log_level.hpp"

#include <utility>

namespace dcp::config {

std::optional<LogLevel> parse_log_level(std::string_view text) {
    static constexpr std::pair<std::string_view, LogLevel> kNames[] = {
        {"trace", LogLevel::Trace}, {"debug", LogLevel::Debug},       {"info", LogLevel::Info},
        {"notice", LogLevel::Info}, {"warning", LogLevel::Warning},   {"warn", LogLevel::Warning},
        {"error", LogLevel::Error}, {"critical", LogLevel::Critical}, {"off", LogLevel::Off}};
    for (const auto& [name, level] : kNames) {
        if (text == name) return level;
    }
    if (text.size() == 1 && text[0] >= '0' && text[0] <= '7') {
        static constexpr LogLevel kSyslog[] = {
            LogLevel::Critical, LogLevel::Critical, LogLevel::Critical, LogLevel::Error,
            LogLevel::Warning,  LogLevel::Info,     LogLevel::Info,     LogLevel::Debug};
        return kSyslog[text[0] - '0'];
    }
    return std::nullopt;
}

}  // namespace dcp::config
