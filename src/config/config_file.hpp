#pragma once
// The TOML configuration file (--config). Its keys are the long switch names without the
// dashes in front ("resolver-address = ..."); the command line overrides the file.

#include <string>
#include <string_view>

#include "config/options.hpp"

namespace dcp::config {

// Fills `options` from the file. Throws ConfigError naming the file, the line and the key for a
// syntax error, an unknown key, or a value of the wrong type or range.
void load_config_file(const std::string& path, Options& options);
// The same for text already read; `name` stands for the file in messages.
void load_config_text(std::string_view text, const std::string& name, Options& options);

}  // namespace dcp::config
