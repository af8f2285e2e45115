#pragma once
// Every setting the user can give, once: its names on the command line (the first long name is
// also its key in this proxy's TOML), the dnscrypt-proxy 2 key with the same meaning, the field
// of Options it sets, its range and its help. The command line (app/cli.cpp), the configuration
// file reader (config_file.cpp), --help and validate()'s range checks all loop over this table.
// A default is written once, as the field's initializer in options.hpp; --help shows it from
// there. Adding a setting: a field in Options, a row here, and its use in validate().

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/options.hpp"

namespace dcp::config {

// Where a row's value lives: a function from the options to the field (captureless lambdas).
template <class T>
using FieldOf = T& (*)(Options&);
using Field =
    std::variant<FieldOf<std::string>, FieldOf<std::vector<std::string>>, FieldOf<bool>,
                 FieldOf<std::uint16_t>, FieldOf<std::uint32_t>,
                 FieldOf<std::optional<std::uint16_t>>, FieldOf<std::optional<std::uint32_t>>>;

// The values validate() accepts, whichever way they came.
struct Range {
    std::uint64_t min;
    std::uint64_t max;
    std::string_view unit;  // " ms", " s" or empty, as the error message and --help print it
};

enum OptionFlags : std::uint8_t {
    kPlain = 0,
    kNegated = 1,          // "--no-cache": the switch (or our key set to true) stores false
    kCommandLineOnly = 2,  // an action, not a setting: never read from a file (--test)
    kV2Path = 4,           // dnscrypt-proxy 2 reads this file name relative to its own file
    kNoDefaultShown = 8,   // the help says what an unset value means itself
};

struct OptionSpec {
    std::string_view names;   // CLI11's "-a,--local-address"; empty: only a dnscrypt-proxy 2 key
    std::string_view v2_key;  // dnscrypt-proxy 2's key for the same setting; empty: none
    Field field;
    std::string_view type_name;  // "FILE", "MS"; empty for flags
    std::string_view help;       // without the default and range: help_text() adds them
    std::optional<Range> range;
    std::uint8_t flags = kPlain;

    [[nodiscard]] bool is(OptionFlags f) const { return (flags & f) != 0; }
    // "local-address": the switch without dashes, and the key in this proxy's TOML. Empty for a
    // dnscrypt-proxy 2 key with no switch.
    [[nodiscard]] std::string_view long_name() const;
};

[[nodiscard]] std::span<const OptionSpec> option_table();

// The row whose long name (our TOML key) or dnscrypt-proxy 2 key this is; nullptr if none.
[[nodiscard]] const OptionSpec* find_option(std::string_view long_name);
[[nodiscard]] const OptionSpec* find_v2_option(std::string_view v2_key);

// The help line: the row's help, then the default from Options{} and the range.
[[nodiscard]] std::string help_text(const OptionSpec& spec);

// Every row with a range, checked against `o`: a ConfigError naming the switch and the range.
void check_ranges(const Options& o);

}  // namespace dcp::config
