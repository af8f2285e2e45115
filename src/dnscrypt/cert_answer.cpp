#include "dnscrypt/cert_answer.hpp"

#include "dns/message.hpp"
#include "dns/query.hpp"
#include "dns/txt.hpp"

namespace dcp::dnscrypt {

std::string_view to_string(CertAnswerError e) noexcept {
    switch (e) {
        case CertAnswerError::Malformed:
            return "malformed or mismatched certificate answer";
        case CertAnswerError::Truncated:
            return "certificate answer truncated";
        case CertAnswerError::Rcode:
            return "certificate query answered with an error code";
        case CertAnswerError::Empty:
            return "certificate answer has no TXT record";
    }
    return "unknown certificate answer error";
}

dcp::Result<std::size_t, CertAnswerError> write_cert_query(const dns::Name& provider_name,
                                                           std::uint16_t id,
                                                           MutableBytes out) noexcept {
    const auto len = dns::write_query(id, provider_name, dns::RecordType::TXT, out);
    if (!len) return Unexpected(CertAnswerError::Malformed);
    return *len;
}

dcp::Result<CertificateChoice, CertAnswerError> read_cert_answer(
    Bytes answer, std::uint16_t id, const dns::Name& provider_name,
    const crypto::Ed25519PublicKey& provider_key, UnixSeconds now) {
    const dns::Question question{provider_name, static_cast<std::uint16_t>(dns::RecordType::TXT),
                                 static_cast<std::uint16_t>(dns::RecordClass::IN)};
    if (!dns::check_response_matches(answer, id, question)) {
        return Unexpected(CertAnswerError::Malformed);
    }
    const auto header = dns::parse_header(answer);
    if (header->tc()) return Unexpected(CertAnswerError::Truncated);
    if (header->rcode() != static_cast<std::uint8_t>(dns::Rcode::NoError)) {
        return Unexpected(CertAnswerError::Rcode);
    }
    const auto blobs = dns::extract_txt_answers(answer, provider_name);
    if (!blobs) return Unexpected(CertAnswerError::Malformed);
    if (blobs->empty()) return Unexpected(CertAnswerError::Empty);
    return select_certificate(*blobs, provider_key, now);
}

}  // namespace dcp::dnscrypt
