#include "dnscrypt/session.hpp"

namespace dcp::dnscrypt {

CertResult<Session> Session::create(const Certificate& cert,
                                    const crypto::KeyPair& client_keys) noexcept {
    auto key = crypto::SharedKey::precompute(cert.construction, cert.resolver_public_key,
                                             client_keys.secret_key);
    if (!key) return Unexpected(CertError::WeakKey);
    return Session(cert, client_keys.public_key, std::move(*key));
}

}  // namespace dcp::dnscrypt
