#pragma once
// One counter per outcome and per drop reason. Each worker owns its own Counters (no sharing,
// no atomics on the query path); totals are summed when they are reported.

#include <cstdint>
#include <string>

namespace dcp {

#define DCP_COUNTERS(X)                                                                           \
    X(queries_udp, "queries received over UDP")                                                   \
    X(queries_tcp, "queries received over TCP")                                                   \
    X(answered, "answers relayed from the resolver")                                              \
    X(dropped_malformed, "client messages dropped: not a well-formed query")                      \
    X(dropped_oversized, "client messages dropped: larger than a query can be")                   \
    X(servfail_no_certificate,                                                                    \
      "SERVFAIL: no server usable (no valid certificate, DoH unreachable)")                       \
    X(servfail_timeout, "SERVFAIL: the resolver did not answer in time")                          \
    X(servfail_upstream_error, "SERVFAIL: the resolver could not be reached or answered badly")   \
    X(tc_tcp_only, "TC replies to UDP clients in TCP-only mode")                                  \
    X(truncated_for_client, "answers truncated to the client's UDP limit")                        \
    X(upstream_truncated, "truncated answers from the resolver over UDP")                         \
    X(upstream_tcp_retries, "queries retried over TCP after a truncated UDP answer")              \
    X(upstream_udp_cannot_pad, "queries sent over TCP because UDP could not carry them")          \
    X(upstream_tcp_queries, "encrypted queries sent over TCP")                                    \
    X(upstream_udp_queries, "encrypted queries sent over UDP")                                    \
    X(upstream_tcp_connections, "TCP connections opened to the resolver")                         \
    X(upstream_tcp_reused, "encrypted queries sent on a TCP connection kept from an earlier one") \
    X(reply_bad_magic, "resolver packets dropped: bad magic or length")                           \
    X(reply_unknown_nonce, "resolver packets dropped: no pending query with that nonce")          \
    X(reply_auth_failed, "resolver packets dropped: authentication failed")                       \
    X(reply_bad_padding, "resolver packets dropped: bad padding or too short")                    \
    X(reply_mismatch, "resolver packets dropped: answer does not match the query")                \
    X(refused_active_limit, "SERVFAIL at once: --max-active-requests queries already waiting")    \
    X(tcp_connections, "client TCP connections accepted")                                         \
    X(tcp_refused_limit, "client TCP connections refused: connection limit")                      \
    X(tcp_evicted, "client TCP connections closed at the limit to make room (the quietest)")      \
    X(tcp_idle_closed, "client TCP connections closed after being idle")                          \
    X(tcp_read_timeouts, "client TCP connections closed: a query not sent whole in time")         \
    X(tcp_write_timeouts, "client TCP connections closed: answers not read (in time, or at all)") \
    X(tcp_bad_frames, "client TCP connections closed: a zero-length message")                     \
    X(tcp_accept_errors, "client TCP connections that could not be accepted (out of files...)")   \
    X(upstream_failovers, "queries asked of another server after a failure or no answer in time") \
    X(upstream_hedges, "hedged queries: another server asked while the first was slow")           \
    X(upstream_hedges_won, "hedged queries answered first by the server asked second")            \
    X(doh_connections, "TLS connections opened to DoH servers (one handshake each)")              \
    X(doh_queries, "queries sent to DoH servers (HTTP/2 streams)")                                \
    X(doh_retries, "DoH queries sent again on a new connection after theirs closed unanswered")   \
    X(doh_errors, "DoH answers refused: HTTP status, content type, size or question")             \
    X(cache_hits, "answers from the cache")                                                       \
    X(cache_misses, "queries not in the cache, asked upstream")                                   \
    X(cache_stale, "expired cached answers given while the resolvers failed (serve-stale)")       \
    X(cache_prefetches, "popular cache entries refreshed before they expired")                    \
    X(blocked_names, "queries blocked by name (blocked_names, or a CNAME to a blocked name)")     \
    X(blocked_ips, "answers blocked for an address they carry (blocked_ips)")                     \
    X(blocked_ipv6, "AAAA queries answered here (block_ipv6)")                                    \
    X(blocked_local_names, "NXDOMAIN here: unqualified or undelegated names")                     \
    X(cloaked, "queries answered from cloaking rules")                                            \
    X(captive_portal_answers, "queries answered from the captive portal list")                    \
    X(forwarded, "queries sent to a forwarding rule's servers")                                   \
    X(cert_refreshes, "successful certificate fetches")                                           \
    X(cert_refresh_failures, "failed certificate fetches")                                        \
    X(cert_rotations, "certificate changes picked up")                                            \
    X(handler_exceptions, "internal errors caught at the top of a query handler")

struct Counters {
#define DCP_COUNTER_FIELD(name, help) std::uint64_t name = 0;
    DCP_COUNTERS(DCP_COUNTER_FIELD)
#undef DCP_COUNTER_FIELD

    Counters& operator+=(const Counters& o) noexcept {
#define DCP_COUNTER_ADD(name, help) name += o.name;
        DCP_COUNTERS(DCP_COUNTER_ADD)
#undef DCP_COUNTER_ADD
        return *this;
    }

    // "name=value ..." for every non-zero counter, in declaration order.
    [[nodiscard]] std::string to_string() const {
        std::string out;
#define DCP_COUNTER_TEXT(name, help)             \
    if (name != 0) {                             \
        if (!out.empty()) out += ' ';            \
        out += #name "=" + std::to_string(name); \
    }
        DCP_COUNTERS(DCP_COUNTER_TEXT)
#undef DCP_COUNTER_TEXT
        return out.empty() ? "(all zero)" : out;
    }
};

}  // namespace dcp
