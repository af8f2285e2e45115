#include "dnscrypt/certificate.hpp"

#include <gtest/gtest.h>

#include "unit/dnscrypt/test_keys.hpp"

namespace dcp::dnscrypt {
namespace {

using test::CertSpec;
using test::TestProvider;

const auto kNow = unix_seconds(1700003600);

TEST(Certificate, ParsesEveryField) {
    TestProvider p;
    CertSpec spec;
    spec.serial = 77;
    const auto blob = p.certificate(spec);
    const auto c = parse_certificate(blob, p.public_key());
    ASSERT_TRUE(c) << to_string(c.error());
    EXPECT_EQ(c->construction, crypto::Construction::XChaCha20Poly1305);
    EXPECT_EQ(c->resolver_public_key, p.resolver_keys().public_key);
    EXPECT_EQ(c->client_magic, spec.client_magic);
    EXPECT_EQ(c->serial, 77u);
    EXPECT_EQ(c->ts_start, spec.ts_start);
    EXPECT_EQ(c->ts_end, spec.ts_end);
    EXPECT_FALSE(c->long_lived());
    spec.es_version = 1;
    const auto es1 = parse_certificate(p.certificate(spec), p.public_key());
    ASSERT_TRUE(es1);
    EXPECT_EQ(es1->construction, crypto::Construction::XSalsa20Poly1305);
}

TEST(Certificate, ExtensionsAreSignedAndIgnored) {
    TestProvider p;
    CertSpec spec;
    spec.extensions = {1, 2, 3, 4, 5};
    auto blob = p.certificate(spec);
    EXPECT_TRUE(parse_certificate(blob, p.public_key()));
    blob.back() ^= 1;
    const auto r = parse_certificate(blob, p.public_key());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), CertError::BadSignature);
}

TEST(Certificate, EveryShortLengthRejected) {
    TestProvider p;
    const auto blob = p.certificate({});
    for (std::size_t len = 0; len < cert::kMinSize; ++len) {
        const auto r = parse_certificate(Bytes(blob).first(len), p.public_key());
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), CertError::TooShort);
    }
}

TEST(Certificate, EverySignedByteIsCovered) {
    TestProvider p;
    auto blob = p.certificate({});
    for (std::size_t i = cert::kSignatureOffset; i < blob.size(); ++i) {
        blob[i] ^= 0x01;
        const auto r = parse_certificate(blob, p.public_key());
        ASSERT_FALSE(r) << "byte " << i;
        EXPECT_EQ(r.error(), CertError::BadSignature) << "byte " << i;
        blob[i] ^= 0x01;
    }
}

TEST(Certificate, HeaderChecks) {
    TestProvider p;
    auto blob = p.certificate({});
    for (std::size_t i = 0; i < 4; ++i) {
        blob[i] ^= 0x20;
        const auto r = parse_certificate(blob, p.public_key());
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), CertError::BadMagic);
        blob[i] ^= 0x20;
    }
    for (const int es : {0, 3, 0x0102, 0xffff}) {
        CertSpec spec;
        spec.es_version = static_cast<std::uint16_t>(es);
        const auto r = parse_certificate(p.certificate(spec), p.public_key());
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), CertError::UnsupportedEsVersion);
    }
    // The minor version is not signed and not checked (dnscrypt-proxy does not either).
    blob[cert::kMinorVersionOffset + 1] = 7;
    EXPECT_TRUE(parse_certificate(blob, p.public_key()));
}

TEST(Certificate, WrongProviderKey) {
    TestProvider p;
    auto key = p.public_key();
    key[31] ^= 1;
    const auto r = parse_certificate(p.certificate({}), key);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), CertError::BadSignature);
}

TEST(Certificate, ValidityPeriod) {
    TestProvider p;
    CertSpec spec;
    spec.ts_start = 100;
    spec.ts_end = 100;
    auto r = parse_certificate(p.certificate(spec), p.public_key());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), CertError::BadValidityPeriod);
    spec.ts_end = 99;
    EXPECT_EQ(parse_certificate(p.certificate(spec), p.public_key()).error(),
              CertError::BadValidityPeriod);

    const auto c = parse_certificate(p.certificate({}), p.public_key());
    ASSERT_TRUE(c);
    EXPECT_EQ(check_validity(*c, unix_seconds(1699999999)).error(), CertError::NotYetValid);
    EXPECT_TRUE(check_validity(*c, unix_seconds(1700000000)));
    EXPECT_TRUE(check_validity(*c, unix_seconds(1700086400)));  // ts-end inclusive
    EXPECT_EQ(check_validity(*c, unix_seconds(1700086401)).error(), CertError::Expired);

    spec.ts_start = 0;
    spec.ts_end = 8 * 24 * 3600;
    EXPECT_TRUE(parse_certificate(p.certificate(spec), p.public_key())->long_lived());
}

