#pragma once
// The DNS side of DNS-over-HTTPS (RFC 8484), without HTTP: the query as it goes in a POST body
// (DNS ID 0, §4.1, so that caches see one message per question; EDNS(0) padding to 128-byte
// blocks, RFC 8467 §4.1, so that its length says little about the name) and the answer as it
// comes back (the same question, the client's ID restored, an OPT record we added taken out).
// Pure: no I/O.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "dns/error.hpp"
#include "dns/message.hpp"

namespace dcp::doh {

inline constexpr std::size_t kPaddingBlock = 128;
// The largest DNS message over HTTP (RFC 8484 §6 does not cap it; DNS over TCP does).
inline constexpr std::size_t kMaxMessage = 65535;
inline constexpr std::string_view kContentType = "application/dns-message";

struct PreparedQuery {
    bool opt_added = false;  // the answer's OPT record is ours, not the client's: remove it
};

// Writes the query to send into `out` (replacing its contents): `query` (whose layout `info`
// describes) with ID 0 and an EDNS(0) Padding option (RFC 7830) that brings its length to a
// multiple of 128 bytes; an OPT record is appended when the query has none, and a query that
// already carries a Padding option keeps it as it is.
[[nodiscard]] dcp::Result<PreparedQuery, dns::Error> prepare_query(Bytes query,
                                                                   const dns::QueryInfo& info,
                                                                   std::vector<std::uint8_t>& out);

enum class AnswerError : std::uint8_t {
    Malformed,     // not a DNS message
    NotAnAnswer,   // QR clear, or another ID than the 0 we sent
    WrongQuestion  // an answer to another question
};
[[nodiscard]] std::string_view to_string(AnswerError e) noexcept;

// Checks an answer body in place and makes it the client's: the same question, QR set, ID 0 on
// the wire, then the client's ID written back and (when `prepared.opt_added`) the OPT record
// removed. The answer's new length.
[[nodiscard]] dcp::Result<std::size_t, AnswerError> finish_answer(MutableBytes answer,
                                                                  const dns::QueryInfo& info,
                                                                  PreparedQuery prepared);

// Whether a Content-Type header names a DNS message (parameters and case ignored).
[[nodiscard]] bool is_dns_message_type(std::string_view content_type) noexcept;

}  // namespace dcp::doh
