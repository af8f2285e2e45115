#pragma once
// Where logs go: stdout in the foreground, syslog when daemonized (or with --syslog), a file with
// --logfile (reopened on SIGHUP, for logrotate). One default logger; subsystems log through it.

#include <sys/types.h>

#include <optional>
#include <string>

#include "config/log_level.hpp"

namespace dcp::app {

struct LogSettings {
    config::LogLevel level = config::LogLevel::Info;
    std::optional<std::string> file;  // --logfile
    bool syslog = false;              // --syslog
    std::optional<uid_t> user;        // --user's: may own the log file, as root may
};

// Throws std::runtime_error with a message for a log file that cannot be opened.
// `daemon`: stdout is going away, so without a file the logs go to syslog.
void setup_logging(const LogSettings& settings, bool daemon);

// Reopens the log file, if there is one (SIGHUP, after logrotate moved it). Inside a chroot the
// same file is reopened through the path it has inside; a file outside cannot be. Returns why
// the file could not be reopened: logging then goes on into the file already open, never stops.
[[nodiscard]] std::optional<std::string> reopen_log_file();

[[nodiscard]] bool has_log_file();

// The process is now chrooted to `root` (canonical: UserInfo::home): later reopens go through it.
void note_chroot(const std::string& root);

}  // namespace dcp::app
