#pragma once
// The certificate exchange without the network: the TXT query to send, and what the answer
// yields (spec section 3).

#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "crypto/ed25519.hpp"
#include "dns/name.hpp"
#include "dnscrypt/certificate.hpp"

namespace dcp::dnscrypt {

enum class CertAnswerError : std::uint8_t {
    Malformed,  // not a DNS message, or not the answer to our query
    Truncated,  // TC set: ask again over TCP
    Rcode,      // the resolver answered with an error code
    Empty,      // no TXT record for the provider name (dnsdist 1.7 over TCP does this)
};

[[nodiscard]] std::string_view to_string(CertAnswerError e) noexcept;

// Writes the plain TXT query for `provider_name` with the given ID into `out`.
[[nodiscard]] dcp::Result<std::size_t, CertAnswerError> write_cert_query(
    const dns::Name& provider_name, std::uint16_t id, MutableBytes out) noexcept;

// Checks that `answer` answers our query (ID, question), is complete and NOERROR, then verifies
// and selects among the certificates it carries.
[[nodiscard]] dcp::Result<CertificateChoice, CertAnswerError> read_cert_answer(
    Bytes answer, std::uint16_t id, const dns::Name& provider_name,
    const crypto::Ed25519PublicKey& provider_key, UnixSeconds now);

}  // namespace dcp::dnscrypt
