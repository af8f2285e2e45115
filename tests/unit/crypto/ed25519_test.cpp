#include "crypto/ed25519.hpp"

#include <gtest/gtest.h>

#include <sodium.h>

#include <vector>

namespace dcp::crypto {
namespace {

TEST(Ed25519, VerifiesAndRejects) {
    std::array<std::uint8_t, 32> seed{};
    Ed25519PublicKey pk{};
    std::array<std::uint8_t, 64> sk{};
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
    std::vector<std::uint8_t> msg = {1, 2, 3, 4, 5};
    std::array<std::uint8_t, 64> sig{};
    crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), sk.data());
    EXPECT_TRUE(ed25519_verify(sig, msg, pk));
    msg[0] ^= 1;
    EXPECT_FALSE(ed25519_verify(sig, msg, pk));
    msg[0] ^= 1;
    sig[10] ^= 1;
    EXPECT_FALSE(ed25519_verify(sig, msg, pk));
    sig[10] ^= 1;
    pk[0] ^= 1;
    EXPECT_FALSE(ed25519_verify(sig, msg, pk));
}

}  // namespace
}  // namespace dcp::crypto
