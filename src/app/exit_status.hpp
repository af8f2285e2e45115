#pragma once
// The exit statuses the README and the manual page promise.

namespace dcp::app {

inline constexpr int kExitStartup = 1;  // start-up failed: a port in use, a library, --user
inline constexpr int kExitUsage = 2;    // a usage or configuration error

}  // namespace dcp::app
