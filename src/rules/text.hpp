#pragma once
// Messages built by appending (g++ 12 at -O3 warns, falsely, -Wrestrict on chains of
// operator+ with temporaries).

#include <initializer_list>
#include <string>
#include <string_view>

namespace dcp::rules {

[[nodiscard]] inline std::string concat(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (const auto p : parts) out += p;
    return out;
}

// ASCII lowercase, as rule files are matched (names are compared without case).
[[nodiscard]] inline std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    }
    return out;
}

}  // namespace dcp::rules
