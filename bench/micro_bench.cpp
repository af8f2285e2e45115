// Hot functions of the query path, one benchmark each. Figures are ns per operation on this
// machine; compare runs of the same binary, never absolute numbers across machines.

#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <map>
#include <vector>

#include "cache/cache.hpp"
#include "crypto/fast_random.hpp"
#include "crypto/sodium.hpp"
#include "dns/edns.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dnscrypt/certificate.hpp"
#include "dnscrypt/packet.hpp"
#include "dnscrypt/padding.hpp"
#include "dnscrypt/session.hpp"
#include "rules/rule_files.hpp"
#include "rules/rule_set.hpp"
#include "upstream/nonce_table.hpp"

#include <string>

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

// Rule matching with a 200,000-entry blocked list (100,000 names, 100,000 "*.zone" wildcards)
// and an allow list: a lookup's cost does not grow with the list.
const dcp::rules::RuleSet& big_rules(std::size_t entries) {
    static std::map<std::size_t, dcp::rules::RuleSet> sets;
    auto& set = sets[entries];
    if (!set.blocked_names) {
        std::string text;
        for (std::size_t i = 0; i < entries / 2; ++i) {
            text += "blocked" + std::to_string(i) + ".example.com\n";
            text += "*.wild" + std::to_string(i) + ".example.net\n";
        }
        dcp::rules::Diagnostics d;
        set.blocked_names = dcp::rules::parse_name_rules(text, "bench", d);
        set.allowed_names = dcp::rules::parse_name_rules("=blocked7.example.com\n", "bench", d);
    }
    return set;
}

dcp::dns::Question question(const char* name) {
    dcp::dns::Question q;
    q.name = dcp::dns::encode_name(name).value();
    q.qtype = 1;
    q.qclass = 1;
    return q;
}

void BM_RulesDecide(benchmark::State& state) {
    const auto& set = big_rules(static_cast<std::size_t>(state.range(0)));
    const dcp::dns::Question names[] = {
        question("www.not-listed.example.org"), question("blocked4242.example.com"),
        question("a.b.c.wild777.example.net"), question("blocked7.example.com")};
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(set.decide(names[i++ & 3]));
    }
    state.counters["bytes_per_entry"] =
        static_cast<double>(set.blocked_names->matcher.memory_bytes()) /
        static_cast<double>(state.range(0));
}
BENCHMARK(BM_RulesDecide)->Arg(2000)->Arg(200000);

void BM_RulesLoad(benchmark::State& state) {
    std::string text;
    for (std::size_t i = 0; i < 100000; ++i) {
        text += "blocked" + std::to_string(i) + ".example.com\n";
        text += "*.wild" + std::to_string(i) + ".example.net\n";
    }
    for (auto _ : state) {
        dcp::rules::Diagnostics d;
        benchmark::DoNotOptimize(dcp::rules::parse_name_rules(text, "bench", d));
    }
}
BENCHMARK(BM_RulesLoad)->Unit(benchmark::kMillisecond);

// A cache hit: key, keyed hash, shard lock, copy out.
void BM_CacheHit(benchmark::State& state) {
    dcp::cache::CacheSettings settings;
    settings.max_entries = 4096;
    settings.ttl = {60, 86400, 60, 600};
    dcp::cache::Cache cache(settings);
    const auto q = question("www.example.com");
    const dcp::cache::Key key(q, false, false);
    const std::vector<std::uint8_t> answer = {
        0x12, 0x34, 0x81, 0x80, 0,   1,   0,   1,    0,    0,   0,   0,   3, 'w', 'w', 'w', 7,
        'e',  'x',  'a',  'm',  'p', 'l', 'e', 3,    'c',  'o', 'm', 0,   0, 1,   0,   1,   0xc0,
        12,   0,    1,    0,    1,   0,   0,   0x0e, 0x10, 0,   4,   192, 0, 2,   1};
    if (!cache.store(key, answer, 0)) state.SkipWithError("not stored");
    std::array<std::uint8_t, 512> out{};
    for (auto _ : state) {
        const dcp::cache::Key k(q, false, false);
        benchmark::DoNotOptimize(cache.find(k, 1, out, false));
    }
}
BENCHMARK(BM_CacheHit);

}  // namespace

int main(int argc, char** argv) {
    if (!dcp::crypto::initialize()) return 1;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
