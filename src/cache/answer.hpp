#pragma once
// What the cache needs to know about an answer, and the rewriting of a cached answer for the
// client that asks: pure functions on wire bytes.

#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "dns/message.hpp"

namespace dcp::cache {

// Set by config::validate() from the options (their defaults: config/options.hpp, once).
struct TtlLimits {
    std::uint32_t min_ttl = 0;
    std::uint32_t max_ttl = 0;
    std::uint32_t neg_min_ttl = 0;
    std::uint32_t neg_max_ttl = 0;
};

// How long `answer` (a whole, checked answer to a one-question query) may be kept, or nothing
// when it must not be: truncated, or an rcode other than NOERROR and NXDOMAIN. Positive: the
// lowest TTL of its records (OPT aside), clamped to [min_ttl, max_ttl]. Negative (NXDOMAIN, or
// NOERROR without an answer record): RFC 2308, min(SOA TTL, SOA MINIMUM) of the authority's
// SOA, clamped to [neg_min_ttl, neg_max_ttl]; neg_min_ttl without an SOA.
[[nodiscard]] std::optional<std::uint32_t> cacheable_ttl(Bytes answer, const TtlLimits& limits);

// Sets the TTL of every record but OPT. False when the message does not parse.
bool set_ttls(MutableBytes message, std::uint32_t ttl) noexcept;

}  // namespace dcp::cache
