#include "dnscrypt/packet.hpp"

#include <gtest/gtest.h>

#include "dnscrypt/padding.hpp"
#include "dnscrypt/session.hpp"
#include "unit/dnscrypt/test_keys.hpp"

namespace dcp::dnscrypt {
namespace {

const std::vector<std::uint8_t> kDnsMessage = {
    0xca, 0xfe, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x07, 'e',  'x',
    'a',  'm',  'p',  'l',  'e',  0x03, 'c',  'o',  'm',  0x00, 0x00, 0x01, 0x00, 0x01, 0xc0,
    0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x04, 192,  0,    2,    1};

class PacketTest : public ::testing::TestWithParam<std::uint16_t> {
  protected:
    PacketTest() {
        CertSpecFor();
        const auto cert = parse_certificate(provider_.certificate(spec_), provider_.public_key());
        // A fixture constructor cannot ASSERT; the test body is skipped instead of crashing.
        if (!cert) {
            ADD_FAILURE() << "test certificate refused: " << to_string(cert.error());
            return;
        }
        auto session = Session::create(*cert, client_);
        if (!session) {
            ADD_FAILURE() << "test session refused: " << to_string(session.error());
            return;
        }
        session_.emplace(std::move(*session));
        auto key = crypto::SharedKey::precompute(cert->construction, client_.public_key,
                                                 provider_.resolver_keys().secret_key);
        if (!key) {
            ADD_FAILURE() << "test resolver key refused";
            return;
        }
        resolver_key_.emplace(std::move(*key));
        for (std::size_t i = 0; i < half_.size(); ++i) half_[i] = static_cast<std::uint8_t>(i + 1);
    }
    void CertSpecFor() { spec_.es_version = GetParam(); }
    // A fatal failure here skips the test body, which uses the session and the resolver key.
    void SetUp() override {
        ASSERT_TRUE(session_);
        ASSERT_TRUE(resolver_key_);
    }

    std::vector<std::uint8_t> response(std::size_t pad = 19) const {
        return test::make_response(*resolver_key_, half_, kDnsMessage, pad);
    }

