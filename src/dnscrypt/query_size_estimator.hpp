#pragma once
// How much to pad UDP queries (spec section 11). A resolver never sends a UDP answer bigger than
// the query that asked for it, so the padded query size caps the answer size.
//
// The spec grows min-query-len by 64 bytes per truncated answer; the original dnscrypt-proxy did
// the same, globally and forever: a 958-byte answer took 9 truncated round trips to get through.
// Here a truncated answer is retried over TCP at once, and the TCP answer tells the real size:
// min-query-len jumps straight to what that answer needs (when UDP can carry it at all), so the
// next query for it fits. To give the bytes back, every kWindow UDP answers min-query-len shrinks
// to what the largest answer of that window needed, never below 256.

#include <cstddef>
#include <cstdint>

#include "dnscrypt/constants.hpp"

namespace dcp::dnscrypt {

class QuerySizeEstimator {
  public:
    static constexpr std::size_t kWindow = 256;
    // Worst case a resolver adds to an answer: header, tag, and up to 256 bytes of padding.
    static constexpr std::size_t kResponseOverhead = response::kHeaderSize + 256;

    // `max_packet`: the largest UDP packet we send (the query header included).
    explicit QuerySizeEstimator(std::size_t max_packet = 4096) noexcept;

    // Padded plaintext length UDP queries must reach (a multiple of 64, at least 256).
    [[nodiscard]] std::size_t min_query_len() const noexcept { return min_query_len_; }

    // A UDP query came back truncated; over TCP the answer was `answer_len` bytes.
    void on_truncated(std::size_t answer_len) noexcept;
    // A UDP query got a complete answer of `answer_len` bytes.
    void on_udp_answer(std::size_t answer_len) noexcept;

    // Padded plaintext length a query needs so that an `answer_len`-byte answer fits.
    [[nodiscard]] static std::size_t needed_for(std::size_t answer_len) noexcept;

  private:
    std::size_t max_query_len_;
    std::size_t min_query_len_ = kMinUdpQueryLength;
    std::size_t window_count_ = 0;
    std::size_t window_max_answer_ = 0;
};

}  // namespace dcp::dnscrypt
