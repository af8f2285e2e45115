#include "crypto/x25519.hpp"

#include <gtest/gtest.h>

#include <sodium.h>

namespace dcp::crypto {
namespace {

TEST(KeyPair, GenerateGivesMatchingPublicKey) {
    const auto kp = KeyPair::generate();
    PublicKey derived{};
    ASSERT_EQ(crypto_scalarmult_base(derived.data(), kp.secret_key.data()), 0);
    EXPECT_EQ(derived, kp.public_key);
    const auto other = KeyPair::generate();
    EXPECT_NE(other.public_key, kp.public_key);
}

TEST(KeyPair, FromSecretIsDeterministic) {
    std::array<std::uint8_t, 32> secret{};
    for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(0x40 + i);
    const auto a = KeyPair::from_secret(secret);
    const auto b = KeyPair::from_secret(secret);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->public_key, b->public_key);
}

}  // namespace
}  // namespace dcp::crypto
