// Untrusted input: a resolver's answer as the cache and the rules read it (TTLs, negative
// caching, TTL rewriting, the IP and CNAME filter, CNAME flattening, and the cache itself).

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cache/answer.hpp"
#include "cache/cache.hpp"
#include "dns/message.hpp"
#include "fuzz/fuzz_support.hpp"
#include "rules/local_reply.hpp"
#include "rules/rule_set.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp;
    fuzz::init_once();
    if (size > dns::kMaxMessageSize) return 0;
    static std::vector<std::uint8_t> buf;
    buf.assign(data, data + size);

    (void)cache::cacheable_ttl(buf, {});
    (void)cache::set_ttls(buf, 42);

    static const rules::RuleSet set = [] {
        rules::RuleSet s;
        rules::Diagnostics d;
        s.blocked_ips = rules::parse_ip_rules("10.0.0.0/8\n192.0.2.*\nfe80::/10\n", "f", d);
        s.blocked_names = rules::parse_name_rules("ads.*\nblocked.example\n", "f", d);
        return s;
    }();
    (void)set.check_answer(Bytes(data, size));

    // A fixed query (www.example.com A) and everything its answer may become.
    static const std::uint8_t kQuery[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,   0,   0,
                                          0,    3,    'w',  'w',  'w', 7,   'e', 'x', 'a', 'm', 'p',
                                          'l',  'e',  3,    'c',  'o', 'm', 0,   0,   1,   0,   1};
    static const auto query = *dns::parse_query(Bytes(kQuery, sizeof kQuery));
    static std::array<std::uint8_t, 1024> flat;
    if (const auto len = rules::write_flattened(query, Bytes(data, size), 600, flat)) {
        if (*len > flat.size() || !dns::parse_layout(Bytes(flat.data(), *len))) std::abort();
    }

    static cache::Cache cache([] {
        cache::CacheSettings s;
        s.max_entries = 16;
        s.ttl = {60, 86400, 60, 600};
        s.serve_stale_s = 10;
        return s;
    }());
    const cache::Key key(query.question, false, false);
    static std::uint32_t now = 0;
    ++now;
    if (cache.store(key, Bytes(data, size), now)) {
        static std::array<std::uint8_t, cache::Cache::kMaxAnswer> out;
        const auto hit = cache.find(key, now, out, true);
        if (hit.found == cache::Found::Miss || hit.size != size ||
            std::memcmp(out.data(), data, size) != 0) {
            std::abort();
        }
    }
    return 0;
}
