// Hot functions of the query path, one benchmark each. Figures are ns per operation on this
// machine; compare runs of the same binary, never absolute numbers across machines.

#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <vector>

#include "crypto/fast_random.hpp"
#include "crypto/sodium.hpp"
#include "dns/edns.hpp"
#include "dns/message.hpp"
#include "dnscrypt/certificate.hpp"
#include "dnscrypt/packet.hpp"
#include "dnscrypt/padding.hpp"
#include "dnscrypt/session.hpp"
#include "upstream/nonce_table.hpp"

namespace {

using namespace dcp;

// www.example.com A, RD, no EDNS: what a stub resolver sends.
const std::vector<std::uint8_t> kQuery = {
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 3, 'w', 'w', 'w', 7,
    'e',  'x',  'a',  'm',  'p',  'l',  'e',  3,    'c',  'o',  'm',  0,    0, 1,   0,   1};

struct Fixture {
    crypto::KeyPair client = crypto::KeyPair::generate();
    crypto::KeyPair resolver = crypto::KeyPair::generate();
    dnscrypt::Certificate cert;
    std::optional<dnscrypt::Session> session;
    std::optional<crypto::SharedKey> resolver_key;

    explicit Fixture(crypto::Construction c) {
        cert.construction = c;
        cert.resolver_public_key = resolver.public_key;
        cert.client_magic = {'b', 'e', 'n', 'c', 'h', 'm', 'a', 'g'};
        session.emplace(std::move(*dnscrypt::Session::create(cert, client)));
        resolver_key.emplace(
            std::move(*crypto::SharedKey::precompute(c, client.public_key, resolver.secret_key)));
    }

    // A resolver's answer of `answer_len` bytes (padded to 64), sealed for `half`.
    std::vector<std::uint8_t> response(const dnscrypt::ClientNonceHalf& half,
                                       std::size_t answer_len) const {
        const std::size_t padded = dnscrypt::round_up_to_block(answer_len + 1);
        std::vector<std::uint8_t> p(dnscrypt::response::kHeaderSize + padded, 0);
        std::copy(dnscrypt::kResolverMagic.begin(), dnscrypt::kResolverMagic.end(), p.begin());
        std::copy(half.begin(), half.end(), p.begin() + 8);
        auto body = std::span(p).subspan(dnscrypt::response::kHeaderSize);
        std::copy(kQuery.begin(), kQuery.end(), body.begin());
        body[2] |= 0x80;
        dnscrypt::pad(body, answer_len, padded);
        crypto::Nonce nonce{};
        std::copy_n(p.begin() + 8, 24, nonce.begin());
        resolver_key->seal(body, std::span<std::uint8_t, 16>(p.data() + 32, 16), nonce);
        return p;
    }
};

void BM_ParseQuery(benchmark::State& state) {
    for (auto _ : state) {
        auto info = dns::parse_query(kQuery);
        benchmark::DoNotOptimize(info);
    }
}
BENCHMARK(BM_ParseQuery);

void BM_EdnsAddOpt(benchmark::State& state) {
    std::array<std::uint8_t, 512> buf{};
    const auto info = *dns::parse_query(kQuery);
    for (auto _ : state) {
        std::memcpy(buf.data(), kQuery.data(), kQuery.size());
        auto d = dns::apply_edns_payload_policy(buf, info, 1280);
        benchmark::DoNotOptimize(d);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_EdnsAddOpt);

void BM_EncryptQueryUdp(benchmark::State& state) {
    const Fixture f(static_cast<crypto::Construction>(state.range(0)));
    std::array<std::uint8_t, 4096> out{};
    dnscrypt::ClientNonceHalf half{};
    const auto padded = *dnscrypt::udp_padded_length(kQuery.size(), 256, out.size());
    for (auto _ : state) {
        ++half[0];
        auto len = dnscrypt::encrypt_query(f.session->query_keys(), kQuery, half, padded, out);
        benchmark::DoNotOptimize(len);
        benchmark::ClobberMemory();
    }
    state.SetLabel(state.range(0) == 1 ? "XSalsa20Poly1305" : "XChaCha20Poly1305");
}
BENCHMARK(BM_EncryptQueryUdp)->Arg(1)->Arg(2);

void BM_RandomNonceHalf(benchmark::State& state) {
    dnscrypt::ClientNonceHalf half{};
    for (auto _ : state) {
        crypto::random_bytes(half);
        benchmark::DoNotOptimize(half);
    }
}
BENCHMARK(BM_RandomNonceHalf);

void BM_FastRandomNonceHalf(benchmark::State& state) {
    crypto::FastRandom rng;
    dnscrypt::ClientNonceHalf half{};
    for (auto _ : state) {
        rng.fill(half);
        benchmark::DoNotOptimize(half);
    }
}
BENCHMARK(BM_FastRandomNonceHalf);

// One query's life in the pending table with 100 others in flight: insert, find (the answer),
// erase.
void BM_NonceTableCycle(benchmark::State& state) {
    dcp::upstream::NonceTable<int> table;
    dcp::crypto::FastRandom rng;
    std::array<std::uint64_t, 100> live{};
    int value = 0;
    for (auto& k : live) {
        rng.fill(std::span(reinterpret_cast<std::uint8_t*>(&k), sizeof(k)));
        table.insert(k, &value);
    }
    std::size_t i = 0;
    for (auto _ : state) {
        std::uint64_t key = 0;
        rng.fill(std::span(reinterpret_cast<std::uint8_t*>(&key), sizeof(key)));
        table.erase(live[i]);
        table.insert(key, &value);
        benchmark::DoNotOptimize(table.find(key));
        live[i] = key;
        i = (i + 1) % live.size();
    }
}
BENCHMARK(BM_NonceTableCycle);

void BM_DecryptResponse(benchmark::State& state) {
    const Fixture f(static_cast<crypto::Construction>(state.range(0)));
    const dnscrypt::ClientNonceHalf half{1, 2, 3};
    const auto genuine = f.response(half, static_cast<std::size_t>(state.range(1)));
    std::vector<std::uint8_t> work(genuine.size());
    for (auto _ : state) {
        std::memcpy(work.data(), genuine.data(), genuine.size());  // decryption is in place
        auto msg = dnscrypt::decrypt_response(work, half, f.session->shared_key());
        benchmark::DoNotOptimize(msg);
    }
    state.SetLabel(state.range(0) == 1 ? "XSalsa20Poly1305" : "XChaCha20Poly1305");
    state.SetBytesProcessed(state.iterations() * state.range(1));
}
BENCHMARK(BM_DecryptResponse)->Args({1, 100})->Args({2, 100})->Args({2, 1200});

void BM_CheckResponseMatches(benchmark::State& state) {
    auto response = kQuery;
    response[2] |= 0x80;
    const auto info = *dns::parse_query(kQuery);
    for (auto _ : state) {
        auto r = dns::check_response_matches(response, info.header.id, info.question);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_CheckResponseMatches);

void BM_SharedKeyPrecompute(benchmark::State& state) {
    const Fixture f(crypto::Construction::XChaCha20Poly1305);
    for (auto _ : state) {
        auto k = crypto::SharedKey::precompute(crypto::Construction::XChaCha20Poly1305,
                                               f.resolver.public_key, f.client.secret_key);
        benchmark::DoNotOptimize(k);
    }
}
BENCHMARK(BM_SharedKeyPrecompute);

}  // namespace

int main(int argc, char** argv) {
    if (!dcp::crypto::initialize()) return 1;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
