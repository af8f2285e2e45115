#include "dnscrypt/cert_answer.hpp"

#include <gtest/gtest.h>

#include <array>

#include "unit/dns/dns_builder.hpp"
#include "unit/dnscrypt/test_keys.hpp"

namespace dcp::dnscrypt {
namespace {

const char* kProvider = "2.dnscrypt-cert.example.test";
const auto kNow = unix_seconds(1700003600);

std::vector<std::uint8_t> answer(std::uint16_t id, std::uint16_t flags,
                                 const std::vector<std::vector<std::uint8_t>>& certs) {
    test::MsgBuilder real;
    real.header(id, flags, 1, static_cast<std::uint16_t>(certs.size()), 0, 0)
        .question(kProvider, 16);
    for (const auto& c : certs) {
        std::vector<std::uint8_t> rdata(c.size() + 1);
        rdata[0] = static_cast<std::uint8_t>(c.size());
        std::copy(c.begin(), c.end(), rdata.begin() + 1);
        real.record_at(12, 16, 60, rdata);
    }
    return real.build();
}

TEST(CertAnswer, QueryIsAPlainTxtQuery) {
    const auto name = dns::encode_name(kProvider);
    std::array<std::uint8_t, 512> out{};
    const auto len = write_cert_query(*name, 0x4242, out);
    ASSERT_TRUE(len);
    EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + static_cast<long>(*len)),
              test::make_query(kProvider, 16, 0x4242));
}

TEST(CertAnswer, SelectsFromAValidAnswer) {
    test::TestProvider p;
    test::CertSpec a, b;
    b.serial = 2;
    const auto msg = answer(7, 0x8180, {p.certificate(a), p.certificate(b)});
    const auto r = read_cert_answer(msg, 7, *dns::encode_name(kProvider), p.public_key(), kNow);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->chosen);
    EXPECT_EQ(r->chosen->serial, 2u);
}

TEST(CertAnswer, Errors) {
    test::TestProvider p;
    const auto name = *dns::encode_name(kProvider);
    const auto good = p.certificate({});
    struct Case {
        std::vector<std::uint8_t> msg;
        std::uint16_t id;
        CertAnswerError want;
    };
    const Case cases[] = {
        {answer(7, 0x8180, {good}), 8, CertAnswerError::Malformed},  // someone else's answer
        {answer(7, 0x8380, {good}), 7, CertAnswerError::Truncated},
        {answer(7, 0x8182, {good}), 7, CertAnswerError::Rcode},
        {answer(7, 0x8180, {}), 7, CertAnswerError::Empty},
        {{0x00, 0x07, 0x81}, 7, CertAnswerError::Malformed},
        {{}, 7, CertAnswerError::Malformed},  // dnsdist 1.7 over TCP
    };
    for (const auto& c : cases) {
        const auto r = read_cert_answer(c.msg, c.id, name, p.public_key(), kNow);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), c.want) << to_string(r.error());
    }
}

TEST(CertAnswer, OnlyBadCertificatesGiveNoChoiceWithReasons) {
    test::TestProvider p;
    auto bad = p.certificate({});
    bad[90] ^= 1;
    const auto r = read_cert_answer(answer(7, 0x8180, {bad}), 7, *dns::encode_name(kProvider),
                                    p.public_key(), kNow);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->chosen);
    ASSERT_EQ(r->rejected.size(), 1u);
    EXPECT_EQ(r->rejected[0].reason, CertError::BadSignature);
}

}  // namespace
}  // namespace dcp::dnscrypt
