// dnscrypt_responder: a DNSCrypt server for benchmarks that answers every query from memory,
// so that the proxy in front of it, not the server, is what saturates (bench/netbench.py's
// "ceiling" scenario). Not a resolver and not installed.
//
//   dnscrypt_responder PORT
//
// Listens on 127.0.0.1:PORT (UDP), makes a fresh provider key and resolver key pair, prints
//   provider_name=2.dnscrypt-cert.responder.test provider_key=HEX
// and serves until killed:
// - the certificate query (TXT 2.dnscrypt-cert.responder.test): one signed es-version 2
//   (X25519-XChaCha20Poly1305) certificate, valid from an hour ago for a day;
// - DNSCrypt queries (the certificate's client magic): opened with the precomputed key of the
//   client's public key (this project's protocol code, libsodium's *_afternm), answered with
//   A 192.0.2.1 TTL 60 for type A (NOERROR and no record otherwise), padded and sealed;
// - anything else as plain DNS, the same answer unencrypted.
// Datagrams are read and written in batches (recvmmsg/sendmmsg where the system has them).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/fast_random.hpp"
#include "crypto/shared_key.hpp"
#include "crypto/sodium.hpp"
#include "crypto/x25519.hpp"
#include "dns/constants.hpp"
#include "dns/name.hpp"
#include "dnscrypt/constants.hpp"
#include "dnscrypt/padding.hpp"

namespace {

using namespace dcp;

constexpr const char* kProviderName = "2.dnscrypt-cert.responder.test";
constexpr std::size_t kBatch = 64;
constexpr std::size_t kBufferSize = 4096;
constexpr std::size_t kMaxKeys = 4096;  // clients' public keys remembered (then forgotten)
constexpr dnscrypt::ClientMagic kClientMagic = {'r', 'e', 's', 'p', 'b', 'e', 'n', 'c'};

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "dnscrypt_responder: %s\n", what);
    std::exit(1);
}

struct Server {
    std::array<std::uint8_t, 32> provider_pk{};
    std::array<std::uint8_t, 64> provider_sk{};
    crypto::KeyPair resolver = crypto::KeyPair::generate();
    std::vector<std::uint8_t> certificate;
    std::vector<std::uint8_t> cert_qname;  // wire form of the provider name
    std::map<crypto::PublicKey, crypto::SharedKey> keys;
    crypto::FastRandom rng;
    std::uint64_t nonce_counter = 0;