    test::TestProvider provider_;
    test::CertSpec spec_;
    crypto::KeyPair client_ = crypto::KeyPair::generate();
    std::optional<Session> session_;
    std::optional<crypto::SharedKey> resolver_key_;
    ClientNonceHalf half_{};
};

TEST_P(PacketTest, QueryLayoutAndResolverCanOpenIt) {
    std::vector<std::uint8_t> out(1024);
    const auto padded = *udp_padded_length(kDnsMessage.size(), kMinUdpQueryLength, 4096);
    const auto len = encrypt_query(session_->query_keys(), kDnsMessage, half_, padded, out);
    ASSERT_TRUE(len);
    EXPECT_EQ(*len, 68u + 256u);
    EXPECT_TRUE(std::equal(spec_.client_magic.begin(), spec_.client_magic.end(), out.begin()));
    EXPECT_TRUE(std::equal(client_.public_key.begin(), client_.public_key.end(), out.begin() + 8));
    EXPECT_TRUE(std::equal(half_.begin(), half_.end(), out.begin() + 40));

    crypto::Nonce nonce{};
    std::copy(half_.begin(), half_.end(), nonce.begin());
    auto body = std::span(out).subspan(68, padded);
    ASSERT_TRUE(
        resolver_key_->open(body, std::span<const std::uint8_t, 16>(out.data() + 52, 16), nonce));
    EXPECT_TRUE(std::equal(kDnsMessage.begin(), kDnsMessage.end(), body.begin()));
    EXPECT_EQ(*unpadded_length(body), kDnsMessage.size());
}

TEST_P(PacketTest, QueryAlreadyInPlace) {
    std::vector<std::uint8_t> a(512), b(512);
    std::copy(kDnsMessage.begin(), kDnsMessage.end(), b.begin() + 68);
    const auto la = encrypt_query(session_->query_keys(), kDnsMessage, half_, 64, a);
    const auto lb = encrypt_query(session_->query_keys(), Bytes(b).subspan(68, kDnsMessage.size()),
                                  half_, 64, b);
    ASSERT_TRUE(la && lb);
    EXPECT_EQ(a, b);
}

TEST_P(PacketTest, QueryErrors) {
    std::vector<std::uint8_t> small(68 + 63);
    EXPECT_EQ(encrypt_query(session_->query_keys(), kDnsMessage, half_, 64, small).error(),
              PacketError::NoSpace);
    std::vector<std::uint8_t> out(512);
    EXPECT_EQ(
        encrypt_query(session_->query_keys(), kDnsMessage, half_, kDnsMessage.size(), out).error(),
        PacketError::CannotPad);
}

TEST_P(PacketTest, ResponseDecrypts) {
    auto packet = response();
    const auto nonce = response_nonce_half(packet);
    ASSERT_TRUE(nonce);
    EXPECT_EQ(*nonce, half_);
    const auto msg = decrypt_response(packet, half_, session_->shared_key());
    ASSERT_TRUE(msg) << to_string(msg.error());
    EXPECT_TRUE(std::equal(msg->begin(), msg->end(), kDnsMessage.begin(), kDnsMessage.end()));
}

TEST_P(PacketTest, EveryTruncationFailsWithTheRightError) {
    const auto genuine = response();
    for (std::size_t len = 0; len < genuine.size(); ++len) {
        std::vector<std::uint8_t> p(genuine.begin(), genuine.begin() + static_cast<long>(len));
        const auto r = decrypt_response(p, half_, session_->shared_key());
        ASSERT_FALSE(r) << len;
        const auto want = len < response::kHeaderSize + kMinDnsMessage ? PacketError::ShortPacket
                                                                       : PacketError::AuthFailed;
        EXPECT_EQ(r.error(), want) << "length " << len;
    }
}

TEST_P(PacketTest, EveryFlippedByteFailsWithTheRightError) {
    const auto genuine = response();
    for (std::size_t i = 0; i < genuine.size(); ++i) {
        for (const std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
            auto p = genuine;
            p[i] ^= flip;
            const auto r = decrypt_response(p, half_, session_->shared_key());
            ASSERT_FALSE(r) << "byte " << i;
            PacketError want = PacketError::AuthFailed;  // resolver nonce, MAC, ciphertext
            if (i < response::kNonceOffset) {
                want = PacketError::BadMagic;
            } else if (i < response::kNonceOffset + 12) {
                want = PacketError::UnknownNonce;
            }
            EXPECT_EQ(r.error(), want) << "byte " << i << ": " << to_string(r.error());
        }
    }
}

TEST_P(PacketTest, PaddingAndLengthChecksAfterDecryption) {
    auto no_pad = response(0);  // authentic, but no 0x80
    EXPECT_EQ(decrypt_response(no_pad, half_, session_->shared_key()).error(),
              PacketError::BadPadding);
    const std::vector<std::uint8_t> tiny(16, 1);
    auto short_msg = test::make_response(*resolver_key_, half_, tiny, 1);
    EXPECT_EQ(decrypt_response(short_msg, half_, session_->shared_key()).error(),
              PacketError::ShortMessage);
    // Padding up to 256 bytes and unaligned totals are fine.
    auto long_pad = response(256);
    EXPECT_TRUE(decrypt_response(long_pad, half_, session_->shared_key()));
}

TEST_P(PacketTest, WrongKeyFailsAuthentication) {
    auto packet = response();
    const auto other = crypto::SharedKey::precompute(session_->shared_key().construction(),
                                                     provider_.resolver_keys().public_key,
                                                     crypto::KeyPair::generate().secret_key);
    ASSERT_TRUE(other);
    EXPECT_EQ(decrypt_response(packet, half_, *other).error(), PacketError::AuthFailed);
}

TEST_P(PacketTest, OversizedPacketRejectedBeforeWork) {
    std::vector<std::uint8_t> huge(response::kHeaderSize + kMaxDnsMessage + 1, 0);
    std::copy(kResolverMagic.begin(), kResolverMagic.end(), huge.begin());
    EXPECT_EQ(response_nonce_half(huge).error(), PacketError::TooLarge);
}

INSTANTIATE_TEST_SUITE_P(EsVersions, PacketTest, ::testing::Values(1, 2));

}  // namespace
}  // namespace dcp::dnscrypt
