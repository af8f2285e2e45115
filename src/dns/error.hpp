#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.hpp"

namespace dcp::dns {

// Why a message was refused. Network garbage is normal: these are values, never exceptions.
enum class Error : std::uint8_t {
    ShortPacket,       // ends inside a header, question or record
    TooLarge,          // over 65535 bytes
    NotAQuery,         // QR set on something that should be a query
    NotAResponse,      // QR clear on something that should be a response
    NoQuestion,        // QDCOUNT is 0
    TooManyQuestions,  // QDCOUNT > 1 (no server answers those)
    BadLabelType,      // 0x40/0x80 label types (obsolete extended/binary labels)
    NameTooLong,       // over 255 bytes in wire form
    BadPointer,        // compression pointer forward, into the header, or past the end
    TrailingData,      // bytes after the last record
    MultipleOpt,       // more than one OPT record (RFC 6891 6.1.1)
    BadOpt,            // OPT record with a non-root owner name or outside the additional section
    NoSpace,           // the output buffer cannot hold the result
    IdMismatch,        // response ID differs from the query's
    QuestionMismatch,  // response question differs from the query's
    BadName,           // presentation-form name that cannot be encoded
};

[[nodiscard]] std::string_view to_string(Error e) noexcept;

template <class T>
using Result = dcp::Result<T, Error>;

}  // namespace dcp::dns
