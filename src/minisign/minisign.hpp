#pragma once
// Minisign public keys and signatures (../shared/spec/minisign-and-sources.md): what resolver
// lists are signed with. Both signature kinds: "Ed" (legacy, Ed25519 over the file) and "ED"
// (Ed25519 over the file's BLAKE2b-512). libsodium does every bit of cryptography. Pure: the
// caller reads the files.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/ed25519.hpp"

namespace dcp::minisign {

using KeyId = std::array<std::uint8_t, 8>;

struct PublicKey {
    KeyId key_id{};
    crypto::Ed25519PublicKey key{};
};

enum class Algorithm : std::uint8_t { Legacy, Prehashed };  // "Ed", "ED"

struct Signature {
    Algorithm algorithm = Algorithm::Legacy;
    KeyId key_id{};
    std::array<std::uint8_t, 64> signature{};
    std::string trusted_comment;  // authenticated by global_signature
    std::array<std::uint8_t, 64> global_signature{};
};

enum class ErrorCode : std::uint8_t {
    BadPublicKey,          // not base64 of 42 bytes starting with "Ed"
    BadSignatureFile,      // not the four lines minisign writes
    UnsupportedAlgorithm,  // neither "Ed" nor "ED"
    KeyIdMismatch,         // signed by another key
    BadFileSignature,      // the file is not what was signed
    BadGlobalSignature,    // the trusted comment is not what was signed
};

struct Error {
    ErrorCode code;
    std::string detail;  // what and where, for the log
};

[[nodiscard]] std::string to_string(const Error& e);

template <class T>
using MinisignResult = dcp::Result<T, Error>;

// The base64 key (what dnscrypt-proxy's minisign_key holds), surrounding spaces ignored.
[[nodiscard]] MinisignResult<PublicKey> parse_public_key(std::string_view base64);
// A minisign.pub file: "untrusted comment: ..." then the key; a file holding only the key
// line is accepted too.
[[nodiscard]] MinisignResult<PublicKey> parse_public_key_file(std::string_view text);

// A .minisig file: four lines (a trailing '\r' on each is ignored, as minisign does).
[[nodiscard]] MinisignResult<Signature> parse_signature(std::string_view text);

// Checks the key id, the file signature and the trusted comment's signature. Returns the
// trusted comment on success.
[[nodiscard]] MinisignResult<std::string> verify(const PublicKey& key, const Signature& sig,
                                                 Bytes file);

// parse_signature then verify.
[[nodiscard]] MinisignResult<std::string> verify(const PublicKey& key, std::string_view sig_text,
                                                 Bytes file);

// The key id as minisign prints it: a little-endian 64-bit number in upper-case hex.
[[nodiscard]] std::string key_id_text(const KeyId& id);

}  // namespace dcp::minisign
