#include "rules/string_table.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>

namespace dcp::rules {

std::uint64_t StringTable::hash(std::string_view key) noexcept {
    // FNV-1a, then a final mix (the low bits index the table). Keys come from the user's own
    // rule files, so a hash an attacker could aim at is no concern: a query name only probes.
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : key) {
        h ^= static_cast<std::uint8_t>(c);
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

const std::uint32_t* StringTable::find(std::string_view key) const noexcept {
    if (slots_.empty() || key.size() > 0xffff) return nullptr;
    const std::uint64_t h = hash(key);
    const auto tag = static_cast<std::uint16_t>(h >> 48);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
        const Slot& s = slots_[i];
        if (s.value == kEmpty) return nullptr;
        if (s.tag == tag && s.len == key.size() &&
            std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0) {
            return &s.value;
        }
    }
}

void StringTable::insert(std::string_view key, std::uint32_t value) {
    if (key.size() > 0xffff) throw std::length_error("rule longer than 65535 bytes");
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    const std::uint64_t h = hash(key);
    const auto tag = static_cast<std::uint16_t>(h >> 48);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
        Slot& s = slots_[i];
        if (s.value == kEmpty) {
            if (arena_.size() + key.size() > 0xffffffffU)
                throw std::length_error("rules too large");
            s.offset = static_cast<std::uint32_t>(arena_.size());
            s.len = static_cast<std::uint16_t>(key.size());
            s.tag = tag;
            s.value = value;
            arena_.insert(arena_.end(), key.begin(), key.end());
            ++size_;
            return;
        }
        if (s.tag == tag && key_of(s) == key) {
            s.value = value;
            return;
        }
    }
}

void add_length(std::vector<std::uint16_t>& lengths, std::uint16_t len) {
    if (std::find(lengths.begin(), lengths.end(), len) != lengths.end()) return;
    lengths.insert(std::upper_bound(lengths.begin(), lengths.end(), len, std::greater<>()), len);
}

void StringTable::grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
        if (s.value == kEmpty) continue;
        const std::uint64_t h = hash(key_of(s));
        std::size_t i = h & mask;
        while (slots_[i].value != kEmpty) i = (i + 1) & mask;
        slots_[i] = s;
    }
}

}  // namespace dcp::rules
