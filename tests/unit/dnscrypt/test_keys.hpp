#pragma once
// A provider that signs certificates and a resolver that answers queries, for tests.

#include <cstdint>
#include <vector>

#include "crypto/ed25519.hpp"
#include "crypto/shared_key.hpp"
#include "crypto/x25519.hpp"
#include "dnscrypt/constants.hpp"

namespace dcp::test {

struct CertSpec {
    std::uint16_t es_version = 2;
    std::uint32_t serial = 1;
    std::uint32_t ts_start = 1700000000;
    std::uint32_t ts_end = 1700086400;
    dnscrypt::ClientMagic client_magic = {'m', 'a', 'g', 'i', 'c', '0', '0', '1'};
    std::vector<std::uint8_t> extensions;
};

class TestProvider {
  public:
    TestProvider();  // fixed seed: reproducible
    [[nodiscard]] const crypto::Ed25519PublicKey& public_key() const { return pk_; }
    [[nodiscard]] const crypto::KeyPair& resolver_keys() const { return resolver_; }
    // A signed certificate for the resolver key (or another one).
    [[nodiscard]] std::vector<std::uint8_t> certificate(const CertSpec& spec) const;
    [[nodiscard]] std::vector<std::uint8_t> certificate_for(const CertSpec& spec,
                                                            const crypto::PublicKey& key) const;

  private:
    crypto::Ed25519PublicKey pk_{};
    std::array<std::uint8_t, 64> sk_{};
    crypto::KeyPair resolver_;
};

// Resolver side of a response: magic || client half || resolver half || Seal(msg || padding).
std::vector<std::uint8_t> make_response(const crypto::SharedKey& key,
                                        const dnscrypt::ClientNonceHalf& client_half,
                                        const std::vector<std::uint8_t>& dns_message,
                                        std::size_t pad_len);

}  // namespace dcp::test
