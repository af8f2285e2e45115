#include "dnscrypt/query_size_estimator.hpp"

#include <algorithm>

#include "dnscrypt/padding.hpp"

namespace dcp::dnscrypt {

QuerySizeEstimator::QuerySizeEstimator(std::size_t max_packet) noexcept
    : max_query_len_(max_packet > query::kHeaderSize
                         ? (max_packet - query::kHeaderSize) / kPaddingBlock * kPaddingBlock
                         : 0) {}

std::size_t QuerySizeEstimator::needed_for(std::size_t answer_len) noexcept {
    const std::size_t packet = answer_len + kResponseOverhead;
    const std::size_t plaintext = packet > query::kHeaderSize ? packet - query::kHeaderSize : 0;
    return std::max(kMinUdpQueryLength, round_up_to_block(plaintext));
}

void QuerySizeEstimator::on_truncated(std::size_t answer_len) noexcept {
    const std::size_t needed = needed_for(answer_len);
    // An answer UDP cannot carry at all would only make every query huge: leave it to TCP.
    if (needed <= max_query_len_) min_query_len_ = std::max(min_query_len_, needed);
    window_max_answer_ = std::max(window_max_answer_, needed <= max_query_len_ ? answer_len : 0);
}

void QuerySizeEstimator::on_udp_answer(std::size_t answer_len) noexcept {
    window_max_answer_ = std::max(window_max_answer_, answer_len);
    if (++window_count_ < kWindow) return;
    min_query_len_ = std::min(min_query_len_, needed_for(window_max_answer_));
    window_count_ = 0;
    window_max_answer_ = 0;
}

}  // namespace dcp::dnscrypt
