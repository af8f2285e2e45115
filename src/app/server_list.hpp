#pragma once
// --list and --list-all: the servers the catalogue knows that pass the filters (dnscrypt-proxy
// 2's -list, -list-all and -json), from the lists compiled into the binary until sources can be
// configured.

#include "config/config.hpp"

namespace dcp::app {

// Prints the servers the configuration's catalogue selects (without one: the embedded
// public-resolvers list with dnscrypt-proxy 2's default filters); `all`: every server, whatever
// the filters. A table, or with `json` dnscrypt-proxy 2's JSON summary. Returns the exit status.
int print_server_list(const config::Settings& settings, bool all, bool json);

}  // namespace dcp::app
