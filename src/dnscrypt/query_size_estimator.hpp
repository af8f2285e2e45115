#pragma once
// How much to pad UDP queries (spec section 11). A resolver never sends a UDP answer bigger than
// the query that asked for it, so the padded query size caps the answer size.
//
// The spec grows min-query-len by 64 bytes per truncated answer; the original dnscrypt-proxy did
// the same, globally and forever: a 958-byte answer took 9 truncated round trips to get through.
// Here a truncated answer is retried over TCP at once, and the TCP answer tells the real size:
// min-query-len jumps straight to what that answer needs, so the next query for it fits.
//
// What an answer needs: a padded plaintext at least as long as the answer. dnsdist truncates when
// the query's padded plaintext is shorter than the answer; the spec's server rule (answer + 49 >
// query packet) is looser. roundup64(answer + 1) satisfies both.
//
// Servers also have a UDP ceiling of their own (Debian's dnsdist 1.7 truncates every UDP answer
// beyond about 1.4 KB whatever the padding). A query that was padded for its answer and still
// came back truncated shows that ceiling: it is remembered, and the padding never grows past it
// again, so large answers go to TCP without making every query large for nothing.
//
// To give the bytes back, every kWindow UDP answers min-query-len shrinks to what the largest
// answer of that window needed, never below the floor: 256, or 512 through a relay. A relay
// that follows the specification drops an answer larger than the query it relayed (and
// resolvers pad answers: dnsdist's to a 64-byte multiple plus random blocks), so a relayed query
// padded to 256 lost a third of its answers as silence, which teaches no estimate.
// dnscrypt-proxy 2 starts every query at 512 (InitialMinQuestionSize) for this reason.

#include <cstddef>
#include <cstdint>

#include "dnscrypt/constants.hpp"

namespace dcp::dnscrypt {

class QuerySizeEstimator {
  public:
    static constexpr std::size_t kWindow = 256;

    // `max_packet`: the largest UDP packet we send (the query header included); `floor`: the
    // least padded plaintext length (kMinUdpQueryLength, or kMinRelayedQueryLength).
    explicit QuerySizeEstimator(std::size_t max_packet = 4096,
                                std::size_t floor = kMinUdpQueryLength) noexcept;

    // Padded plaintext length UDP queries must reach (a multiple of 64, at least the floor).
    [[nodiscard]] std::size_t min_query_len() const noexcept { return min_query_len_; }

    // A UDP query padded to `padded_len` and advertising an EDNS payload of `advertised_payload`
    // (512 without OPT) came back truncated; over TCP the answer was `answer_len` bytes. An
    // answer over the advertised payload was truncated by DNS itself, whatever the padding: it
    // teaches nothing about padding.
    void on_truncated(std::size_t padded_len, std::size_t answer_len,
                      std::size_t advertised_payload) noexcept;
    // A UDP query got a complete answer of `answer_len` bytes.
    void on_udp_answer(std::size_t answer_len) noexcept;

    // Padded plaintext length a query needs so that an `answer_len`-byte answer fits (never
    // below `floor`).
    [[nodiscard]] static std::size_t needed_for(std::size_t answer_len,
                                                std::size_t floor = kMinUdpQueryLength) noexcept;

  private:
    std::size_t floor_;
    std::size_t max_query_len_;  // the resolver's UDP ceiling as far as we know it
    std::size_t min_query_len_;
    std::size_t window_count_ = 0;
    std::size_t window_max_answer_ = 0;
};

}  // namespace dcp::dnscrypt
