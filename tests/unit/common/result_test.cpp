#include "common/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace dcp {
namespace {

enum class E : std::uint8_t { A, B };

Result<int, E> half(int x) {
    if (x % 2 != 0) return Unexpected(E::B);
    return x / 2;
}

TEST(Result, ValueAndError) {
    const auto ok = half(4);
    ASSERT_TRUE(ok);
    EXPECT_TRUE(ok.has_value());
    EXPECT_EQ(*ok, 2);
    EXPECT_EQ(ok.value_or(9), 2);
    const auto bad = half(3);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), E::B);
    EXPECT_EQ(bad.value_or(9), 9);
}

TEST(Result, MoveOnlyValue) {
    Result<std::unique_ptr<int>, E> r(std::make_unique<int>(5));
    ASSERT_TRUE(r);
    auto p = std::move(r).value();
    EXPECT_EQ(*p, 5);
}

TEST(Result, ArrowOperator) {
    Result<std::string, E> r(std::string("abc"));
    EXPECT_EQ(r->size(), 3u);
}

TEST(Result, TransformKeepsTheError) {
    const auto text = half(4).transform([](int v) { return std::to_string(v); });
    static_assert(std::is_same_v<std::remove_const_t<decltype(text)>, Result<std::string, E>>);
    ASSERT_TRUE(text);
    EXPECT_EQ(*text, "2");
    const auto bad = half(3).transform([](int v) { return std::to_string(v); });
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), E::B);
    // From an lvalue: the value is read, not moved from.
    const Result<std::string, E> word(std::string("abc"));
    EXPECT_EQ(*word.transform([](const std::string& w) { return w.size(); }), 3u);
    EXPECT_EQ(*word, "abc");
    // From an rvalue: a move-only value is moved along.
    Result<std::unique_ptr<int>, E> owned(std::make_unique<int>(7));
    const auto moved = std::move(owned).transform([](std::unique_ptr<int> p) { return *p + 1; });
    EXPECT_EQ(*moved, 8);
}

TEST(Result, Void) {
    Result<void, E> ok;
    EXPECT_TRUE(ok);
    Result<void, E> bad = Unexpected(E::A);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), E::A);
}

TEST(ResultDeath, ValueOfErrorAborts) {
    EXPECT_DEATH((void)half(3).value(), "");
    EXPECT_DEATH((void)half(2).error(), "");
}

}  // namespace
}  // namespace dcp