TEST(Selection, HighestSerialValidNowWins) {
    TestProvider p;
    CertSpec a, b, expired, future, es3;
    a.serial = 5;
    b.serial = 6;
    b.client_magic[7] = 'b';
    expired.serial = 100;
    expired.ts_end = 1700000100;
    future.serial = 101;
    future.ts_start = 1800000000;
    future.ts_end = 1800086400;
    es3.serial = 200;
    es3.es_version = 3;
    const std::vector<std::vector<std::uint8_t>> blobs = {
        p.certificate(a),      p.certificate(expired), p.certificate(b),
        p.certificate(future), p.certificate(es3),     {1, 2, 3}};
    const auto choice = select_certificate(blobs, p.public_key(), kNow);
    ASSERT_TRUE(choice.chosen);
    EXPECT_EQ(choice.chosen->serial, 6u);
    EXPECT_EQ(choice.chosen->client_magic, b.client_magic);
    ASSERT_EQ(choice.rejected.size(), 4u);
    EXPECT_EQ(choice.rejected[0].index, 1u);
    EXPECT_EQ(choice.rejected[0].reason, CertError::Expired);
    EXPECT_EQ(choice.rejected[1].reason, CertError::NotYetValid);
    EXPECT_EQ(choice.rejected[2].reason, CertError::UnsupportedEsVersion);
    EXPECT_EQ(choice.rejected[3].reason, CertError::TooShort);
}

TEST(Selection, EqualSerialPrefersXChaCha20InEitherOrder) {
    TestProvider p;
    CertSpec es1, es2;
    es1.es_version = 1;
    es1.serial = es2.serial = 9;
    for (const bool es2_first : {false, true}) {
        std::vector<std::vector<std::uint8_t>> blobs = {p.certificate(es1), p.certificate(es2)};
        if (es2_first) std::swap(blobs[0], blobs[1]);
        const auto choice = select_certificate(blobs, p.public_key(), kNow);
        ASSERT_TRUE(choice.chosen);
        EXPECT_EQ(choice.chosen->construction, crypto::Construction::XChaCha20Poly1305);
    }
}

TEST(Selection, NothingUsable) {
    TestProvider p;
    auto bad = p.certificate({});
    bad[100] ^= 1;
    const auto choice = select_certificate({bad}, p.public_key(), kNow);
    EXPECT_FALSE(choice.chosen);
    ASSERT_EQ(choice.rejected.size(), 1u);
    EXPECT_EQ(choice.rejected[0].reason, CertError::BadSignature);
    EXPECT_FALSE(choice.rejected[0].signed_certificate);  // nothing of it can be trusted
    EXPECT_FALSE(select_certificate({}, p.public_key(), kNow).chosen);
}

TEST(Selection, OutOfTimeRejectionsCarryTheSignedPeriod) {
    // What the log needs to tell a user whose clock is wrong when the certificate is valid.
    TestProvider p;
    CertSpec spec;
    const auto blob = p.certificate(spec);
    for (const auto& [now, reason] :
         {std::pair{unix_seconds(spec.ts_end + std::int64_t{1}), CertError::Expired},
          std::pair{unix_seconds(spec.ts_start - std::int64_t{1}), CertError::NotYetValid}}) {
        const auto choice = select_certificate({blob}, p.public_key(), now);
        EXPECT_FALSE(choice.chosen);
        ASSERT_EQ(choice.rejected.size(), 1u);
        EXPECT_EQ(choice.rejected[0].reason, reason);
        ASSERT_TRUE(choice.rejected[0].signed_certificate);
        EXPECT_EQ(choice.rejected[0].signed_certificate->ts_start, spec.ts_start);
        EXPECT_EQ(choice.rejected[0].signed_certificate->ts_end, spec.ts_end);
    }
}

}  // namespace
}  // namespace dcp::dnscrypt
