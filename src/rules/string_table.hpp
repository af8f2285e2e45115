#pragma once
// A set of strings, each with a 32-bit value, for rule lists of hundreds of thousands of names:
// the keys live end to end in one arena and the table holds 12-byte slots (open addressing,
// linear probing, at most 3/4 full), so an entry costs its length plus about 16 bytes, and a
// lookup hashes the key once and compares a few slots.

#include <cstdint>
#include <string_view>
#include <vector>

namespace dcp::rules {

class StringTable {
  public:
    // Adds `key`, or gives it the new value when it is already there.
    void insert(std::string_view key, std::uint32_t value);
    [[nodiscard]] const std::uint32_t* find(std::string_view key) const noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return arena_.capacity() + slots_.capacity() * sizeof(Slot);
    }
    void shrink_to_fit() { arena_.shrink_to_fit(); }

  private:
    struct Slot {
        std::uint32_t offset = 0;
        std::uint32_t value = kEmpty;
        std::uint16_t len = 0;
        std::uint16_t tag = 0;  // 16 bits of the hash: most mismatches never touch the arena
    };
    static constexpr std::uint32_t kEmpty = 0xffffffffU;

    [[nodiscard]] static std::uint64_t hash(std::string_view key) noexcept;
    [[nodiscard]] std::string_view key_of(const Slot& s) const noexcept {
        return {arena_.data() + s.offset, s.len};
    }
    void grow();

    std::vector<char> arena_;
    std::vector<Slot> slots_;
    std::size_t size_ = 0;
};

// The distinct key lengths of a table of prefixes, longest first: a lookup probes the table
// once per length (the longest match wins).
void add_length(std::vector<std::uint16_t>& lengths, std::uint16_t len);

}  // namespace dcp::rules
