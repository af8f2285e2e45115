#pragma once
// --list and --list-all: the servers the catalogue knows that pass the filters (dnscrypt-proxy
// 2's -list, -list-all and -json), from the lists compiled into the binary until sources can be
// configured.

#include "sources/selection.hpp"

namespace dcp::app {

// Prints the selection (a table, or with `json` dnscrypt-proxy 2's JSON summary) and returns the
// exit status.
int print_server_list(const sources::Filters& filters, bool json);

}  // namespace dcp::app
