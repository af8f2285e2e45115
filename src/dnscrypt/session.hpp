#pragma once
// What one chosen certificate gives a client: the certificate itself and the shared key,
// precomputed once for it and our key pair. Immutable once made; queries in flight keep the
// session they started with (shared_ptr<const Session> snapshots in the upstream layer).

#include "crypto/shared_key.hpp"
#include "crypto/x25519.hpp"
#include "dnscrypt/certificate.hpp"
#include "dnscrypt/packet.hpp"

namespace dcp::dnscrypt {

class Session {
  public:
    // Fails with WeakKey when libsodium refuses the resolver key: the certificate is rejected.
    [[nodiscard]] static CertResult<Session> create(const Certificate& cert,
                                                    const crypto::KeyPair& client_keys) noexcept;

    [[nodiscard]] const Certificate& certificate() const noexcept { return cert_; }
    [[nodiscard]] const crypto::SharedKey& shared_key() const noexcept { return shared_key_; }
    [[nodiscard]] QueryKeys query_keys() const noexcept {
        return {cert_.client_magic, client_public_key_, shared_key_};
    }

  private:
    Session(const Certificate& cert, const crypto::PublicKey& client_pk,
            crypto::SharedKey&& key) noexcept
        : cert_(cert), client_public_key_(client_pk), shared_key_(std::move(key)) {}

    Certificate cert_;
    crypto::PublicKey client_public_key_;
    crypto::SharedKey shared_key_;
};

}  // namespace dcp::dnscrypt
