// The answer cache: TTLs (RFC 2308 for negative answers), keys, countdown, eviction that keeps
// names asked again, bounds, stale entries and prefetch.
#include "cache/cache.hpp"

#include <gtest/gtest.h>

#include "dns/name.hpp"
#include "unit/dns/dns_builder.hpp"

namespace dcp::cache {
namespace {

using test::MsgBuilder;

constexpr std::uint16_t kA = 1, kSoa = 6, kTxt = 16, kOpt = 41;

std::vector<std::uint8_t> answer(const std::string& name, std::uint32_t ttl,
                                 std::uint16_t rcode = 0, std::uint16_t flags = 0x8180) {
    return MsgBuilder()
        .header(0x1111, static_cast<std::uint16_t>(flags | rcode), 1, 1, 0, 1)
        .question(name, kA)
        .record_at(12, kA, ttl, {192, 0, 2, 1})
        .opt(1232)
        .build();
}

std::vector<std::uint8_t> negative(const std::string& name, std::uint32_t soa_ttl,
                                   std::uint32_t minimum, std::uint16_t rcode = 3) {
    std::vector<std::uint8_t> soa;
    const std::uint8_t names[] = {2, 'n', 's', 0, 2, 'h', 'm', 0};
    soa.assign(names, names + sizeof names);
    for (const std::uint32_t v : {1U, 2U, 3U, 4U, minimum}) {
        for (int shift = 24; shift >= 0; shift -= 8)
            soa.push_back(static_cast<std::uint8_t>(v >> shift));
    }
    return MsgBuilder()
        .header(0x2222, static_cast<std::uint16_t>(0x8180 | rcode), 1, 0, 1, 0)
        .question(name, kA)
        .record("example", kSoa, soa_ttl, soa)
        .build();
}

// The options' defaults (config/options.hpp).
constexpr TtlLimits kDefaultTtls{60, 86400, 60, 600};

CacheSettings settings(std::size_t entries, TtlLimits ttl = kDefaultTtls, std::uint32_t stale = 0,
                       std::uint32_t prefetch = 3) {
    CacheSettings s;
    s.max_entries = entries;
    s.ttl = ttl;
    s.serve_stale_s = stale;
    s.prefetch_hits = prefetch;
    return s;
}

dns::Question question(const std::string& name, std::uint16_t type = kA) {
    dns::Question q;
    q.name = dns::encode_name(name).value();
    q.qtype = type;
    q.qclass = 1;
    return q;
}

TEST(CacheTtl, PositiveIsTheLowestClamped) {
    const TtlLimits limits{60, 3600, 30, 600};
    EXPECT_EQ(cacheable_ttl(answer("a.example", 300), limits), 300U);
    EXPECT_EQ(cacheable_ttl(answer("a.example", 5), limits), 60U);
    EXPECT_EQ(cacheable_ttl(answer("a.example", 90000), limits), 3600U);
    EXPECT_EQ(cacheable_ttl(answer("a.example", 0x80000000U), limits), 60U);  // RFC 2181: 0
}

TEST(CacheTtl, NegativeFollowsRfc2308) {
    const TtlLimits limits{60, 3600, 30, 600};
    EXPECT_EQ(cacheable_ttl(negative("nx.example", 3600, 300), limits), 300U);   // SOA minimum
    EXPECT_EQ(cacheable_ttl(negative("nx.example", 100, 300), limits), 100U);    // SOA TTL
    EXPECT_EQ(cacheable_ttl(negative("nx.example", 10, 10), limits), 30U);       // neg min
    EXPECT_EQ(cacheable_ttl(negative("nx.example", 9999, 9999), limits), 600U);  // neg max
    // NODATA (NOERROR, no answer) is negative too.
    EXPECT_EQ(cacheable_ttl(negative("nx.example", 200, 200, 0), limits), 200U);
    // No SOA at all: the negative minimum.
    const auto bare = MsgBuilder().header(1, 0x8183, 1, 0, 0, 0).question("x.example", kA).build();
    EXPECT_EQ(cacheable_ttl(bare, limits), 30U);
}

TEST(CacheTtl, NotCached) {
    const TtlLimits limits = kDefaultTtls;
    EXPECT_FALSE(cacheable_ttl(answer("a.example", 300, 2), limits));          // SERVFAIL
    EXPECT_FALSE(cacheable_ttl(answer("a.example", 300, 5), limits));          // REFUSED
    EXPECT_FALSE(cacheable_ttl(answer("a.example", 300, 0, 0x8380), limits));  // TC
    const std::uint8_t garbage[] = {1, 2, 3};
    EXPECT_FALSE(cacheable_ttl(Bytes(garbage, 3), limits));
}

TEST(CacheTtl, SetTtlsSkipsOpt) {
    auto msg = answer("a.example", 300);
    ASSERT_TRUE(set_ttls(msg, 42));
    const auto layout = dns::parse_layout(msg).value();
    const auto rr = dns::read_record(msg, layout.answer_offset).value();
    EXPECT_EQ(rr.ttl, 42U);
    EXPECT_EQ(layout.opt->udp_payload, 1232);  // the OPT's class/TTL fields untouched
    EXPECT_EQ(layout.opt->flags, 0);
    (void)kOpt;
}

TEST(Cache, HitCountsDownAndMissesAfterExpiry) {
    Cache cache(settings(100, {1, 86400, 1, 600}));
    const Key key(question("a.example"), false, false);
    const auto a = answer("a.example", 300);
    ASSERT_TRUE(cache.store(key, a, 1000));
    std::vector<std::uint8_t> out(512);
    auto hit = cache.find(key, 1100, out, false);
    ASSERT_EQ(hit.found, Found::Fresh);
    EXPECT_EQ(hit.ttl_left, 200U);
    EXPECT_EQ(hit.size, a.size());
    EXPECT_TRUE(std::equal(a.begin(), a.end(), out.begin()));
    EXPECT_EQ(cache.find(key, 1300, out, false).found, Found::Miss);
    EXPECT_EQ(cache.size(), 0U);  // an expired entry without serve-stale is dropped
}

TEST(Cache, KeyIgnoresCaseButNotTypeDoOrCd) {
    Cache cache(settings(100));
    ASSERT_TRUE(cache.store(Key(question("A.Example"), false, false), answer("A.Example", 300), 0));
    std::vector<std::uint8_t> out(512);
    EXPECT_EQ(cache.find(Key(question("a.EXAMPLE"), false, false), 1, out, false).found,
              Found::Fresh);
    EXPECT_EQ(cache.find(Key(question("a.example", kTxt), false, false), 1, out, false).found,
              Found::Miss);
    EXPECT_EQ(cache.find(Key(question("a.example"), true, false), 1, out, false).found,
              Found::Miss);
    EXPECT_EQ(cache.find(Key(question("a.example"), false, true), 1, out, false).found,
              Found::Miss);
}

TEST(Cache, RefusesWhatItCannotServe) {
    Cache cache(settings(100));
    const Key key(question("a.example"), false, false);
    EXPECT_FALSE(cache.store(key, answer("a.example", 300, 2), 0));  // SERVFAIL
    // A question written with a pointer cannot take the client's spelling back.
    const auto pointer =
        MsgBuilder().header(1, 0x8180, 1, 0, 0, 0).pointer(12).u16(kA).u16(1).build();
    EXPECT_FALSE(cache.store(key, pointer, 0));
    std::vector<std::uint8_t> huge(Cache::kMaxAnswer + 1);
    EXPECT_FALSE(cache.store(key, huge, 0));
    EXPECT_EQ(cache.size(), 0U);
}

TEST(Cache, TooSmallABufferGetsTheSizeOnly) {
    Cache cache(settings(100));
    const Key key(question("a.example"), false, false);
    ASSERT_TRUE(cache.store(key, answer("a.example", 300), 0));
    std::vector<std::uint8_t> out(10, 0xee);
    const auto hit = cache.find(key, 1, out, false);
    EXPECT_EQ(hit.found, Found::Fresh);
    EXPECT_GT(hit.size, out.size());
    EXPECT_EQ(out[0], 0xee);  // nothing copied
}

TEST(Cache, BoundedAndKeepsNamesAskedAgain) {
    // One shard of 64 entries: a flood of names asked once flows through, the hot ones stay.
    Cache cache(settings(64));
    std::vector<std::uint8_t> out(512);
    std::vector<Key> hot;
    for (int i = 0; i < 8; ++i) {
        const std::string name = "hot" + std::to_string(i) + ".example";
        hot.emplace_back(question(name), false, false);
        ASSERT_TRUE(cache.store(hot.back(), answer(name, 3000), 0));
    }
    for (int i = 0; i < 5000; ++i) {
        const std::string name = "flood" + std::to_string(i) + ".example";
        ASSERT_TRUE(cache.store(Key(question(name), false, false), answer(name, 3000), 1));
        if (i % 16 == 0) {
            for (const auto& k : hot) EXPECT_EQ(cache.find(k, 1, out, false).found, Found::Fresh);
        }
        ASSERT_LE(cache.size(), 64U);
    }
    for (const auto& k : hot) EXPECT_EQ(cache.find(k, 1, out, false).found, Found::Fresh);
    EXPECT_EQ(cache.size(), 64U);
    EXPECT_LT(cache.bytes(), 64U * 1024U);
}

TEST(Cache, StaleOnlyWhenAskedForAndWithinTheLimit) {
    Cache cache(settings(100, {1, 86400, 1, 600}, 100));
    const Key key(question("a.example"), false, false);
    ASSERT_TRUE(cache.store(key, answer("a.example", 10), 0));
    std::vector<std::uint8_t> out(512);
    EXPECT_EQ(cache.find(key, 50, out, false).found, Found::Miss);
    EXPECT_EQ(cache.find(key, 50, out, true).found, Found::Stale);
    EXPECT_EQ(cache.find(key, 9, out, true).found, Found::Fresh);
    EXPECT_EQ(cache.find(key, 111, out, true).found, Found::Miss);
    EXPECT_EQ(cache.size(), 0U);
}

TEST(Cache, PrefetchOncePopularAndNearTheEnd) {
    Cache cache(settings(100, {1, 86400, 1, 600}, 0, 3));
    const Key key(question("a.example"), false, false);
    ASSERT_TRUE(cache.store(key, answer("a.example", 100), 0));
    std::vector<std::uint8_t> out(512);
    EXPECT_FALSE(cache.find(key, 10, out, false).prefetch);
    EXPECT_FALSE(cache.find(key, 20, out, false).prefetch);
    EXPECT_FALSE(cache.find(key, 30, out, false).prefetch);       // popular, but 70 s left
    EXPECT_TRUE(cache.find(key, 95, out, false).prefetch);        // last tenth
    EXPECT_FALSE(cache.find(key, 96, out, false).prefetch);       // not twice in a row
    ASSERT_TRUE(cache.store(key, answer("a.example", 100), 97));  // the refresh came back
    EXPECT_EQ(cache.find(key, 98, out, false).ttl_left, 99U);
}

}  // namespace
}  // namespace dcp::cache
