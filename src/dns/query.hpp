#pragma once
// Building plain queries, for the certificate TXT query the proxy sends itself; the question's
// letters in random case for plain DNS (draft-vixie-dnsext-dns0x20), and the check of it.

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/bytes.hpp"
#include "dns/constants.hpp"
#include "dns/error.hpp"
#include "dns/name.hpp"

namespace dcp::dns {

// Header with the given ID and RD set, one question, no records. Returns the length.
[[nodiscard]] Result<std::size_t> write_query(std::uint16_t id, const Name& name, RecordType type,
                                              MutableBytes out) noexcept;

// Sets each letter of the question name (at the header's end, uncompressed) to upper or lower
// case by one bit of `bits` each, cycling through them. Returns the letters changed or kept:
// the name's bits of entropy an off-path forger must guess along with the ID and port.
std::size_t randomize_question_case(MutableBytes query,
                                    std::span<const std::uint8_t> bits) noexcept;

// Whether the question name of `answer` is spelled byte for byte as `query`'s (both at the
// header's end). False for anything malformed.
[[nodiscard]] bool same_question_spelling(Bytes answer, Bytes query) noexcept;

// Writes `query`'s question name over `answer`'s (same length: only the case differs).
void copy_question_spelling(MutableBytes answer, Bytes query) noexcept;

}  // namespace dcp::dns
