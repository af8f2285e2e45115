#pragma once
// Resolver certificates: parse and verify one, check its validity window against an injected
// clock, choose among all those a resolver publishes (spec section 4).

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "crypto/construction.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/x25519.hpp"
#include "dnscrypt/constants.hpp"
#include "dnscrypt/error.hpp"

namespace dcp::dnscrypt {

struct Certificate {
    crypto::Construction construction = crypto::Construction::XChaCha20Poly1305;
    crypto::PublicKey resolver_public_key{};
    ClientMagic client_magic{};
    std::uint32_t serial = 0;
    std::uint32_t ts_start = 0;  // first second of validity
    std::uint32_t ts_end = 0;    // last second of validity (inclusive)

    [[nodiscard]] UnixSeconds not_before() const noexcept { return unix_seconds(ts_start); }
    [[nodiscard]] UnixSeconds not_after() const noexcept { return unix_seconds(ts_end); }
    // dnscrypt-proxy warns above 7 days: a long-lived resolver key weakens forward secrecy.
    [[nodiscard]] bool long_lived() const noexcept {
        return ts_end - ts_start > std::uint32_t{7 * 24 * 3600};
    }
};

// Checks magic, es-version (1 or 2), the Ed25519 signature over bytes 72..end with the provider
// key, and ts-start < ts-end. Does not look at the time: see check_validity.
[[nodiscard]] CertResult<Certificate> parse_certificate(
    Bytes blob, const crypto::Ed25519PublicKey& provider_key) noexcept;

// ts-start <= now <= ts-end.
[[nodiscard]] dcp::Result<void, CertError> check_validity(const Certificate& cert,
                                                          UnixSeconds now) noexcept;

struct CertRejection {
    std::size_t index;  // position of the blob in the answer
    CertError reason;
    // For NotYetValid and Expired: the signed validity period, so the log can say when the
    // certificate is valid (a machine with a wrong clock is the usual cause); else empty.
    std::optional<Certificate> signed_certificate;
};

struct CertificateChoice {
    std::optional<Certificate> chosen;
    std::vector<CertRejection> rejected;  // every blob not usable now, for the log
};

// Among the blobs valid now: the highest serial; on equal serials, the higher es-version
// (XChaCha20 over XSalsa20, as dnscrypt-proxy does).
[[nodiscard]] CertificateChoice select_certificate(
    const std::vector<std::vector<std::uint8_t>>& blobs,
    const crypto::Ed25519PublicKey& provider_key, UnixSeconds now);

}  // namespace dcp::dnscrypt
