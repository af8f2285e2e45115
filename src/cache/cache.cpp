#include "cache/cache.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "dns/name.hpp"

namespace dcp::cache {
namespace {

constexpr std::uint32_t kNone = 0xffffffffU;
// Bytes allowed per entry on average before entries are evicted for room (answers are ~100 to
// 500 bytes; a few large ones fit, a flood of large ones cannot take more than this).
constexpr std::size_t kAverageBudget = 1024;
constexpr std::size_t kMinBudget = 1 << 20;
// Prefetch only entries that live long enough for it to matter, and not twice in a row.
constexpr std::uint32_t kMinPrefetchTtl = 10;
constexpr std::uint32_t kPrefetchRetry = 10;

}  // namespace

Key::Key(const dns::Question& question, bool dnssec_ok, bool checking_disabled) noexcept {
    const Bytes name = question.name.wire();
    for (std::size_t i = 0; i < name.size(); ++i) {
        std::uint8_t c = name[i];
        // Length bytes are at most 63, below 'A': lowering them is a no-op.
        if (c >= 'A' && c <= 'Z') c = static_cast<std::uint8_t>(c + ('a' - 'A'));
        data_[i] = c;
    }
    std::size_t n = name.size();
    name_size_ = static_cast<std::uint16_t>(n);
    store_u16_be(data_.data() + n, question.qtype);
    store_u16_be(data_.data() + n + 2, question.qclass);
    data_[n + 4] = static_cast<std::uint8_t>((dnssec_ok ? 1 : 0) | (checking_disabled ? 2 : 0));
    len_ = static_cast<std::uint16_t>(n + 5);
}

struct Cache::Shard {
    struct Entry {
        std::vector<std::uint8_t> data;  // the key, then the answer
        std::uint64_t hash = 0;
        std::uint16_t key_len = 0;
        std::uint32_t expires = 0;
        std::uint32_t ttl = 0;
        std::uint32_t prefetch_at = 0;
        std::uint32_t hits = 0;
        std::uint32_t newer = kNone;
        std::uint32_t older = kNone;
        bool visited = false;

        [[nodiscard]] Bytes key() const noexcept { return {data.data(), key_len}; }
        [[nodiscard]] Bytes answer() const noexcept {
            return {data.data() + key_len, data.size() - key_len};
        }
    };

    // Entries are made as the cache fills (reserved, so never moved): an idle proxy does not
    // pay for a full cache in resident memory.
    Shard(std::size_t capacity, std::size_t byte_budget)
        : max_entries(capacity), max_bytes(byte_budget) {
        entries.reserve(capacity);
        index.reserve(capacity);
    }

    [[nodiscard]] std::uint32_t take_slot() {
        if (!free.empty()) {
            const std::uint32_t i = free.back();
            free.pop_back();
            return i;
        }
        if (entries.size() < max_entries) {
            entries.emplace_back();
            return static_cast<std::uint32_t>(entries.size() - 1);
        }
        return kNone;
    }

    void link_head(std::uint32_t i) {
        entries[i].older = head;
        entries[i].newer = kNone;
        if (head != kNone) entries[head].newer = i;
        head = i;
        if (tail == kNone) tail = i;
    }

    void unlink(std::uint32_t i) {
        Entry& e = entries[i];
        if (hand == i) hand = e.newer;
        if (e.newer != kNone)
            entries[e.newer].older = e.older;
        else
            head = e.older;
        if (e.older != kNone)
            entries[e.older].newer = e.newer;
        else
            tail = e.newer;
        e.newer = e.older = kNone;
    }

    void remove(std::uint32_t i) {
        Entry& e = entries[i];
        unlink(i);
        index.erase(e.hash);
        bytes -= e.data.size();
        // A large buffer is given back rather than kept for whatever comes next.
        if (e.data.capacity() > 4096) {
            std::vector<std::uint8_t>().swap(e.data);
        } else {
            e.data.clear();
        }
        --count;
        free.push_back(i);
    }

    // SIEVE: from the hand (or the oldest), skip entries hit since the hand last passed
    // (clearing their bit), evict the first that was not.
    void evict() {
        std::uint32_t i = hand != kNone ? hand : tail;
        while (entries[i].visited) {
            entries[i].visited = false;
            i = entries[i].newer != kNone ? entries[i].newer : tail;
        }
        hand = entries[i].newer;
        remove(i);
    }

