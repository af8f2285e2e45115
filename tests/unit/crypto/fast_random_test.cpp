#include "crypto/fast_random.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace dcp::crypto {
namespace {

TEST(FastRandom, NoRepeatsAcrossRefillsAndRekeys) {
    FastRandom r;
    std::set<std::vector<std::uint8_t>> seen;
    // Past several buffer refills and one rekey (12-byte nonces, > 1 MiB in total).
    const std::size_t count = FastRandom::kRekeyBytes / 12 + 1000;
    std::vector<std::uint8_t> nonce(12);
    for (std::size_t i = 0; i < count; ++i) {
        r.fill(nonce);
        ASSERT_TRUE(seen.insert(nonce).second) << "repeat after " << i;
    }
}

TEST(FastRandom, TwoInstancesDiffer) {
    FastRandom a, b;
    std::vector<std::uint8_t> x(32), y(32);
    a.fill(x);
    b.fill(y);
    EXPECT_NE(x, y);
}

TEST(FastRandom, FillsOddSizesAcrossTheBufferEdge) {
    FastRandom r;
    std::vector<std::uint8_t> big(FastRandom::kBufferBytes * 3 + 7, 0);
    r.fill(big);
    std::size_t zeros = 0;
    for (const auto b : big) zeros += b == 0;
    EXPECT_LT(zeros, big.size() / 64);  // about 1/256 expected
}

TEST(FastRandom, UniformCoversTheRange) {
    FastRandom r;
    std::vector<int> counts(4);
    for (int i = 0; i < 4000; ++i) {
        const auto v = r.uniform(4);
        ASSERT_LT(v, 4u);
        ++counts[v];
    }
    for (const int c : counts) {
        EXPECT_GT(c, 800);
        EXPECT_LT(c, 1200);
    }
}

}  // namespace
}  // namespace dcp::crypto
