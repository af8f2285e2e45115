#include "common/liveness.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace dcp {
namespace {

TEST(Liveness, TokensSeeTheEndAndOutliveTheirObject) {
    std::optional<Liveness> owner;
    owner.emplace();
    const auto early = owner->token();
    EXPECT_TRUE(owner->alive());
    EXPECT_TRUE(static_cast<bool>(early));
    owner->end();
    EXPECT_FALSE(owner->alive());
    EXPECT_FALSE(static_cast<bool>(early));
    EXPECT_FALSE(static_cast<bool>(owner->token()));  // a token taken after the end

    owner.emplace();
    const auto token = owner->token();
    owner.reset();  // gone without end(): its tokens say so all the same
    EXPECT_FALSE(static_cast<bool>(token));
}

}  // namespace
}  // namespace dcp
