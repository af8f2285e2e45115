#pragma once
// The whole of a small file (a resolver list, its signature, a rule file) in memory.

#include <cstddef>
#include <string>

#include "common/result.hpp"

namespace dcp {

// At most `max` bytes; the error says why, without the path ("No such file or directory",
// "larger than N bytes", "read error").
[[nodiscard]] Result<std::string, std::string> read_whole_file(const std::string& path,
                                                               std::size_t max);

}  // namespace dcp
