#include "unit/vectors/vector_checks.hpp"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>
#include <optional>
#include <set>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "common/hex.hpp"
#include "crypto/shared_key.hpp"
#include "crypto/x25519.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/query.hpp"
#include "dns/txt.hpp"
#include "dnscrypt/certificate.hpp"
#include "dnscrypt/packet.hpp"
#include "dnscrypt/padding.hpp"
#include "dnscrypt/relay.hpp"
#include "dnscrypt/session.hpp"

namespace dcp::test {
namespace {

using Blob = std::vector<std::uint8_t>;
using json = nlohmann::json;

Blob cat(std::initializer_list<Bytes> parts) {
    Blob out;
    for (const auto p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

Blob be16(std::size_t v) {
    return {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

template <std::size_t N>
std::array<std::uint8_t, N> to_array(const Blob& b) {
    std::array<std::uint8_t, N> out{};
    std::copy_n(b.begin(), std::min(N, b.size()), out.begin());
    return out;
}

class Checker {
  public:
    explicit Checker(const json& root) : root_(root) {}

    Blob hex(const std::string& ptr) {
        report_.consumed[ptr] = LeafKind::Hex;
        const auto* node = find(ptr);
        if (node == nullptr || !node->is_string()) {
            fail(ptr + ": missing or not a string");
            return {};
        }
        auto bytes = hex_decode(node->get<std::string>());
        if (!bytes) {
            fail(ptr + ": not hex");
            return {};
        }
        return *bytes;
    }
    std::int64_t num(const std::string& ptr) {
        report_.consumed[ptr] = LeafKind::Number;
        const auto* node = find(ptr);
        if (node == nullptr || !node->is_number_integer()) {
            fail(ptr + ": missing or not an integer");
            return -1;
        }
        return node->get<std::int64_t>();
    }
    std::string text(const std::string& ptr) {
        report_.consumed[ptr] = LeafKind::Text;
        const auto* node = find(ptr);
        if (node == nullptr || !node->is_string()) {
            fail(ptr + ": missing or not a string");
            return {};
        }
        return node->get<std::string>();
    }

    void expect(bool ok, const std::string& what) {
        ++report_.checks;
        if (!ok) fail(what);
    }
    void expect_bytes(Bytes got, Bytes want, const std::string& what) {
        expect(std::equal(got.begin(), got.end(), want.begin(), want.end()),
               what + ": got " + hex_encode(got) + " want " + hex_encode(want));
    }
    void fail(const std::string& what) { report_.failures.push_back(what); }

    VectorReport take() { return std::move(report_); }

  private:
    const json* find(const std::string& ptr) const {
        const json::json_pointer p(ptr);
        return root_.contains(p) ? &root_.at(p) : nullptr;
    }

    const json& root_;
    VectorReport report_;
};

struct Keys {
    crypto::Ed25519PublicKey provider{};
    Blob resolver_sk, client_sk;
    std::optional<crypto::KeyPair> resolver, client;
};

Keys check_keys(Checker& c) {
    Keys k;
    const auto seed = c.hex("/inputs/provider_ed25519_seed");
    const auto provider_pk = c.hex("/derived_keys/provider_ed25519_pk");
    const auto provider_sk = c.hex("/derived_keys/provider_ed25519_sk_libsodium_64");
    Blob pk(crypto_sign_PUBLICKEYBYTES), sk(crypto_sign_SECRETKEYBYTES);
    c.expect(seed.size() == crypto_sign_SEEDBYTES, "provider seed size");
    if (seed.size() == crypto_sign_SEEDBYTES) {
        crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
    }
    c.expect_bytes(pk, provider_pk, "provider Ed25519 public key from seed");
    c.expect_bytes(sk, provider_sk, "provider Ed25519 libsodium secret key from seed");
    k.provider = to_array<32>(provider_pk);

    auto derive = [&](const std::string& sk_ptr, const std::string& pk_ptr, Blob& secret,
                      std::optional<crypto::KeyPair>& out) {
        secret = c.hex(sk_ptr);
        const auto want_pk = c.hex(pk_ptr);
        c.expect(secret.size() == crypto::kSecretKeySize, sk_ptr + " size");
        const auto arr = to_array<32>(secret);
        auto kp = crypto::KeyPair::from_secret(arr);
        c.expect(kp.has_value(), pk_ptr + " derivation");
        if (kp) {
            c.expect_bytes(kp->public_key, want_pk, pk_ptr);
            out.emplace(std::move(*kp));
        }
    };
    derive("/inputs/resolver_x25519_sk", "/derived_keys/resolver_x25519_pk", k.resolver_sk,
           k.resolver);
    derive("/inputs/client_x25519_sk", "/derived_keys/client_x25519_pk", k.client_sk, k.client);

    Blob point(crypto_scalarmult_BYTES);
    if (k.client && k.resolver) {
        c.expect(crypto_scalarmult(point.data(), k.client->secret_key.data(),
                                   k.resolver->public_key.data()) == 0,
                 "X25519 shared point");
    }
    c.expect_bytes(point, c.hex("/derived_keys/x25519_shared_point"), "X25519 shared point");
    return k;
}

// Certificates: the blob is exactly its fields, verifies, and parses to them.
std::map<std::string, Blob> check_certificates(Checker& c, const Keys& k) {
    std::map<std::string, Blob> certs;
    for (const std::string es : {"es1", "es2"}) {
        const std::string base = "/certificates/" + es;
        const auto cert = c.hex(base + "/cert");
        certs[es] = cert;
        c.expect(static_cast<std::int64_t>(cert.size()) == c.num(base + "/length"),
                 base + " length");
        const auto f = base + "/fields/";
        const auto magic = c.hex(f + "cert_magic");
        const auto es_version = c.hex(f + "es_version");
        const auto minor = c.hex(f + "protocol_minor_version");
        const auto signature = c.hex(f + "signature");
        const auto resolver_pk = c.hex(f + "resolver_pk");
        const auto client_magic = c.hex(f + "client_magic");
        const auto serial_hex = c.hex(f + "serial_hex");
        const auto ts_start_hex = c.hex(f + "ts_start_hex");
        const auto ts_end_hex = c.hex(f + "ts_end_hex");
        const auto extensions = c.hex(f + "extensions");
        c.expect_bytes(cert,
                       cat({magic, es_version, minor, signature, resolver_pk, client_magic,
                            serial_hex, ts_start_hex, ts_end_hex, extensions}),
                       base + " is the concatenation of its fields");
        c.expect_bytes(
            c.hex(base + "/signed_bytes"),
            cat({resolver_pk, client_magic, serial_hex, ts_start_hex, ts_end_hex, extensions}),
            base + " signed bytes");

        const auto parsed = dnscrypt::parse_certificate(cert, k.provider);
        c.expect(parsed.has_value(), base + " parses and verifies");
        if (!parsed) continue;
        c.expect(static_cast<std::int64_t>(parsed->construction) == (es == "es1" ? 1 : 2),
                 base + " construction");
        c.expect_bytes(es_version, be16(es == "es1" ? 1 : 2), base + " es_version field");
        c.expect_bytes(parsed->resolver_public_key, resolver_pk, base + " resolver pk");
        c.expect_bytes(parsed->resolver_public_key,
                       k.resolver ? Bytes(k.resolver->public_key) : Bytes(),
                       base + " resolver pk is the derived one");
        c.expect_bytes(parsed->client_magic, client_magic, base + " client magic");
        c.expect(parsed->serial == c.num(f + "serial"), base + " serial");
        c.expect(parsed->ts_start == c.num(f + "ts_start"), base + " ts_start");
        c.expect(parsed->ts_end == c.num(f + "ts_end"), base + " ts_end");
        c.expect(serial_hex.size() == 4 && load_u32_be(serial_hex.data()) == parsed->serial,
                 base + " serial_hex");
        c.expect(ts_start_hex.size() == 4 && load_u32_be(ts_start_hex.data()) == parsed->ts_start,
                 base + " ts_start_hex");
        c.expect(ts_end_hex.size() == 4 && load_u32_be(ts_end_hex.data()) == parsed->ts_end,
                 base + " ts_end_hex");
    }
    return certs;
}

void check_cert_query(Checker& c, const Keys& k, const std::map<std::string, Blob>& certs,
                      std::int64_t now) {
    const auto name = dns::encode_name(c.text("/cert_query/provider_name"));
    c.expect(name.has_value(), "provider name encodes");
    const auto want_query = c.hex("/cert_query/query");
    std::array<std::uint8_t, 512> buf{};
    if (name && want_query.size() >= 2) {
        const auto len =
            dns::write_query(load_u16_be(want_query.data()), *name, dns::RecordType::TXT, buf);
        c.expect(len.has_value(), "certificate query written");
        if (len) c.expect_bytes(Bytes(buf).first(*len), want_query, "certificate TXT query");
    }
    const auto response = c.hex("/cert_query/response");
    if (name && want_query.size() >= 2) {
        dns::Question q{*name, static_cast<std::uint16_t>(dns::RecordType::TXT), 1};
        c.expect(
            dns::check_response_matches(response, load_u16_be(want_query.data()), q).has_value(),
            "certificate response matches the query");
    }
    if (const auto h = dns::parse_header(response); h) {
        // What the certificate fetch relies on: an answer, complete, to our RD query.
        c.expect(h->qr() && h->rd() && !h->tc() && h->rcode() == 0,
                 "certificate response is a complete NOERROR answer to an RD query");
    } else {
        c.fail("certificate response header");
    }
    if (!name) return;
    const auto blobs = dns::extract_txt_answers(response, *name);
    c.expect(blobs.has_value() && blobs->size() == 2, "two TXT answers");
    if (!blobs || blobs->size() != 2) return;
    c.expect_bytes((*blobs)[0], certs.at("es1"), "first TXT is the es1 certificate");
    c.expect_bytes((*blobs)[1], certs.at("es2"), "second TXT is the es2 certificate");
    const auto choice = dnscrypt::select_certificate(*blobs, k.provider, unix_seconds(now));
    c.expect(choice.chosen.has_value() && choice.rejected.empty(), "selection keeps both");
    const auto expected = c.text("/cert_query/expected_choice");
    if (choice.chosen) {
        const auto es = static_cast<int>(choice.chosen->construction);
        c.expect(expected.rfind("es" + std::to_string(es) + " ", 0) == 0,
                 "expected_choice names the chosen es-version");
        c.expect_bytes(choice.chosen->client_magic,
                       Bytes(certs.at(es == 1 ? "es1" : "es2")).subspan(104, 8),
                       "chosen certificate");
    }
}

struct SuiteOutput {
    Blob udp_query_packet;
};

SuiteOutput check_suite(Checker& c, const std::string& es, const Keys& k,
                        const std::map<std::string, Blob>& certs, std::int64_t now) {
    SuiteOutput out;
    const std::string s = "/suites/" + es;
    const auto cert = dnscrypt::parse_certificate(certs.at(es), k.provider);
    c.expect(cert.has_value(), s + " certificate");
    if (!cert || !k.client || !k.resolver) return out;
    c.expect(std::string(crypto::to_string(cert->construction)) == c.text(s + "/construction"),
             s + " construction name");
    c.expect(static_cast<std::int64_t>(cert->construction) == c.num(s + "/es_version"),
             s + " es_version");
    c.expect_bytes(cert->client_magic, c.hex(s + "/client_magic"), s + " client magic");
    c.expect(dnscrypt::check_validity(*cert, unix_seconds(now)).has_value(), s + " valid now");

    const auto session = dnscrypt::Session::create(*cert, *k.client);
    c.expect(session.has_value(), s + " session");
    if (!session) return out;
    c.expect_bytes(session->shared_key().bytes(), c.hex(s + "/shared_key"), s + " shared key");
    // The resolver's side of the same key agreement gives the same key.
    const auto resolver_key = crypto::SharedKey::precompute(
        cert->construction, k.client->public_key, k.resolver->secret_key);
    c.expect(resolver_key.has_value(), s + " resolver-side key");
    if (!resolver_key) return out;
    c.expect_bytes(resolver_key->bytes(), session->shared_key().bytes(), s + " keys agree");

    const auto query = c.hex("/inputs/dns_query");
    const auto response = c.hex("/inputs/dns_response");

    // UDP query.
    {
        const auto q = s + "/udp_query/";
        const auto half = c.hex(q + "client_nonce_half");
        c.expect_bytes(half, c.hex("/inputs/client_nonce_half_udp"), q + "client_nonce_half");
        c.expect_bytes(c.hex(q + "full_nonce"), cat({half, Blob(12, 0)}), q + "full_nonce");
        const auto padded_len =
            dnscrypt::udp_padded_length(query.size(), dnscrypt::kMinUdpQueryLength, 4096);
        c.expect(padded_len.has_value() &&
                     static_cast<std::int64_t>(*padded_len) == c.num(q + "padded_plaintext_len"),
                 q + "padded_plaintext_len");
        if (!padded_len) return out;
        Blob padded(*padded_len);
        std::copy(query.begin(), query.end(), padded.begin());
        dnscrypt::pad(padded, query.size(), padded.size());
        c.expect_bytes(padded, c.hex(q + "padded_plaintext"), q + "padded_plaintext");

        Blob packet(4096);
        const auto len = dnscrypt::encrypt_query(session->query_keys(), query, to_array<12>(half),
                                                 *padded_len, packet);
        c.expect(len.has_value(), q + "encrypts");
        if (!len) return out;
        packet.resize(*len);
        c.expect_bytes(packet, c.hex(q + "packet"), q + "packet");
        c.expect(static_cast<std::int64_t>(packet.size()) == c.num(q + "packet_len"),
                 q + "packet_len");
        const auto mac = c.hex(q + "mac");
        const auto ct = c.hex(q + "ciphertext_without_mac");
        c.expect_bytes(Bytes(packet).subspan(52, 16), mac, q + "mac");
        c.expect_bytes(Bytes(packet).subspan(68), ct, q + "ciphertext");
        c.expect_bytes(c.hex(q + "encrypted_query"), cat({mac, ct}), q + "encrypted_query");
        // The resolver can open it back to the padded plaintext.
        Blob body(packet.begin() + 68, packet.end());
        crypto::Nonce nonce{};
        std::copy(half.begin(), half.end(), nonce.begin());
        c.expect(resolver_key
                     ->open(body, std::span<const std::uint8_t, 16>(packet.data() + 52, 16), nonce)
                     .has_value(),
                 q + "resolver opens the query");
        c.expect_bytes(body, padded, q + "resolver sees the padded query");
        out.udp_query_packet = packet;
    }

    // UDP response.
    {
        const auto r = s + "/udp_response/";
        const auto resolver_half = c.hex(r + "resolver_nonce_half");
        c.expect_bytes(resolver_half, c.hex("/inputs/resolver_nonce_half"), r + "resolver half");
        const auto client_half = c.hex("/inputs/client_nonce_half_udp");
        const auto full_nonce = c.hex(r + "full_nonce");
        c.expect_bytes(full_nonce, cat({client_half, resolver_half}), r + "full_nonce");
        const auto padded = c.hex(r + "padded_plaintext");
        c.expect(static_cast<std::int64_t>(padded.size()) == c.num(r + "padded_plaintext_len"),
                 r + "padded_plaintext_len");
        Blob repadded(padded.size());
        if (repadded.size() > response.size()) {
            std::copy(response.begin(), response.end(), repadded.begin());
            dnscrypt::pad(repadded, response.size(), repadded.size());
        }
        c.expect_bytes(repadded, padded, r + "padded_plaintext is the padded response");
        // Resolver side: seal the padded response with the full nonce.
        Blob sealed = padded;
        std::array<std::uint8_t, 16> tag{};
        resolver_key->seal(sealed, tag, to_array<24>(full_nonce));
        const auto encrypted = c.hex(r + "encrypted_response");
        c.expect_bytes(cat({tag, sealed}), encrypted, r + "encrypted_response");
        auto packet = c.hex(r + "packet");
        c.expect_bytes(packet, cat({dnscrypt::kResolverMagic, full_nonce, encrypted}),
                       r + "packet layout");
        c.expect(static_cast<std::int64_t>(packet.size()) == c.num(r + "packet_len"),
                 r + "packet_len");
        const auto plain =
            dnscrypt::decrypt_response(packet, to_array<12>(client_half), session->shared_key());
        c.expect(plain.has_value(), r + "decrypts");
        if (plain) c.expect_bytes(*plain, response, r + "decrypts to the DNS response");
    }

    // TCP query and response (2-byte length prefix on the stream).
    {
        const auto q = s + "/tcp_query/";
        const auto half = c.hex(q + "client_nonce_half");
        c.expect_bytes(half, c.hex("/inputs/client_nonce_half_tcp"), q + "client_nonce_half");
        const auto padded_len = static_cast<std::size_t>(c.num(q + "padded_plaintext_len"));
        c.expect(padded_len == dnscrypt::tcp_padded_length(query.size(), 0),
                 q + "padded_plaintext_len is the smallest TCP padding");
        Blob packet(4096);
        const auto len = dnscrypt::encrypt_query(session->query_keys(), query, to_array<12>(half),
                                                 padded_len, packet);
        c.expect(len.has_value(), q + "encrypts");
        if (len) packet.resize(*len);
        const auto want = c.hex(q + "packet");
        c.expect_bytes(packet, want, q + "packet");
        c.expect_bytes(c.hex(q + "stream_bytes"), cat({be16(want.size()), want}),
                       q + "stream_bytes");

        const auto r = s + "/tcp_response/";
        auto rpacket = c.hex(r + "packet");
        c.expect_bytes(c.hex(r + "stream_bytes"), cat({be16(rpacket.size()), rpacket}),
                       r + "stream_bytes");
        const auto plain =
            dnscrypt::decrypt_response(rpacket, to_array<12>(half), session->shared_key());
        c.expect(plain.has_value(), r + "decrypts");
        if (plain) c.expect_bytes(*plain, response, r + "decrypts to the DNS response");
    }
    return out;
}

void check_inputs_are_dns(Checker& c) {
    const auto query = c.hex("/inputs/dns_query");
    const auto info = dns::parse_query(query);
    c.expect(info.has_value(), "input query parses");
    if (info) {
        c.expect(info->header.id == 0xcafe && info->header.rd() && info->opt &&
                     info->opt->udp_payload == 4096,
                 "input query is id 0xcafe, RD, OPT 4096");
        dns::Question q = info->question;
        c.expect(dns::check_response_matches(c.hex("/inputs/dns_response"), 0xcafe, q).has_value(),
                 "input response answers the input query");
    }
}

std::optional<std::pair<Blob, std::uint16_t>> parse_target(const std::string& target) {
    // "a.b.c.d:port" or "[v6]:port"
    const auto colon = target.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string host = target.substr(0, colon);
    const int port = std::atoi(target.c_str() + colon + 1);
    if (port <= 0 || port > 65535) return std::nullopt;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        Blob a(16);
        if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), a.data()) != 1) {
            return std::nullopt;
        }
        return std::make_pair(a, static_cast<std::uint16_t>(port));
    }
    Blob a(4);
    if (inet_pton(AF_INET, host.c_str(), a.data()) != 1) return std::nullopt;
    return std::make_pair(a, static_cast<std::uint16_t>(port));
}

Blob header_for(const std::pair<Blob, std::uint16_t>& t) {
    const auto h = t.first.size() == 4 ? dnscrypt::relay_header(to_array<4>(t.first), t.second)
                                       : dnscrypt::relay_header(to_array<16>(t.first), t.second);
    return Blob(h.begin(), h.end());
}

void check_anonymized(Checker& c, const Blob& es2_udp_query) {
    const auto target = parse_target(c.text("/anonymized/target"));
    c.expect(target.has_value(), "anonymized target parses");
    const auto header = c.hex("/anonymized/header");
    if (target) c.expect_bytes(header_for(*target), header, "relay header");
    c.expect(static_cast<std::int64_t>(header.size()) == c.num("/anonymized/header_len"),
             "relay header_len");
    c.expect_bytes(c.hex("/anonymized/relayed_udp_packet"), cat({header, es2_udp_query}),
                   "relayed packet is header + unmodified query");
    const auto v6 = parse_target(c.text("/anonymized/ipv6_example/target"));
    c.expect(v6.has_value(), "IPv6 relay target parses");
    if (v6) {
        c.expect_bytes(header_for(*v6), c.hex("/anonymized/ipv6_example/header"),
                       "IPv6 relay header");
    }
}

// `bad` must be `good` with exactly one byte altered, inside [from, to): the negative tests
// exactly one defect.
void expect_one_byte_altered(Checker& c, const Blob& bad, const Blob& good, std::size_t from,
                             std::size_t to, const std::string& what) {
    std::size_t altered = 0;
    bool inside = true;
    for (std::size_t i = 0; bad.size() == good.size() && i < bad.size(); ++i) {
        if (bad[i] != good[i]) {
            ++altered;
            inside &= i >= from && i < to;
        }
    }
    c.expect(bad.size() == good.size() && altered == 1 && inside,
             what + " is the genuine one with one byte altered in [" + std::to_string(from) + "," +
                 std::to_string(to) + ")");
}

void check_negatives(Checker& c, const Keys& k, const std::map<std::string, Blob>& certs) {
    const auto cert = dnscrypt::parse_certificate(certs.at("es2"), k.provider);
    if (!cert || !k.client) {
        c.fail("negatives need the es2 certificate and client key");
        return;
    }
    const auto session = dnscrypt::Session::create(*cert, *k.client);
    if (!session) {
        c.fail("negatives need the es2 session");
        return;
    }
    const auto half = to_array<12>(c.hex("/inputs/client_nonce_half_udp"));
    const auto genuine = c.hex("/suites/es2/udp_response/packet");

    struct Case {
        const char* key;
        dnscrypt::PacketError error;
        std::size_t from, to;  // the field altered; to == 0: re-encrypted, header kept
    };
    const std::size_t end = genuine.size();
    for (const Case& cs :
         {Case{"response_wrong_nonce_half", dnscrypt::PacketError::UnknownNonce, 8, 20},
          Case{"response_bad_mac", dnscrypt::PacketError::AuthFailed, 32, end},
          Case{"response_bad_magic", dnscrypt::PacketError::BadMagic, 0, 8},
          Case{"response_bad_padding", dnscrypt::PacketError::BadPadding, 32, 0}}) {
        const std::string p = std::string("/negative/") + cs.key + "/packet";
        auto packet = c.hex(p);
        if (cs.to != 0) {
            expect_one_byte_altered(c, packet, genuine, cs.from, cs.to, p);
        } else {
            c.expect(packet.size() == genuine.size() &&
                         std::equal(genuine.begin(), genuine.begin() + 32, packet.begin()),
                     p + " keeps the genuine header");
        }
        const auto r = dnscrypt::decrypt_response(packet, half, session->shared_key());
        c.expect(!r.has_value() && r.error() == cs.error,
                 p + " rejected with " + std::string(dnscrypt::to_string(cs.error)));
    }

    const auto bad_sig = c.hex("/negative/cert_bad_signature/cert");
    expect_one_byte_altered(c, bad_sig, certs.at("es2"), 8, 124, "cert_bad_signature");
    const auto r = dnscrypt::parse_certificate(bad_sig, k.provider);
    c.expect(!r.has_value() && r.error() == dnscrypt::CertError::BadSignature,
             "cert_bad_signature rejected for its signature");

    struct TimeCase {
        const char* key;
        std::optional<dnscrypt::CertError> at_now;
        std::int64_t neighbour;  // a second on the other side of the boundary
        std::optional<dnscrypt::CertError> at_neighbour;
    };
    for (const TimeCase& tc :
         {TimeCase{"cert_expired", dnscrypt::CertError::Expired, -1, std::nullopt},
          TimeCase{"cert_not_yet_valid", dnscrypt::CertError::NotYetValid, +1, std::nullopt},
          TimeCase{"cert_valid_at_ts_end", std::nullopt, +1, dnscrypt::CertError::Expired}}) {
        const std::string p = std::string("/negative/") + tc.key;
        const auto blob = c.hex(p + "/cert");
        c.expect_bytes(blob, certs.at("es2"), p + " uses the genuine es2 certificate");
        const auto now = c.num(p + "/now_unix");
        const auto parsed = dnscrypt::parse_certificate(blob, k.provider);
        c.expect(parsed.has_value(), p + " certificate itself is genuine");
        if (!parsed) continue;
        auto outcome = [&](std::int64_t t) -> std::optional<dnscrypt::CertError> {
            const auto v = dnscrypt::check_validity(*parsed, unix_seconds(t));
            return v ? std::nullopt : std::optional(v.error());
        };
        c.expect(outcome(now) == tc.at_now, p + " at now_unix");
        c.expect(outcome(now + tc.neighbour) == tc.at_neighbour, p + " one second away");
        // Selection agrees: nothing usable when the certificate is not valid.
        const auto choice = dnscrypt::select_certificate({blob}, k.provider, unix_seconds(now));
        c.expect(choice.chosen.has_value() == !tc.at_now.has_value(), p + " selection");
    }
}

void check_official(Checker& c) {
    const std::string h = "/official_vectors/hchacha20/";
    const auto key = c.hex(h + "key");
    const auto input = c.hex(h + "input");
    Blob out(crypto_core_hchacha20_OUTPUTBYTES);
    c.expect(key.size() == crypto_core_hchacha20_KEYBYTES &&
                 input.size() == crypto_core_hchacha20_INPUTBYTES,
             "HChaCha20 vector sizes");
    if (key.size() == 32 && input.size() == 16) {
        crypto_core_hchacha20(out.data(), input.data(), key.data(), nullptr);
    }
    c.expect_bytes(out, c.hex(h + "output"), "HChaCha20 (draft appendix)");

    // The key names the target: 192.0.2.1 port 443.
    c.expect_bytes(header_for({Blob{192, 0, 2, 1}, 443}),
                   c.hex("/official_vectors/anonymized_prefix_192_0_2_1_443/header"),
                   "relay header from ANONYMIZED-DNSCRYPT.txt");

    // Stamp VLP: each item is a length byte (high bit: more items follow) and the bytes.
    const std::string v = "/official_vectors/stamp_vlp_example/";
    const auto vlp = c.hex(v + "VLP(10.0.0.1,10.0.0.2)");
    const auto b64 = c.text(v + "base64url");
    Blob decoded(b64.size());
    std::size_t decoded_len = 0;
    const bool ok =
        sodium_base642bin(decoded.data(), decoded.size(), b64.data(), b64.size(), nullptr,
                          &decoded_len, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0;
    decoded.resize(ok ? decoded_len : 0);
    c.expect(ok, "VLP base64url decodes");
    c.expect_bytes(decoded, vlp, "VLP base64url is the VLP bytes");
    std::vector<std::string> items;
    ByteReader r(vlp);
    bool more = true;
    while (more && !r.empty()) {
        const auto lenbyte = *r.u8();
        more = (lenbyte & 0x80) != 0;
        const auto item = r.bytes(lenbyte & 0x7f);
        if (!item) break;
        items.emplace_back(item->begin(), item->end());
    }
    c.expect(!more && r.empty() && items == std::vector<std::string>{"10.0.0.1", "10.0.0.2"},
             "VLP decodes to the two addresses of its name");
}

}  // namespace

bool is_descriptive_key(const std::string& key) {
    static const std::set<std::string> kKeys = {"description",
                                                "notes",
                                                "dns_query_text",
                                                "dns_response_text",
                                                "signature_check",
                                                "query_text",
                                                "response_text",
                                                "shared_key_function",
                                                "encrypt_function",
                                                "decrypt_function",
                                                "layout",
                                                "expect",
                                                "suite",
                                                "source",
                                                "libsodium",
                                                "checked_with_libsodium",
                                                "checked"};
    return kKeys.count(key) != 0;
}

VectorReport check_vectors(const nlohmann::json& root) {
    Checker c(root);
    const auto now = c.num("/inputs/now_unix");
    const auto keys = check_keys(c);
    check_inputs_are_dns(c);
    const auto certs = check_certificates(c, keys);
    check_cert_query(c, keys, certs, now);
    check_suite(c, "es1", keys, certs, now);
    const auto es2 = check_suite(c, "es2", keys, certs, now);
    check_anonymized(c, es2.udp_query_packet);
    check_negatives(c, keys, certs);
    check_official(c);
    return c.take();
}

}  // namespace dcp::test
