#pragma once
// Log levels as the user names them: dnscrypt-proxy 2's and spdlog's names, or the original's
// syslog numbers. Pure, so that a bad level is a configuration error found with the others.

#include <optional>
#include <string_view>

namespace dcp::config {

// In spdlog's order (trace = 0 .. off = 6), so the app maps it by value.
enum class LogLevel { Trace, Debug, Info, Warning, Error, Critical, Off };

// A level name (trace, debug, info, notice, warning, warn, error, critical, off) or a syslog
// number, 0 emerg .. 7 debug, as the original's --loglevel took them.
[[nodiscard]] std::optional<LogLevel> parse_log_level(std::string_view text);

}  // namespace dcp::config
