#include "minisign/minisign.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "crypto/base64.hpp"

namespace dcp::minisign {
namespace {

constexpr std::string_view kUntrusted = "untrusted comment: ";
constexpr std::string_view kTrusted = "trusted comment: ";
constexpr std::size_t kMaxUntrusted = 1024;  // minisign's own limits
constexpr std::size_t kMaxTrusted = 8192;

Unexpected<Error> fail(ErrorCode code, std::string detail) {
    return Unexpected(Error{code, std::move(detail)});
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

// Up to `n` lines, each without its '\n' and a trailing '\r'.
std::vector<std::string_view> lines_of(std::string_view text, std::size_t n) {
    std::vector<std::string_view> out;
    while (out.size() < n && !text.empty()) {
        const auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        out.push_back(line);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

}  // namespace

std::string to_string(const Error& e) {
    switch (e.code) {
        case ErrorCode::BadPublicKey:
            return "bad minisign public key: " + e.detail;
        case ErrorCode::BadSignatureFile:
            return "bad signature file: " + e.detail;
        case ErrorCode::UnsupportedAlgorithm:
            return "unsupported signature algorithm: " + e.detail;
        case ErrorCode::KeyIdMismatch:
            return "signed by another key: " + e.detail;
        case ErrorCode::BadFileSignature:
            return "signature does not match the file" + (e.detail.empty() ? "" : ": " + e.detail);
        case ErrorCode::BadGlobalSignature:
            return "trusted comment signature does not verify" +
                   (e.detail.empty() ? "" : ": " + e.detail);
    }
    return "minisign error";
}

std::string key_id_text(const KeyId& id) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (std::size_t i = id.size(); i-- > 0;) {
        out += kHex[id[i] >> 4];
        out += kHex[id[i] & 15];
    }
    return out;
}

MinisignResult<PublicKey> parse_public_key(std::string_view base64) {
    const auto text = trim(base64);
    const auto bin = crypto::base64_decode(text, crypto::Base64::Original);
    if (!bin) return fail(ErrorCode::BadPublicKey, "not base64");
    if (bin->size() != 42) {
        return fail(ErrorCode::BadPublicKey,
                    std::to_string(bin->size()) + " bytes, a minisign key has 42");
    }
    if ((*bin)[0] != 'E' || (*bin)[1] != 'd') {
        return fail(ErrorCode::BadPublicKey, "not an Ed25519 key (does not start with \"Ed\")");
    }
    PublicKey key;
    std::copy_n(bin->begin() + 2, 8, key.key_id.begin());
    std::copy_n(bin->begin() + 10, 32, key.key.begin());
    return key;
}

MinisignResult<PublicKey> parse_public_key_file(std::string_view text) {
    const auto lines = lines_of(text, 2);
    if (lines.empty()) return fail(ErrorCode::BadPublicKey, "empty file");
    if (lines[0].substr(0, kUntrusted.size()) != kUntrusted) return parse_public_key(lines[0]);
    if (lines.size() < 2) return fail(ErrorCode::BadPublicKey, "no key after the comment line");
    return parse_public_key(lines[1]);
}

MinisignResult<Signature> parse_signature(std::string_view text) {
    const auto lines = lines_of(text, 4);
    if (lines.size() < 4) {
        return fail(ErrorCode::BadSignatureFile,
                    std::to_string(lines.size()) + " lines, a signature file has 4");
    }
    if (lines[0].substr(0, kUntrusted.size()) != kUntrusted || lines[0].size() > kMaxUntrusted) {
        return fail(ErrorCode::BadSignatureFile, "line 1 is not an untrusted comment");
    }
    const auto sig = crypto::base64_decode(lines[1], crypto::Base64::Original);
    if (!sig || sig->size() != 74) {
        return fail(ErrorCode::BadSignatureFile,
                    "line 2 is not base64 of 74 bytes (algorithm, key id, signature)");
    }
    if (lines[2].substr(0, kTrusted.size()) != kTrusted) {
        return fail(ErrorCode::BadSignatureFile, "line 3 is not a trusted comment");
    }
    const auto comment = lines[2].substr(kTrusted.size());
    if (comment.size() > kMaxTrusted) {
        return fail(ErrorCode::BadSignatureFile, "trusted comment over 8192 bytes");
    }
    const auto global = crypto::base64_decode(lines[3], crypto::Base64::Original);
    if (!global || global->size() != 64) {
        return fail(ErrorCode::BadSignatureFile, "line 4 is not base64 of a 64-byte signature");
    }
    Signature out;
    if ((*sig)[0] == 'E' && (*sig)[1] == 'd') {
        out.algorithm = Algorithm::Legacy;
    } else if ((*sig)[0] == 'E' && (*sig)[1] == 'D') {
        out.algorithm = Algorithm::Prehashed;
    } else {
        return fail(ErrorCode::UnsupportedAlgorithm,
                    std::string("\"") + static_cast<char>((*sig)[0]) +
                        static_cast<char>((*sig)[1]) + "\" (known: \"Ed\", \"ED\")");
    }
    std::copy_n(sig->begin() + 2, 8, out.key_id.begin());
    std::copy_n(sig->begin() + 10, 64, out.signature.begin());
    out.trusted_comment = std::string(comment);
    std::copy_n(global->begin(), 64, out.global_signature.begin());
    return out;
}

MinisignResult<std::string> verify(const PublicKey& key, const Signature& sig, Bytes file) {
    if (sig.key_id != key.key_id) {
        return fail(ErrorCode::KeyIdMismatch,
                    "key id " + key_id_text(sig.key_id) + ", expected " + key_id_text(key.key_id));
    }
    std::array<std::uint8_t, crypto_generichash_BYTES_MAX> digest{};
    Bytes signed_bytes = file;
    if (sig.algorithm == Algorithm::Prehashed) {
        crypto_generichash(digest.data(), digest.size(), file.data(), file.size(), nullptr, 0);
        signed_bytes = Bytes(digest);
    }
    if (!crypto::ed25519_verify(sig.signature, signed_bytes, key.key)) {
        return fail(ErrorCode::BadFileSignature, "");
    }
    std::vector<std::uint8_t> global_msg(sig.signature.begin(), sig.signature.end());
    global_msg.insert(global_msg.end(), sig.trusted_comment.begin(), sig.trusted_comment.end());
    if (!crypto::ed25519_verify(sig.global_signature, global_msg, key.key)) {
        return fail(ErrorCode::BadGlobalSignature, "");
    }
    return sig.trusted_comment;
}

MinisignResult<std::string> verify(const PublicKey& key, std::string_view sig_text, Bytes file) {
    auto sig = parse_signature(sig_text);
    if (!sig) return Unexpected(sig.error());
    return verify(key, *sig, file);
}

}  // namespace dcp::minisign
