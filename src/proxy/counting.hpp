#pragma once
// The statistics counters (SIGUSR1's report) tallied from a query's Tally: the first consumer
// of what QueryProcessor reports. Inline: it runs for every query (bench/callgrind.py).

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/counters.hpp"
#include "proxy/query_event.hpp"

namespace dcp::proxy {

// A counter per reason, per verdict of the rules, per answer filter and per source (null:
// none), indexed by the enums' values.
using Counter = std::uint64_t Counters::*;
constexpr std::array<Counter, 8> kByReason = {nullptr,                             // None
                                              &Counters::dropped_oversized,        // Oversized
                                              &Counters::dropped_malformed,        // Malformed
                                              &Counters::servfail_no_certificate,  // NoServer
                                              &Counters::refused_active_limit,     // Limit
                                              &Counters::servfail_timeout,         // Timeout
                                              &Counters::servfail_upstream_error,  // UpstreamError
                                              nullptr};                            // Unanswerable
constexpr std::array<Counter, 5> kBySource = {nullptr, &Counters::answered, &Counters::cache_hits,
                                              &Counters::cache_stale, nullptr};
constexpr std::array<Counter, 3> kByFilter = {nullptr, &Counters::blocked_ips,
                                              &Counters::blocked_names};
static_assert(kByReason.size() == static_cast<std::size_t>(Reason::Unanswerable) + 1);
static_assert(kBySource.size() == static_cast<std::size_t>(Source::Rule) + 1);
static_assert(kByFilter.size() == static_cast<std::size_t>(AnswerFilter::BlockedName) + 1);

constexpr std::array<Counter, 9> kByVerdict = {nullptr,                            // Pass
                                               &Counters::blocked_names,           // Blocked
                                               &Counters::blocked_ipv6,            // BlockedIpv6
                                               &Counters::blocked_local_names,     // Unqualified
                                               &Counters::blocked_local_names,     // Undelegated
                                               &Counters::cloaked,                 // Cloaked
                                               &Counters::cloaked,                 // CloakedTarget
                                               &Counters::captive_portal_answers,  // Captive
                                               nullptr};                           // Forward
static_assert(kByVerdict.size() == static_cast<std::size_t>(rules::Verdict::Forward) + 1);

// Most queries have neither a reason nor a verdict nor a filter: each is looked up only when
// there is one (this runs for every query; bench/callgrind.py).
inline void tally_counters(const Tally& e, Counters& c) {
    if (e.reason != Reason::None) {
        if (const Counter m = kByReason[static_cast<std::size_t>(e.reason)]) ++(c.*m);
    }
    if (const Counter m = kBySource[static_cast<std::size_t>(e.source)]) {
        ++(c.*m);
    } else if (e.outcome == Outcome::Truncated && e.source == Source::None) {
        ++c.tc_tcp_only;  // TC at once with no answer behind it: --tcp-only
    }
    if (const Counter m = kByVerdict[static_cast<std::size_t>(e.verdict)]) ++(c.*m);
    if (e.filter != AnswerFilter::None) ++(c.*kByFilter[static_cast<std::size_t>(e.filter)]);
    if (e.forwarded) ++c.forwarded;
}

}  // namespace dcp::proxy
