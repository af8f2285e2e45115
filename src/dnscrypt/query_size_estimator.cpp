#include "dnscrypt/query_size_estimator.hpp"

#include <algorithm>

#include "dnscrypt/padding.hpp"

namespace dcp::dnscrypt {

QuerySizeEstimator::QuerySizeEstimator(std::size_t max_packet, std::size_t floor) noexcept
    : max_query_len_(max_packet > query::kHeaderSize
                         ? (max_packet - query::kHeaderSize) / kPaddingBlock * kPaddingBlock
                         : 0) {
    // Never above what fits in the largest packet: then the floor is that.
    floor_ = std::min(round_up_to_block(std::max(floor, kMinUdpQueryLength)),
                      std::max(max_query_len_, kMinUdpQueryLength));
    min_query_len_ = floor_;
}

std::size_t QuerySizeEstimator::needed_for(std::size_t answer_len, std::size_t floor) noexcept {
    return std::max(floor, round_up_to_block(answer_len + 1));
}

void QuerySizeEstimator::on_truncated(std::size_t padded_len, std::size_t answer_len,
                                      std::size_t advertised_payload) noexcept {
    if (answer_len > advertised_payload) return;
    const std::size_t needed = needed_for(answer_len, floor_);
    if (padded_len >= needed && padded_len > floor_) {
        // Padded enough and still truncated: the resolver's UDP ceiling is below this query.
        max_query_len_ = std::max(floor_, padded_len - kPaddingBlock);
        min_query_len_ = std::min(min_query_len_, max_query_len_);
        return;
    }
    // An answer over the ceiling would only make every query large for nothing: leave it to TCP.
    if (needed <= max_query_len_) {
        min_query_len_ = std::max(min_query_len_, needed);
        window_max_answer_ = std::max(window_max_answer_, answer_len);
    }
}

void QuerySizeEstimator::on_udp_answer(std::size_t answer_len) noexcept {
    window_max_answer_ = std::max(window_max_answer_, answer_len);
    if (++window_count_ < kWindow) return;
    min_query_len_ =
        std::min({min_query_len_, needed_for(window_max_answer_, floor_), max_query_len_});
    window_count_ = 0;
    window_max_answer_ = 0;
}

}  // namespace dcp::dnscrypt
