#pragma once
// Reading test data files (tests/data, data/) whole.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace dcp::test {

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot open " << path;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace dcp::test
