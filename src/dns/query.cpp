#include "dns/query.hpp"

#include <algorithm>

namespace dcp::dns {

Result<std::size_t> write_query(std::uint16_t id, const Name& name, RecordType type,
                                MutableBytes out) noexcept {
    ByteWriter w(out);
    const bool ok = w.u16(id) && w.u16(flags::kRd) && w.u16(1) && w.u16(0) && w.u16(0) &&
                    w.u16(0) && w.bytes(name.wire()) && w.u16(static_cast<std::uint16_t>(type)) &&
                    w.u16(static_cast<std::uint16_t>(RecordClass::IN));
    if (!ok) return Unexpected(Error::NoSpace);
    return w.position();
}

namespace {

// The length of the name at the header's end (0: none). It is never compressed there: a
// pointer must point before itself and at or past the header, which skip_name refuses.
std::size_t question_name_length(Bytes msg) noexcept {
    const auto end = skip_name(msg, kHeaderSize);
    return end ? *end - kHeaderSize : 0;
}

bool is_letter(std::uint8_t c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

std::size_t randomize_question_case(MutableBytes query,
                                    std::span<const std::uint8_t> bits) noexcept {
    const std::size_t n = question_name_length(query);
    if (n == 0 || bits.empty()) return 0;
    std::size_t letters = 0;
    std::size_t at = kHeaderSize;
    while (query[at] != 0) {
        const std::size_t end = at + 1 + query[at];
        for (std::size_t i = at + 1; i < end; ++i) {
            if (!is_letter(query[i])) continue;
            const std::size_t bit = letters % (bits.size() * 8);
            const bool upper = (bits[bit / 8] >> (bit % 8)) & 1U;
            query[i] = static_cast<std::uint8_t>(upper ? (query[i] & ~0x20U) : (query[i] | 0x20U));
            ++letters;
        }
        at = end;
    }
    return letters;
}

bool same_question_spelling(Bytes answer, Bytes query) noexcept {
    const std::size_t n = question_name_length(query);
    if (n == 0 || question_name_length(answer) != n) return false;
    return std::equal(query.begin() + kHeaderSize,
                      query.begin() + kHeaderSize + static_cast<std::ptrdiff_t>(n),
                      answer.begin() + kHeaderSize);
}

void copy_question_spelling(MutableBytes answer, Bytes query) noexcept {
    const std::size_t n = question_name_length(query);
    if (n == 0 || question_name_length(answer) != n) return;
    std::copy(query.begin() + kHeaderSize,
              query.begin() + kHeaderSize + static_cast<std::ptrdiff_t>(n),
              answer.begin() + kHeaderSize);
}

}  // namespace dcp::dns
