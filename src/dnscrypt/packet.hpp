#pragma once
// Encrypting a DNS query and opening the resolver's response (spec sections 6, 7, 10).

#include <cstddef>

#include "common/bytes.hpp"
#include "crypto/shared_key.hpp"
#include "crypto/x25519.hpp"
#include "dnscrypt/constants.hpp"
#include "dnscrypt/error.hpp"

namespace dcp::dnscrypt {

// Who is asking, with which certificate: client magic from the certificate, our public key,
// and the shared key for that pair. Views; the caller owns the keys.
struct QueryKeys {
    const ClientMagic& client_magic;
    const crypto::PublicKey& client_public_key;
    const crypto::SharedKey& shared_key;
};

// Writes client-magic || client-pk || nonce-half || tag || Seal(query || padding) into `out`,
// where the plaintext is padded to `padded_len` bytes (see padding.hpp). `query` may already sit
// at out[68..]: it is moved, not assumed elsewhere. Returns the packet length (68 + padded_len).
// The nonce half must never repeat for the same keys (use a fresh random one per query).
[[nodiscard]] PacketResult<std::size_t> encrypt_query(const QueryKeys& keys, Bytes query,
                                                      const ClientNonceHalf& nonce_half,
                                                      std::size_t padded_len,
                                                      MutableBytes out) noexcept;

// Resolver magic and length checks, then the client nonce half, without decrypting: what the
// exchanger uses to find the pending query a response belongs to.
[[nodiscard]] PacketResult<ClientNonceHalf> response_nonce_half(Bytes packet) noexcept;

// Checks, in the spec's order, length, resolver magic, the client nonce half against
// `expected`, the tag; then decrypts in place and removes the padding. Returns the DNS message
// inside `packet` (a view into it). On failure `packet`'s ciphertext is left as it was.
[[nodiscard]] PacketResult<MutableBytes> decrypt_response(MutableBytes packet,
                                                          const ClientNonceHalf& expected,
                                                          const crypto::SharedKey& key) noexcept;

}  // namespace dcp::dnscrypt
