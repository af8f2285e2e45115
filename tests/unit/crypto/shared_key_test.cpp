#include "crypto/shared_key.hpp"

#include <gtest/gtest.h>

#include <sodium.h>

#include <vector>

namespace dcp::crypto {
namespace {

class SharedKeyTest : public ::testing::TestWithParam<Construction> {};

TEST_P(SharedKeyTest, BothSidesAgreeAndRoundTrip) {
    const auto a = KeyPair::generate();
    const auto b = KeyPair::generate();
    const auto ka = SharedKey::precompute(GetParam(), b.public_key, a.secret_key);
    const auto kb = SharedKey::precompute(GetParam(), a.public_key, b.secret_key);
    ASSERT_TRUE(ka && kb);
    EXPECT_TRUE(std::equal(ka->bytes().begin(), ka->bytes().end(), kb->bytes().begin()));

    std::vector<std::uint8_t> msg(300);
    for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::uint8_t>(i);
    const auto original = msg;
    Nonce nonce{};
    nonce[0] = 1;
    std::array<std::uint8_t, kMacSize> mac{};
    ka->seal(msg, mac, nonce);
    EXPECT_NE(msg, original);
    ASSERT_TRUE(kb->open(msg, mac, nonce));
    EXPECT_EQ(msg, original);
}

TEST_P(SharedKeyTest, MatchesOneShotBox) {
    const auto a = KeyPair::generate();
    const auto b = KeyPair::generate();
    const auto k = SharedKey::precompute(GetParam(), b.public_key, a.secret_key);
    ASSERT_TRUE(k);
    std::vector<std::uint8_t> msg(100, 0x42);
    Nonce nonce{};
    nonce[5] = 9;
    std::vector<std::uint8_t> oneshot(msg.size() + kMacSize);
    if (GetParam() == Construction::XSalsa20Poly1305) {
        ASSERT_EQ(crypto_box_easy(oneshot.data(), msg.data(), msg.size(), nonce.data(),
                                  b.public_key.data(), a.secret_key.data()),
                  0);
    } else {
        ASSERT_EQ(crypto_box_curve25519xchacha20poly1305_easy(
                      oneshot.data(), msg.data(), msg.size(), nonce.data(), b.public_key.data(),
                      a.secret_key.data()),
                  0);
    }
    std::array<std::uint8_t, kMacSize> mac{};
    k->seal(msg, mac, nonce);
    EXPECT_TRUE(std::equal(mac.begin(), mac.end(), oneshot.begin()));
    EXPECT_TRUE(std::equal(msg.begin(), msg.end(), oneshot.begin() + kMacSize));
}

TEST_P(SharedKeyTest, TamperingIsDetectedAndLeavesDataAlone) {
    const auto a = KeyPair::generate();
    const auto b = KeyPair::generate();
    const auto k = SharedKey::precompute(GetParam(), b.public_key, a.secret_key);
    ASSERT_TRUE(k);
    std::vector<std::uint8_t> msg(64, 7);
    Nonce nonce{};
    std::array<std::uint8_t, kMacSize> mac{};
    k->seal(msg, mac, nonce);
    const auto sealed = msg;
    for (std::size_t i = 0; i < msg.size(); ++i) {
        msg[i] ^= 0x80;
        const auto r = k->open(msg, mac, nonce);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), Error::AuthFailed);
        msg[i] ^= 0x80;
        EXPECT_EQ(msg, sealed);
    }
    nonce[23] ^= 1;
    EXPECT_FALSE(k->open(msg, mac, nonce));
}

TEST_P(SharedKeyTest, WeakPeerKeyRejected) {
    const auto a = KeyPair::generate();
    const PublicKey zero{};  // small-order point: all-zero shared secret
    const auto k = SharedKey::precompute(GetParam(), zero, a.secret_key);
    ASSERT_FALSE(k);
    EXPECT_EQ(k.error(), Error::WeakKey);
}

INSTANTIATE_TEST_SUITE_P(Constructions, SharedKeyTest,
                         ::testing::Values(Construction::XSalsa20Poly1305,
                                           Construction::XChaCha20Poly1305));

}  // namespace
}  // namespace dcp::crypto