    Server() {
        crypto_sign_keypair(provider_pk.data(), provider_sk.data());
        certificate.resize(dnscrypt::cert::kMinSize);
        std::memcpy(certificate.data(), dnscrypt::kCertMagic.data(), dnscrypt::kCertMagic.size());
        store_u16_be(certificate.data() + dnscrypt::cert::kEsVersionOffset, 2);
        std::memcpy(certificate.data() + dnscrypt::cert::kResolverPkOffset,
                    resolver.public_key.data(), resolver.public_key.size());
        std::memcpy(certificate.data() + dnscrypt::cert::kClientMagicOffset, kClientMagic.data(),
                    kClientMagic.size());
        const auto now = static_cast<std::uint32_t>(std::time(nullptr));
        store_u32_be(certificate.data() + dnscrypt::cert::kSerialOffset, 1);
        store_u32_be(certificate.data() + dnscrypt::cert::kTsStartOffset, now - 3600);
        store_u32_be(certificate.data() + dnscrypt::cert::kTsEndOffset, now + 86400);
        crypto_sign_detached(certificate.data() + dnscrypt::cert::kSignatureOffset, nullptr,
                             certificate.data() + dnscrypt::cert::kSignedOffset,
                             certificate.size() - dnscrypt::cert::kSignedOffset,
                             provider_sk.data());
        const auto name = dns::encode_name(kProviderName);
        if (!name) fail("provider name");
        cert_qname.assign(name->wire().begin(), name->wire().end());
        rng.fill(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&nonce_counter),
                                         sizeof(nonce_counter)));
    }

    const crypto::SharedKey* key_for(const std::uint8_t* client_pk) {
        crypto::PublicKey pk;
        std::memcpy(pk.data(), client_pk, pk.size());
        if (const auto it = keys.find(pk); it != keys.end()) return &it->second;
        auto key = crypto::SharedKey::precompute(crypto::Construction::XChaCha20Poly1305, pk,
                                                 resolver.secret_key);
        if (!key) return nullptr;
        if (keys.size() >= kMaxKeys) keys.clear();  // ephemeral keys: every query a new one
        return &keys.emplace(pk, std::move(*key)).first->second;
    }

    // Writes the plain DNS answer to `query` into `out`; its length, 0 to stay silent.
    std::size_t answer(const std::uint8_t* query, std::size_t len, std::uint8_t* out) const {
        if (len < dns::kHeaderSize + 5 || (query[2] & 0x80) != 0) return 0;
        std::size_t pos = dns::kHeaderSize;  // the first name, uncompressed in a query
        while (pos < len && query[pos] != 0) {
            if ((query[pos] & 0xc0) != 0) return 0;
            pos += 1U + query[pos];
        }
        if (pos + 5 > len) return 0;
        const std::size_t question_end = pos + 5;
        const std::uint16_t qtype = load_u16_be(query + pos + 1);
        std::memcpy(out, query, question_end);
        out[2] = static_cast<std::uint8_t>(0x80 | (query[2] & 0x79));  // QR, opcode, RD
        out[3] = 0x80;                                                 // RA, NOERROR
        store_u16_be(out + 4, 1);
        store_u16_be(out + 8, 0);
        store_u16_be(out + 10, 0);
        std::size_t n = question_end;
        const bool is_cert =
            qtype == 16 && pos + 1 - dns::kHeaderSize == cert_qname.size() &&
            std::equal(
                cert_qname.begin(), cert_qname.end(), query + dns::kHeaderSize,
                [](std::uint8_t a, std::uint8_t b) { return std::tolower(a) == std::tolower(b); });
        const std::uint8_t pointer[] = {0xc0, 0x0c};
        if (is_cert) {
            store_u16_be(out + 6, 1);
            std::memcpy(out + n, pointer, 2);
            store_u16_be(out + n + 2, 16);
            store_u16_be(out + n + 4, 1);
            store_u32_be(out + n + 6, 3600);
            store_u16_be(out + n + 10, static_cast<std::uint16_t>(certificate.size() + 1));
            out[n + 12] = static_cast<std::uint8_t>(certificate.size());
            std::memcpy(out + n + 13, certificate.data(), certificate.size());
            return n + 13 + certificate.size();
        }
        if (qtype != 1) {
            store_u16_be(out + 6, 0);
            return n;
        }
        store_u16_be(out + 6, 1);
        std::memcpy(out + n, pointer, 2);
        store_u16_be(out + n + 2, 1);
        store_u16_be(out + n + 4, 1);
        store_u32_be(out + n + 6, 60);
        store_u16_be(out + n + 10, 4);
        const std::uint8_t address[] = {192, 0, 2, 1};
        std::memcpy(out + n + 12, address, 4);
        return n + 16;
    }

    // One datagram in, its reply (length) out; 0: no reply.
    std::size_t handle(std::uint8_t* in, std::size_t len, std::uint8_t* out) {
        namespace q = dnscrypt::query;
        namespace r = dnscrypt::response;
        if (len < q::kHeaderSize + dnscrypt::kMinDnsMessage ||
            std::memcmp(in, kClientMagic.data(), kClientMagic.size()) != 0) {
            return answer(in, len, out);
        }
        const crypto::SharedKey* key = key_for(in + q::kClientPkOffset);
        if (key == nullptr) return 0;
        crypto::Nonce nonce{};
        std::memcpy(nonce.data(), in + q::kNonceOffset, sizeof(dnscrypt::ClientNonceHalf));
        const std::span<std::uint8_t> body(in + q::kHeaderSize, len - q::kHeaderSize);
        if (!key->open(body,
                       std::span<const std::uint8_t, crypto::kMacSize>(in + q::kMacOffset,
                                                                       crypto::kMacSize),
                       nonce)) {
            return 0;
        }
        const auto message_len = dnscrypt::unpadded_length(Bytes(body.data(), body.size()));
        if (!message_len) return 0;
        std::uint8_t* message = out + r::kHeaderSize;
        const std::size_t n = answer(body.data(), *message_len, message);
        if (n == 0) return 0;
        const std::size_t padded = dnscrypt::round_up_to_block(n + 1);
        dnscrypt::pad(MutableBytes(message, padded), n, padded);
        std::memcpy(out, dnscrypt::kResolverMagic.data(), dnscrypt::kResolverMagic.size());
        std::memcpy(out + r::kNonceOffset, in + q::kNonceOffset, sizeof(dnscrypt::ClientNonceHalf));
        // The resolver's half: a counter from a random start never repeats under one key.
        ++nonce_counter;
        std::uint8_t* server_half = out + r::kNonceOffset + sizeof(dnscrypt::ClientNonceHalf);
        std::memset(server_half, 0, 12);
        std::memcpy(server_half, &nonce_counter, sizeof(nonce_counter));
        std::memcpy(nonce.data(), out + r::kNonceOffset, nonce.size());
        key->seal(std::span<std::uint8_t>(message, padded),
                  std::span<std::uint8_t, crypto::kMacSize>(out + r::kMacOffset, crypto::kMacSize),
                  nonce);
        return r::kHeaderSize + padded;
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fputs("usage: dnscrypt_responder PORT\n", stderr);
        return 2;
    }
    if (!crypto::initialize()) fail("libsodium");
    Server server;
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) fail("socket");
    const int size = 4 << 20;  // a burst of 1000 in flight fits
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) fail("bind");
    char hex[65];
    sodium_bin2hex(hex, sizeof(hex), server.provider_pk.data(), server.provider_pk.size());
    std::printf("provider_name=%s provider_key=%s\n", kProviderName, hex);
    std::fflush(stdout);

    static std::uint8_t in[kBatch][kBufferSize];
    static std::uint8_t out[kBatch][kBufferSize];
    std::array<sockaddr_in, kBatch> peers{};
