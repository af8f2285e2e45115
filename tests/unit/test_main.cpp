#include <gtest/gtest.h>

#include <cstdio>

#include "crypto/sodium.hpp"

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!dcp::crypto::initialize()) {
        std::fputs("libsodium initialisation failed\n", stderr);
        return 1;
    }
    return RUN_ALL_TESTS();
}
