#pragma once
// The answer cache, shared by every worker. Keyed by (name without case, type, class, DO bit,
// CD bit): what changes an answer. Split in shards, each behind its own mutex, so workers
// rarely meet and never on one global lock; a lookup copies the answer out under the lock and
// allocates nothing. Eviction is SIEVE (Zhang et al., NSDI 2024): a hit only sets a bit, and
// the hand evicts the oldest entry not hit since it last passed, so names asked again stay
// while a flood of names asked once flows through. Bounded by entries and by bytes.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cache/answer.hpp"
#include "common/bytes.hpp"
#include "common/noncopyable.hpp"
#include "dns/constants.hpp"
#include "dns/message.hpp"

namespace dcp::cache {

// An entry asked at least this many times is refreshed when a query finds it in the last tenth
// of its life (unless --no-cache-prefetch).
inline constexpr std::uint32_t kPrefetchHits = 3;

// Set by config::validate() from the options (their defaults: config/options.hpp, once).
struct CacheSettings {
    std::size_t max_entries = 0;
    TtlLimits ttl;
    // RFC 8767: keep expired answers this long, and answer with one (TTL 30 s) when the
    // resolvers fail. 0: never.
    std::uint32_t serve_stale_s = 0;
    // Prefetch: an entry asked at least this many times is refreshed when a query finds it in
    // the last tenth of its life. 0: never.
    std::uint32_t prefetch_hits = kPrefetchHits;
};

// The cache key of a query.
class Key {
  public:
    Key(const dns::Question& question, bool dnssec_ok, bool checking_disabled) noexcept;
    [[nodiscard]] Bytes bytes() const noexcept { return {data_.data(), len_}; }
    [[nodiscard]] std::size_t name_size() const noexcept { return name_size_; }

  private:
    std::array<std::uint8_t, dns::kMaxNameWireSize + 5> data_{};
    std::uint16_t len_ = 0;
    std::uint16_t name_size_ = 0;
};

enum class Found : std::uint8_t { Miss, Fresh, Stale };

struct Lookup {
    Found found = Found::Miss;
    std::size_t size = 0;        // the answer's length (copied only when it fit)
    std::uint32_t ttl_left = 0;  // seconds (0 for a stale answer)
    bool prefetch = false;       // the caller should refresh this entry now
};

class Cache : NonCopyable {
  public:
    explicit Cache(const CacheSettings& settings);
    ~Cache();

    // Copies the answer for `key` into `out` when it is there and fits. `now`: seconds on a
    // monotonic clock. Stale entries are reported (not as Fresh) only with `want_stale`.
    [[nodiscard]] Lookup find(const Key& key, std::uint32_t now, MutableBytes out, bool want_stale);
    // Keeps `answer` (the resolver's, checked, for the query `key` describes) when it is
    // cacheable. Returns whether it was kept.
    bool store(const Key& key, Bytes answer, std::uint32_t now);

    [[nodiscard]] std::size_t size() const;
    [[nodiscard]] std::size_t bytes() const;
    [[nodiscard]] const CacheSettings& settings() const noexcept { return settings_; }

    // Answers larger than this are not kept.
    static constexpr std::size_t kMaxAnswer = 16384;

  private:
    struct Shard;
    [[nodiscard]] std::uint64_t hash(const Key& key) const noexcept;
    Shard& shard_of(std::uint64_t h) noexcept;
    // One of the shards' counts, summed.
    [[nodiscard]] std::size_t total(std::size_t Shard::*count) const;

    CacheSettings settings_;
    std::array<std::uint8_t, 16> hash_key_{};
    std::vector<std::unique_ptr<Shard>> shards_;
};

// The stale answer's TTL (RFC 8767 4).
inline constexpr std::uint32_t kStaleTtl = 30;

}  // namespace dcp::cache
