#pragma once
// Building plain queries, for the certificate TXT query the proxy sends itself.

#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "dns/constants.hpp"
#include "dns/error.hpp"
#include "dns/name.hpp"

namespace dcp::dns {

// Header with the given ID and RD set, one question, no records. Returns the length.
[[nodiscard]] Result<std::size_t> write_query(std::uint16_t id, const Name& name, RecordType type,
                                              MutableBytes out) noexcept;

}  // namespace dcp::dns
