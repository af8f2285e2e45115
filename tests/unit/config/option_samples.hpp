#pragma once
// A value for each row of the option table that differs from its default and is in its range,
// written as a switch's argument and as a TOML value, and a check that a row's field holds it:
// the command-line and file tests run over every row with these.

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "config/option_table.hpp"

namespace dcp::config::test {

struct Sample {
    std::vector<std::string> arguments;  // after the switch: none for a flag
    std::string toml;                    // the value in a TOML file
};

// The number a row's sample uses: inside its range, never its default.
inline std::uint64_t sample_number(const OptionSpec& spec) {
    if (!spec.range) return 7;
    return spec.range->min + 1 <= spec.range->max ? spec.range->min + 1 : spec.range->min;
}

inline Sample sample_of(const OptionSpec& spec) {
    return std::visit(
        [&spec](auto field) -> Sample {
            using T = std::decay_t<decltype(field(std::declval<Options&>()))>;
            if constexpr (std::is_same_v<T, std::string>) {
                return {{"sample-text"}, "\"sample-text\""};
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                return {{"one", "two"}, "[\"one\", \"two\"]"};
            } else if constexpr (std::is_same_v<T, bool>) {
                return {{}, "true"};
            } else {
                const auto n = std::to_string(sample_number(spec));
                return {{n}, n};
            }
        },
        spec.field);
}

// Whether `o`'s field of this row holds the sample; for a flag, that the switch (or `key =
// true` in our file) took effect: true, or false for a negated one. `path_prefix` is what a
// dnscrypt-proxy 2 file puts before a relative file name.
inline bool holds_sample(const OptionSpec& spec, Options& o, bool negate,
                         const std::string& path_prefix = "") {
    return std::visit(
        [&](auto field) -> bool {
            const auto& value = field(o);
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::string>) {
                return value == path_prefix + "sample-text";
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                return value == std::vector<std::string>{"one", "two"};
            } else if constexpr (std::is_same_v<T, bool>) {
                return value == !negate;
            } else if constexpr (std::is_same_v<T, std::optional<std::uint16_t>> ||
                                 std::is_same_v<T, std::optional<std::uint32_t>>) {
                return value && *value == sample_number(spec);
            } else {
                return value == sample_number(spec);
            }
        },
        spec.field);
}

}  // namespace dcp::config::test
