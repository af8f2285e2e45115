#pragma once
// DNSCrypt padding (spec section 8): ISO/IEC 7816-4 style, 0x80 then zeros.
//
// UDP follows the spec rule: the padded plaintext is at least min_query_len (a multiple of 64,
// initially 256) and a multiple of 64. Over TCP the pad is random, 1..256 bytes, keeping the
// padded length a multiple of 64: more than 256 bytes makes dnsdist drop the connection.

#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "dnscrypt/constants.hpp"
#include "dnscrypt/error.hpp"

namespace dcp::dnscrypt {

[[nodiscard]] constexpr std::size_t round_up_to_block(std::size_t n) noexcept {
    return (n + kPaddingBlock - 1) / kPaddingBlock * kPaddingBlock;
}

// Padded plaintext length for a DNS message of `message_len` bytes over UDP. `min_query_len` is
// rounded up to a multiple of 64. Fails with CannotPad when the whole packet (68-byte header +
// `extra_header`, e.g. 28 for a relay, + padded plaintext) would exceed `max_packet`: the caller
// then sends over TCP.
[[nodiscard]] PacketResult<std::size_t> udp_padded_length(std::size_t message_len,
                                                          std::size_t min_query_len,
                                                          std::size_t max_packet,
                                                          std::size_t extra_header = 0) noexcept;

// Padded plaintext length over TCP: roundup64(len + 1) + 64 * extra_blocks, extra_blocks in
// 0..3 chosen by the caller at random (the pad then stays within 1..256 bytes).
[[nodiscard]] std::size_t tcp_padded_length(std::size_t message_len,
                                            std::uint32_t extra_blocks) noexcept;
inline constexpr std::uint32_t kTcpPaddingChoices = 4;

// Writes the delimiter and zeros after the message: buf[message_len, padded_len).
void pad(MutableBytes buf, std::size_t message_len, std::size_t padded_len) noexcept;

// Length of the message once its padding is removed: scan back over zeros, the first non-zero
// byte must be 0x80. The spec does not promise 64-byte alignment of what servers send, so this
// does not insist on it (libsodium's sodium_unpad does, hence not used here).
[[nodiscard]] PacketResult<std::size_t> unpadded_length(Bytes padded) noexcept;

}  // namespace dcp::dnscrypt
