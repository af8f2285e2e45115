#include "crypto/x25519.hpp"

#include <gtest/gtest.h>

#include <sodium.h>

#include "common/hex.hpp"

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
    // The known answer (tests/data/vectors.json, client_x25519_pk), not only self-consistency.
    EXPECT_EQ(hex_encode(a->public_key),
              "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a");
}

}  // namespace
}  // namespace dcp::crypto
