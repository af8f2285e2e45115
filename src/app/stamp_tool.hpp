#pragma once
// "dnscrypt-proxy stamp decode|encode": reads and writes sdns:// stamps from the command line
// (neither reference proxy ships such a tool; people use a web page).

namespace dcp::app {

// argv[0] is the program, argv[1] "stamp". Returns the exit status.
int run_stamp_tool(int argc, char** argv);

}  // namespace dcp::app
