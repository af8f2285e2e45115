#pragma once
// The service: everything between valid settings and a running proxy, in the order that keeps
// errors on the terminal and privileges no longer than needed (log set-up, resolver lists,
// client keys, sockets, daemon, pid file, chroot and user, list refreshes), then the runtime.

#include "config/config.hpp"

namespace dcp::app {

// Serves until a stop signal: 0. Start-up failures throw (std::runtime_error: exit status 1;
// config::ConfigError: 2).
int serve(config::Settings settings);

}  // namespace dcp::app
