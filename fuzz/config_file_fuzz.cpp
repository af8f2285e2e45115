// Untrusted input: a configuration file (a user's, or one written by a package or a script).
// Any text must give Options or a ConfigError with a message, never a crash or a hang.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 64 * 1024) return 0;  // configuration files are small; toml++ is linear anyway
    dcp::config::Options options;
    try {
        dcp::config::load_config_text(std::string_view(reinterpret_cast<const char*>(data), size),
                                      "fuzz.toml", options);
    } catch (const dcp::config::ConfigError& e) {
        if (e.what()[0] == '\0') __builtin_trap();  // every refusal says why
    }
    return 0;
}
