#include "dnscrypt/padding.hpp"

#include <algorithm>
#include <cstring>

namespace dcp::dnscrypt {

PacketResult<std::size_t> udp_padded_length(std::size_t message_len, std::size_t min_query_len,
                                            std::size_t max_packet,
                                            std::size_t extra_header) noexcept {
    if (message_len > kMaxDnsMessage) return Unexpected(PacketError::TooLarge);
    const std::size_t padded =
        std::max(round_up_to_block(min_query_len), round_up_to_block(message_len + 1));
    const std::size_t overhead = query::kHeaderSize + extra_header;
    if (max_packet < overhead || padded > max_packet - overhead) {
        return Unexpected(PacketError::CannotPad);
    }
    return padded;
}

std::size_t tcp_padded_length(std::size_t message_len, std::uint32_t extra_blocks) noexcept {
    return round_up_to_block(message_len + 1) +
           kPaddingBlock * std::min<std::size_t>(extra_blocks, kTcpPaddingChoices - 1);
}

void pad(MutableBytes buf, std::size_t message_len, std::size_t padded_len) noexcept {
    buf[message_len] = kPaddingDelimiter;
    std::memset(buf.data() + message_len + 1, 0, padded_len - message_len - 1);
}

PacketResult<std::size_t> unpadded_length(Bytes padded) noexcept {
    std::size_t i = padded.size();
    // Eight bytes at a time while all are zero: answers carry up to a few hundred bytes of
    // padding, and a byte loop with an early exit does not vectorise (callgrind: ~950
    // instructions per answer).
    while (i >= sizeof(std::uint64_t)) {
        std::uint64_t word = 0;
        std::memcpy(&word, padded.data() + i - sizeof(word), sizeof(word));
        if (word != 0) break;
        i -= sizeof(word);
    }
    while (i > 0 && padded[i - 1] == 0) --i;
    if (i == 0 || padded[i - 1] != kPaddingDelimiter) return Unexpected(PacketError::BadPadding);
    return i - 1;
}

}  // namespace dcp::dnscrypt