#if defined(__linux__)
    std::array<iovec, kBatch> in_iov{};
    std::array<iovec, kBatch> out_iov{};
    std::array<mmsghdr, kBatch> in_msgs{};
    std::array<mmsghdr, kBatch> out_msgs{};
    for (std::size_t i = 0; i < kBatch; ++i) {
        in_iov[i] = {in[i], kBufferSize};
        in_msgs[i].msg_hdr.msg_iov = &in_iov[i];
        in_msgs[i].msg_hdr.msg_iovlen = 1;
        in_msgs[i].msg_hdr.msg_name = &peers[i];
    }
    for (;;) {
        for (auto& m : in_msgs) m.msg_hdr.msg_namelen = sizeof(sockaddr_in);
        const int got = recvmmsg(fd, in_msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
        if (got <= 0) continue;
        unsigned replies = 0;
        for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
            const std::size_t n = server.handle(in[i], in_msgs[i].msg_len, out[replies]);
            if (n == 0) continue;
            out_iov[replies] = {out[replies], n};
            auto& h = out_msgs[replies].msg_hdr;
            h.msg_iov = &out_iov[replies];
            h.msg_iovlen = 1;
            h.msg_name = &peers[i];
            h.msg_namelen = in_msgs[i].msg_hdr.msg_namelen;
            ++replies;
        }
        for (unsigned sent = 0; sent < replies;) {
            const int n = sendmmsg(fd, out_msgs.data() + sent, replies - sent, 0);
            if (n <= 0) break;  // a full buffer: the client retries or counts it lost
            sent += static_cast<unsigned>(n);
        }
    }
#else
    for (;;) {
        socklen_t peer_len = sizeof(sockaddr_in);
        const ssize_t got =
            recvfrom(fd, in[0], kBufferSize, 0, reinterpret_cast<sockaddr*>(&peers[0]), &peer_len);
        if (got <= 0) continue;
        const std::size_t n = server.handle(in[0], static_cast<std::size_t>(got), out[0]);
        if (n != 0) {
            (void)sendto(fd, out[0], n, 0, reinterpret_cast<const sockaddr*>(&peers[0]), peer_len);
        }
    }
#endif
}
