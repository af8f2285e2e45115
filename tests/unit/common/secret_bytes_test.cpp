#include "common/secret_bytes.hpp"

#include <gtest/gtest.h>

#include <array>
#include <type_traits>

namespace dcp {
namespace {

static_assert(!std::is_copy_constructible_v<SecretBytes<32>>);
static_assert(!std::is_copy_assignable_v<SecretBytes<32>>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes<32>>);

TEST(SecretBytes, MoveWipesTheSource) {
    std::array<std::uint8_t, 4> raw = {1, 2, 3, 4};
    SecretBytes<4> a{std::span<const std::uint8_t, 4>(raw)};
    SecretBytes<4> b(std::move(a));
    EXPECT_EQ(b.data()[3], 4);
    for (std::size_t i = 0; i < 4; ++i)
        EXPECT_EQ(a.data()[i], 0);  // NOLINT(bugprone-use-after-move)
    SecretBytes<4> c;
    c = std::move(b);
    EXPECT_EQ(c.data()[0], 1);
    EXPECT_EQ(b.data()[0], 0);  // NOLINT(bugprone-use-after-move)
}

TEST(SecretBytes, WipeZeroes) {
    std::array<std::uint8_t, 2> raw = {7, 7};
    SecretBytes<2> s{std::span<const std::uint8_t, 2>(raw)};
    s.wipe();
    EXPECT_EQ(s.data()[0], 0);
    EXPECT_EQ(s.data()[1], 0);
}

}  // namespace
}  // namespace dcp
