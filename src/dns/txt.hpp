#pragma once
// TXT record extraction, for DNSCrypt certificates (one certificate per TXT record).

#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "dns/error.hpp"
#include "dns/name.hpp"

namespace dcp::dns {

// For every TXT record of class IN owned by `owner` in the answer section, the concatenation of
// its character-strings, in order. Other records are skipped. A TXT RDATA whose strings overrun
// it, or a malformed message, is an error.
[[nodiscard]] Result<std::vector<std::vector<std::uint8_t>>> extract_txt_answers(Bytes msg,
                                                                                 const Name& owner);

}  // namespace dcp::dns
