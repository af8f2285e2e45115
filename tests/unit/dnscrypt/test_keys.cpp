#include "unit/dnscrypt/test_keys.hpp"

#include <sodium.h>

#include <algorithm>

#include "common/bytes.hpp"

namespace dcp::test {

TestProvider::TestProvider() : resolver_(crypto::KeyPair::generate()) {
    std::array<std::uint8_t, 32> seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(0xa0 + i);
    crypto_sign_seed_keypair(pk_.data(), sk_.data(), seed.data());
}

std::vector<std::uint8_t> TestProvider::certificate(const CertSpec& spec) const {
    return certificate_for(spec, resolver_.public_key);
}

std::vector<std::uint8_t> TestProvider::certificate_for(const CertSpec& spec,
                                                        const crypto::PublicKey& key) const {
    std::vector<std::uint8_t> c(dnscrypt::cert::kMinSize + spec.extensions.size());
    std::copy(dnscrypt::kCertMagic.begin(), dnscrypt::kCertMagic.end(), c.begin());
    store_u16_be(c.data() + dnscrypt::cert::kEsVersionOffset, spec.es_version);
    std::copy(key.begin(), key.end(), c.begin() + dnscrypt::cert::kResolverPkOffset);
    std::copy(spec.client_magic.begin(), spec.client_magic.end(),
              c.begin() + dnscrypt::cert::kClientMagicOffset);
    store_u32_be(c.data() + dnscrypt::cert::kSerialOffset, spec.serial);
    store_u32_be(c.data() + dnscrypt::cert::kTsStartOffset, spec.ts_start);
    store_u32_be(c.data() + dnscrypt::cert::kTsEndOffset, spec.ts_end);
    std::copy(spec.extensions.begin(), spec.extensions.end(), c.begin() + dnscrypt::cert::kMinSize);
    crypto_sign_detached(c.data() + dnscrypt::cert::kSignatureOffset, nullptr,
                         c.data() + dnscrypt::cert::kSignedOffset,
                         c.size() - dnscrypt::cert::kSignedOffset, sk_.data());
    return c;
}

std::vector<std::uint8_t> make_response(const crypto::SharedKey& key,
                                        const dnscrypt::ClientNonceHalf& client_half,
                                        const std::vector<std::uint8_t>& dns_message,
                                        std::size_t pad_len) {
    std::vector<std::uint8_t> p(dnscrypt::response::kHeaderSize + dns_message.size() + pad_len);
    std::copy(dnscrypt::kResolverMagic.begin(), dnscrypt::kResolverMagic.end(), p.begin());
    std::copy(client_half.begin(), client_half.end(), p.begin() + 8);
    for (std::size_t i = 0; i < 12; ++i) p[20 + i] = static_cast<std::uint8_t>(0xd0 + i);
    auto body = std::span(p).subspan(dnscrypt::response::kHeaderSize);
    std::copy(dns_message.begin(), dns_message.end(), body.begin());
    if (pad_len > 0) body[dns_message.size()] = 0x80;
    crypto::Nonce nonce{};
    std::copy_n(p.begin() + 8, 24, nonce.begin());
    key.seal(body, std::span<std::uint8_t, 16>(p.data() + 32, 16), nonce);
    return p;
}

}  // namespace dcp::test