    std::mutex mutex;
    std::unordered_map<std::uint64_t, std::uint32_t> index;
    std::vector<Entry> entries;
    std::vector<std::uint32_t> free;
    std::uint32_t head = kNone;  // newest
    std::uint32_t tail = kNone;  // oldest
    std::uint32_t hand = kNone;
    std::size_t count = 0;
    std::size_t bytes = 0;  // the live entries' keys and answers
    std::size_t max_entries;
    std::size_t max_bytes;
};

Cache::Cache(const CacheSettings& settings) : settings_(settings) {
    randombytes_buf(hash_key_.data(), hash_key_.size());
    const std::size_t entries = std::max<std::size_t>(settings.max_entries, 1);
    const std::size_t shards = std::clamp<std::size_t>(entries / 256, 1, 16);
    const std::size_t budget = std::max(entries * kAverageBudget, kMinBudget);
    for (std::size_t i = 0; i < shards; ++i) {
        shards_.push_back(std::make_unique<Shard>((entries + shards - 1) / shards,
                                                  std::max(budget / shards, kMaxAnswer * 2)));
    }
}

Cache::~Cache() = default;

std::uint64_t Cache::hash(const Key& key) const noexcept {
    // Keyed (SipHash): query names are chosen by clients, who must not be able to aim at one
    // bucket or one shard.
    static_assert(crypto_shorthash_BYTES == 8 && crypto_shorthash_KEYBYTES == 16);
    std::uint64_t h = 0;
    std::array<std::uint8_t, 8> out{};
    crypto_shorthash(out.data(), key.bytes().data(), key.bytes().size(), hash_key_.data());
    std::memcpy(&h, out.data(), sizeof h);
    return h;
}

Cache::Shard& Cache::shard_of(std::uint64_t h) noexcept {
    return *shards_[(h >> 56) % shards_.size()];
}

Lookup Cache::find(const Key& key, std::uint32_t now, MutableBytes out, bool want_stale) {
    const std::uint64_t h = hash(key);
    Shard& s = shard_of(h);
    const std::lock_guard lock(s.mutex);
    const auto it = s.index.find(h);
    if (it == s.index.end()) return {};
    const std::uint32_t i = it->second;
    auto& e = s.entries[i];
    const Bytes k = e.key();
    if (k.size() != key.bytes().size() ||
        std::memcmp(k.data(), key.bytes().data(), k.size()) != 0) {
        return {};
    }
    Lookup result;
    if (now < e.expires) {
        result.found = Found::Fresh;
        result.ttl_left = e.expires - now;
        e.visited = true;
        ++e.hits;
        if (settings_.prefetch_hits != 0 && e.hits >= settings_.prefetch_hits &&
            e.ttl >= kMinPrefetchTtl && result.ttl_left * 10 <= e.ttl &&
            (e.prefetch_at == 0 || now - e.prefetch_at >= kPrefetchRetry)) {
            result.prefetch = true;
            e.prefetch_at = now;
        }
    } else if (settings_.serve_stale_s != 0 && now - e.expires < settings_.serve_stale_s) {
        if (!want_stale) return {};
        result.found = Found::Stale;
    } else {
        s.remove(i);
        return {};
    }
    const Bytes answer = e.answer();
    result.size = answer.size();
    if (answer.size() <= out.size()) std::memcpy(out.data(), answer.data(), answer.size());
    return result;
}

bool Cache::store(const Key& key, Bytes answer, std::uint32_t now) {
    if (answer.size() > kMaxAnswer || answer.size() < dns::kHeaderSize + key.name_size()) {
        return false;
    }
    // The question must be the key's name written out (no pointer), so that a hit can put the
    // client's spelling of it back in place.
    const auto end = dns::skip_name(answer, dns::kHeaderSize);
    if (!end || *end != dns::kHeaderSize + key.name_size()) return false;
    const auto ttl = cacheable_ttl(answer, settings_.ttl);
    if (!ttl) return false;

    const std::uint64_t h = hash(key);
    Shard& s = shard_of(h);
    const std::lock_guard lock(s.mutex);
    std::uint32_t i = kNone;
    if (const auto it = s.index.find(h); it != s.index.end()) {
        i = it->second;  // the same key refreshed (or, once in 2^64, another key replaced)
        s.bytes -= s.entries[i].data.size();
    } else {
        while (s.count != 0 &&
               (s.count >= s.max_entries || s.bytes + answer.size() > s.max_bytes)) {
            s.evict();
        }
        i = s.take_slot();
        if (i == kNone) return false;
        s.index.emplace(h, i);
        s.link_head(i);
        ++s.count;
        s.entries[i].visited = false;
    }
    auto& e = s.entries[i];
    const Bytes k = key.bytes();
    e.data.assign(k.begin(), k.end());
    e.data.insert(e.data.end(), answer.begin(), answer.end());
    s.bytes += e.data.size();
    e.hash = h;
    e.key_len = static_cast<std::uint16_t>(k.size());
    e.ttl = *ttl;
    e.expires = now + *ttl;
    e.prefetch_at = 0;
    e.hits = 0;
    return true;
}

std::size_t Cache::total(std::size_t Shard::*count) const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        const std::lock_guard lock(s->mutex);
        n += (*s).*count;
    }
    return n;
}

std::size_t Cache::size() const {
    return total(&Shard::count);
}

std::size_t Cache::bytes() const {
    return total(&Shard::bytes);
}

}  // namespace dcp::cache
