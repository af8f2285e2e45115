#pragma once
// Views over a DNS message: the header, the question, and where each section and the OPT record
// sit. Nothing is unpacked and repacked; callers rewrite bytes in place.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "dns/constants.hpp"
#include "dns/error.hpp"
#include "dns/name.hpp"

namespace dcp::dns {

struct Header {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    std::uint16_t qdcount = 0;
    std::uint16_t ancount = 0;
    std::uint16_t nscount = 0;
    std::uint16_t arcount = 0;

    [[nodiscard]] bool qr() const noexcept { return (flags & flags::kQr) != 0; }
    [[nodiscard]] bool tc() const noexcept { return (flags & flags::kTc) != 0; }
    [[nodiscard]] bool rd() const noexcept { return (flags & flags::kRd) != 0; }
    [[nodiscard]] std::uint8_t rcode() const noexcept {
        return static_cast<std::uint8_t>(flags & flags::kRcodeMask);
    }
};

[[nodiscard]] Result<Header> parse_header(Bytes msg) noexcept;

// One resource record, located in the message.
struct Record {
    std::size_t offset = 0;  // start of the owner name
    std::uint16_t type = 0;
    std::uint16_t klass = 0;
    std::uint32_t ttl = 0;
    std::size_t rdata_offset = 0;
    std::uint16_t rdlength = 0;
    [[nodiscard]] std::size_t end() const noexcept { return rdata_offset + rdlength; }
};

[[nodiscard]] Result<Record> read_record(Bytes msg, std::size_t offset) noexcept;

// The OPT pseudo-record (RFC 6891 6.1.2).
struct OptRecord {
    std::size_t offset = 0;  // start of the record (its root owner name)
    std::size_t end = 0;     // just past its RDATA
    std::uint16_t udp_payload = 0;
    std::uint8_t extended_rcode = 0;
    std::uint8_t version = 0;
    std::uint16_t flags = 0;  // DO bit and Z
    [[nodiscard]] bool dnssec_ok() const noexcept { return (flags & kOptFlagDo) != 0; }
};

// Where everything is. Every name is checked, every record bounded, at most one OPT (in the
// additional section, with the root as owner), no bytes after the last record.
struct Layout {
    Header header;
    std::size_t answer_offset = 0;
    std::size_t authority_offset = 0;
    std::size_t additional_offset = 0;
    std::size_t end = 0;
    std::optional<OptRecord> opt;
};

[[nodiscard]] Result<Layout> parse_layout(Bytes msg) noexcept;

struct Question {
    Name name;
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
};

// What the proxy needs to know about a client's query.
struct QueryInfo {
    Header header;
    Question question;
    std::size_t question_end = 0;  // offset just past QTYPE/QCLASS
    std::optional<OptRecord> opt;
    std::size_t size = 0;

    // The largest UDP answer the client gets: 512 without OPT, its advertised size with one
    // (never below 512, RFC 6891 6.2.5, and never above kMaxClientUdpLimit).
    [[nodiscard]] std::uint16_t client_udp_limit() const noexcept;
};

// A message a client may send us: QR clear, exactly one question, well formed.
[[nodiscard]] Result<QueryInfo> parse_query(Bytes msg) noexcept;
// The same into `out` (left unspecified on error): a QueryInfo is some 300 bytes, and the
// proxy parses every query into the slot that keeps it, instead of copying it there.
[[nodiscard]] Result<void> parse_query(Bytes msg, QueryInfo& out) noexcept;

// Reads the single question at offset 12 (qdcount must be 1); returns the offset past it.
[[nodiscard]] Result<std::size_t> read_question(Bytes msg, Question& out) noexcept;

// A response belongs to a query when QR is set, the ID is the same and the question is the same
// (name case-insensitively, type and class exactly).
[[nodiscard]] dcp::Result<void, Error> check_response_matches(Bytes response, std::uint16_t id,
                                                              const Question& question) noexcept;

}  // namespace dcp::dns
