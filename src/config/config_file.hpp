#pragma once
// The TOML configuration file (--config). Its keys are the long switch names without the
// dashes in front ("resolver-address = ..."); the command line overrides the file.

#include <string>

#include "config/config.hpp"

namespace dcp::config {

// Fills `options` from the file. Throws ConfigError naming the file, the line and the key for a
// syntax error, an unknown key, or a value of the wrong type or range.
void load_config_file(const std::string& path, Options& options);

}  // namespace dcp::config
