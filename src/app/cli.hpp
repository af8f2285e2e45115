#pragma once
// The command line: the switch table, and the file named by --config read first so that the
// switches override it.

#include "common/result.hpp"
#include "config/options.hpp"

namespace dcp::app {

struct CommandLine {
    config::Options options;
    bool list = false;      // --list: print the servers that pass the filters
    bool list_all = false;  // --list-all: every server the lists know
    bool json = false;      // with either, as dnscrypt-proxy 2's JSON
};

// The options (the file's, then the command line's over them); or, when the process is to exit
// now (--help and --version printed, or a usage or configuration error said on stderr in one
// line), the status to exit with.
[[nodiscard]] dcp::Result<CommandLine, int> parse_command_line(int argc, char** argv);

}  // namespace dcp::app
