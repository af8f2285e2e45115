#include "dnscrypt/session.hpp"

#include <gtest/gtest.h>

#include "unit/dnscrypt/test_keys.hpp"

namespace dcp::dnscrypt {
namespace {

TEST(Session, PrecomputesTheCertificatesKey) {
    test::TestProvider p;
    const auto cert = parse_certificate(p.certificate({}), p.public_key());
    ASSERT_TRUE(cert);
    const auto client = crypto::KeyPair::generate();
    const auto s = Session::create(*cert, client);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->certificate().serial, cert->serial);
    const auto server_side = crypto::SharedKey::precompute(cert->construction, client.public_key,
                                                           p.resolver_keys().secret_key);
    ASSERT_TRUE(server_side);
    EXPECT_TRUE(std::equal(s->shared_key().bytes().begin(), s->shared_key().bytes().end(),
                           server_side->bytes().begin()));
    const auto keys = s->query_keys();
    EXPECT_EQ(keys.client_magic, cert->client_magic);
    EXPECT_EQ(keys.client_public_key, client.public_key);
}

TEST(Session, WeakResolverKeyRejectsTheCertificate) {
    test::TestProvider p;
    const crypto::PublicKey zero{};
    const auto cert = parse_certificate(p.certificate_for({}, zero), p.public_key());
    ASSERT_TRUE(cert);  // signed, so it parses...
    const auto s = Session::create(*cert, crypto::KeyPair::generate());
    ASSERT_FALSE(s);  // ...but is never used
    EXPECT_EQ(s.error(), CertError::WeakKey);
}

}  // namespace
}  // namespace dcp::dnscrypt
