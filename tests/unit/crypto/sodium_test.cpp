#include "crypto/sodium.hpp"

#include <gtest/gtest.h>

#include <sodium.h>

#include <array>

namespace dcp::crypto {
namespace {

TEST(Sodium, InitializeIsIdempotent) {
    EXPECT_TRUE(initialize());
    EXPECT_TRUE(initialize());
    // libsodium itself says it was initialised already (1), not freshly now (0) or failed (-1).
    EXPECT_EQ(sodium_init(), 1);
}

TEST(Sodium, RandomBytesDiffer) {
    std::array<std::uint8_t, 16> a{}, b{};
    random_bytes(a);
    random_bytes(b);
    EXPECT_NE(a, b);
}

TEST(Sodium, RandomUniformInRange) {
    std::array<int, 4> seen{};
    for (int i = 0; i < 400; ++i) {
        const auto v = random_uniform(4);
        ASSERT_LT(v, 4u);
        ++seen[v];
    }
    for (const int n : seen) EXPECT_GT(n, 0);
}

}  // namespace
}  // namespace dcp::crypto
