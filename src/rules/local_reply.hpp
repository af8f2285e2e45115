#pragma once
// Replies the proxy answers from its rules: addresses (cloaking, captive portals, a blocked
// name answered with an address), HINFO (blocked names), PTR, NXDOMAIN, REFUSED. Same ID,
// opcode and RD as the query, QR and RA set; the question as the client wrote it; an OPT record
// when the query had one, echoing DO, with an Extended DNS Error (RFC 8914) saying why when the
// answer is a block.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "dns/error.hpp"
#include "dns/message.hpp"

namespace dcp::rules {

// RFC 8914 info codes used here.
enum class ExtendedError : std::uint16_t { None = 0xffff, ForgedAnswer = 4, Filtered = 17 };

class ReplyWriter {
  public:
    // Starts the reply in `out` (header and question).
    ReplyWriter(const dns::QueryInfo& query, dns::Rcode rcode, MutableBytes out) noexcept;

    // A record owned by the question's name.
    void answer(std::uint16_t type, std::uint32_t ttl, Bytes rdata) noexcept;
    void answer_a(std::span<const std::uint8_t, 4> address, std::uint32_t ttl) noexcept;
    void answer_aaaa(std::span<const std::uint8_t, 16> address, std::uint32_t ttl) noexcept;
    // HINFO with two character-strings.
    void answer_hinfo(std::string_view cpu, std::string_view os, std::uint32_t ttl) noexcept;
    // PTR to `target` (presentation form).
    void answer_ptr(std::string_view target, std::uint32_t ttl) noexcept;
    // SOA in the authority section, owned by the question's parent (RFC 2308 negative caching).
    void authority_soa_of_parent(std::uint32_t ttl, std::uint32_t minimum) noexcept;

    // Writes the OPT record (if the query had one) and the counts; the reply's length.
    [[nodiscard]] dcp::Result<std::size_t, dns::Error> finish(
        ExtendedError ede = ExtendedError::None) noexcept;

  private:
    void record_header(std::uint16_t type, std::uint32_t ttl, std::size_t rdlength) noexcept;
    const dns::QueryInfo& query_;
    MutableBytes out_;
    ByteWriter w_;
    bool ok_ = true;  // every write so far fitted
    std::uint16_t ancount_ = 0;
    std::uint16_t nscount_ = 0;
};

// Copies the A or AAAA records (whatever their owner: CNAME chains flatten) of `answer` into a
// reply to `query`, owned by its name, TTLs capped at `max_ttl`; the answer's rcode is kept.
[[nodiscard]] dcp::Result<std::size_t, dns::Error> write_flattened(const dns::QueryInfo& query,
                                                                   Bytes answer,
                                                                   std::uint32_t max_ttl,
                                                                   MutableBytes out) noexcept;

}  // namespace dcp::rules
