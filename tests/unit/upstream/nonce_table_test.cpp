#include "upstream/nonce_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace dcp::upstream {
namespace {

TEST(NonceTable, InsertFindErase) {
    NonceTable<int> t(16);
    int a = 1, b = 2;
    EXPECT_TRUE(t.insert(5, &a));
    EXPECT_FALSE(t.insert(5, &b));  // present already: unchanged
    EXPECT_TRUE(t.insert(21, &b));  // same home slot as 5 in 16 slots
    EXPECT_EQ(t.find(5), &a);
    EXPECT_EQ(t.find(21), &b);
    EXPECT_EQ(t.find(37), nullptr);
    EXPECT_TRUE(t.erase(5));
    EXPECT_FALSE(t.erase(5));
    EXPECT_EQ(t.find(21), &b);  // moved back into the hole, still found
    EXPECT_EQ(t.size(), 1u);
}

TEST(NonceTable, WrapAroundRuns) {
    NonceTable<int> t(16);
    int v[4] = {};
    // Keys whose home is the last slot: the run wraps to slots 0, 1, 2.
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(t.insert(15 + 16 * static_cast<unsigned>(i), &v[i]));
    ASSERT_TRUE(t.erase(15 + 16));
    for (int i : {0, 2, 3}) EXPECT_EQ(t.find(15 + 16 * static_cast<unsigned>(i)), &v[i]);
    EXPECT_EQ(t.find(15 + 16), nullptr);
}

// Against std::map under a random mix of operations, with keys crowded into few home slots so
// that long runs, wrap-around and growth are all exercised.
TEST(NonceTable, MatchesAReferenceMap) {
    std::mt19937_64 rng(42);
    NonceTable<int> t(16);
    std::map<std::uint64_t, int*> ref;
    std::vector<int> values(4096);
    for (int step = 0; step < 200000; ++step) {
        const std::uint64_t key = (rng() % 512) * 1024 + (rng() % 8);
        int* value = &values[static_cast<std::size_t>(step) % values.size()];
        switch (rng() % 3) {
            case 0: {
                const bool inserted = t.insert(key, value);
                EXPECT_EQ(inserted, ref.emplace(key, value).second);
                break;
            }
            case 1:
                EXPECT_EQ(t.erase(key), ref.erase(key) == 1);
                break;
            default: {
                const auto it = ref.find(key);
                EXPECT_EQ(t.find(key), it == ref.end() ? nullptr : it->second);
            }
        }
        ASSERT_EQ(t.size(), ref.size());
    }
    for (const auto& [k, v] : ref) EXPECT_EQ(t.find(k), v);
}

}  // namespace
}  // namespace dcp::upstream
