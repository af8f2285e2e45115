#pragma once
// Known-answer checks over tests/data/vectors.json. Every leaf the checks read is recorded, so
// the tests can prove two things: every non-descriptive leaf of the file is checked, and
// corrupting any one of them makes the checks fail.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dcp::test {

enum class LeafKind { Hex, Number, Text };

struct VectorReport {
    std::vector<std::string> failures;
    std::map<std::string, LeafKind> consumed;  // JSON pointer -> how it was read
    int checks = 0;                            // assertions evaluated
};

[[nodiscard]] VectorReport check_vectors(const nlohmann::json& root);

// Keys that only describe (prose, function names, layouts): read by people, not by checks.
[[nodiscard]] bool is_descriptive_key(const std::string& key);

}  // namespace dcp::test
