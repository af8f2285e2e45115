#include "dnscrypt/certificate.hpp"

#include <algorithm>

namespace dcp::dnscrypt {

CertResult<Certificate> parse_certificate(Bytes blob,
                                          const crypto::Ed25519PublicKey& provider_key) noexcept {
    if (blob.size() < cert::kMinSize) return Unexpected(CertError::TooShort);
    if (!std::equal(kCertMagic.begin(), kCertMagic.end(), blob.begin() + cert::kMagicOffset)) {
        return Unexpected(CertError::BadMagic);
    }
    Certificate c;
    switch (load_u16_be(blob.data() + cert::kEsVersionOffset)) {
        case 1:
            c.construction = crypto::Construction::XSalsa20Poly1305;
            break;
        case 2:
            c.construction = crypto::Construction::XChaCha20Poly1305;
            break;
        default:
            return Unexpected(CertError::UnsupportedEsVersion);
    }
    const auto signature = blob.subspan<cert::kSignatureOffset, crypto::kEd25519SignatureSize>();
    if (!crypto::ed25519_verify(signature, blob.subspan(cert::kSignedOffset), provider_key)) {
        return Unexpected(CertError::BadSignature);
    }
    // Only signed bytes are read from here on.
    std::copy_n(blob.begin() + cert::kResolverPkOffset, c.resolver_public_key.size(),
                c.resolver_public_key.begin());
    std::copy_n(blob.begin() + cert::kClientMagicOffset, c.client_magic.size(),
                c.client_magic.begin());
    c.serial = load_u32_be(blob.data() + cert::kSerialOffset);
    c.ts_start = load_u32_be(blob.data() + cert::kTsStartOffset);
    c.ts_end = load_u32_be(blob.data() + cert::kTsEndOffset);
    if (c.ts_start >= c.ts_end) return Unexpected(CertError::BadValidityPeriod);
    return c;
}

dcp::Result<void, CertError> check_validity(const Certificate& cert, UnixSeconds now) noexcept {
    if (now < cert.not_before()) return Unexpected(CertError::NotYetValid);
    if (now > cert.not_after()) return Unexpected(CertError::Expired);
    return {};
}

CertificateChoice select_certificate(const std::vector<std::vector<std::uint8_t>>& blobs,
                                     const crypto::Ed25519PublicKey& provider_key,
                                     UnixSeconds now) {
    CertificateChoice choice;
    for (std::size_t i = 0; i < blobs.size(); ++i) {
        auto cert = parse_certificate(blobs[i], provider_key);
        if (!cert) {
            choice.rejected.push_back({i, cert.error(), std::nullopt});
            continue;
        }
        if (const auto valid = check_validity(*cert, now); !valid) {
            choice.rejected.push_back({i, valid.error(), *cert});
            continue;
        }
        const auto& best = choice.chosen;
        if (!best || cert->serial > best->serial ||
            (cert->serial == best->serial && cert->construction > best->construction)) {
            choice.chosen = *cert;
        }
    }
    return choice;
}

}  // namespace dcp::dnscrypt
