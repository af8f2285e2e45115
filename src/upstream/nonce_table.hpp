#pragma once
// Pending queries by client nonce: an open-addressing table (linear probing, backward-shift
// deletion) that allocates only when it grows, never per query. Keys are the first 8 bytes of
// the nonce half, which the proxy draws at random, so they need no further hashing; a reply's
// nonce may be chosen by an attacker, but it can only probe runs made of our random keys.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dcp::upstream {

template <class T>
class NonceTable {
  public:
    explicit NonceTable(std::size_t initial_capacity = 1024) {
        std::size_t cap = 16;
        while (cap < initial_capacity) cap *= 2;
        slots_.resize(cap);
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

    // Returns false (and changes nothing) when the key is present already.
    bool insert(std::uint64_t key, T* value) {
        if ((size_ + 1) * 2 > slots_.size()) grow();
        return place(key, value);
    }

    [[nodiscard]] T* find(std::uint64_t key) const noexcept {
        for (std::size_t i = index(key);; i = next(i)) {
            const Slot& s = slots_[i];
            if (s.value == nullptr) return nullptr;
            if (s.key == key) return s.value;
        }
    }

    // Returns whether the key was present.
    bool erase(std::uint64_t key) noexcept {
        std::size_t i = index(key);
        for (;; i = next(i)) {
            if (slots_[i].value == nullptr) return false;
            if (slots_[i].key == key) break;
        }
        // Backward shift: move later members of the run into the hole when their home allows,
        // so that lookups never need tombstones.
        std::size_t hole = i;
        for (std::size_t j = next(i);; j = next(j)) {
            Slot& s = slots_[j];
            if (s.value == nullptr) break;
            const std::size_t home = index(s.key);
            // s may move to `hole` when its home is not in (hole, j] (cyclically).
            const bool home_in_between =
                hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (!home_in_between) {
                slots_[hole] = s;
                hole = j;
            }
        }
        slots_[hole] = Slot{};
        --size_;
        return true;
    }

  private:
    struct Slot {
        std::uint64_t key = 0;
        T* value = nullptr;
    };

    [[nodiscard]] std::size_t index(std::uint64_t key) const noexcept {
        return static_cast<std::size_t>(key) & (slots_.size() - 1);
    }
    [[nodiscard]] std::size_t next(std::size_t i) const noexcept {
        return (i + 1) & (slots_.size() - 1);
    }

    bool place(std::uint64_t key, T* value) noexcept {
        for (std::size_t i = index(key);; i = next(i)) {
            Slot& s = slots_[i];
            if (s.value == nullptr) {
                s = Slot{key, value};
                ++size_;
                return true;
            }
            if (s.key == key) return false;
        }
    }

    void grow() {
        std::vector<Slot> old(slots_.size() * 2);
        old.swap(slots_);
        size_ = 0;
        for (const Slot& s : old) {
            if (s.value != nullptr) place(s.key, s.value);
        }
    }

    std::vector<Slot> slots_;
    std::size_t size_ = 0;
};

}  // namespace dcp::upstream
