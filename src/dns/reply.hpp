#pragma once
// Replies the proxy writes itself: TC=1 (retry over TCP), SERVFAIL, REFUSED; and truncation of a
// real answer to what the client can receive.

#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "dns/constants.hpp"
#include "dns/error.hpp"
#include "dns/message.hpp"

namespace dcp::dns {

// The UDP payload size we advertise in OPT records of replies we write ourselves.
inline constexpr std::uint16_t kSynthesizedOptPayload = 1232;

// Writes a reply to the query described by `info` into `out`: same ID, opcode, RD and CD, QR and
// RA set, the question copied, no records; TC set when `truncated`. If the query carried an OPT,
// the reply carries one too (RFC 6891 7), echoing the DO bit. Returns the reply length.
[[nodiscard]] Result<std::size_t> write_reply(const QueryInfo& info, Rcode rcode, bool truncated,
                                              MutableBytes out) noexcept;

// Makes the response in the first `len` bytes of `msg` fit in `limit` bytes. A response that
// fits is left alone. Otherwise it becomes header + question (+ its OPT record, if any, if it
// fits and carries under 512 bytes of options) with TC set and no other records: a valid message
// that tells the client to retry over TCP. Returns the new length. A response without exactly
// one question cannot be truncated (NoQuestion).
[[nodiscard]] Result<std::size_t> truncate_response(MutableBytes msg, std::size_t len,
                                                    std::size_t limit) noexcept;

}  // namespace dcp::dns
