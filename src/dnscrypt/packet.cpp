#include "dnscrypt/packet.hpp"

#include <algorithm>
#include <cstring>

#include "dnscrypt/padding.hpp"

namespace dcp::dnscrypt {

PacketResult<std::size_t> encrypt_query(const QueryKeys& keys, Bytes query,
                                        const ClientNonceHalf& nonce_half, std::size_t padded_len,
                                        MutableBytes out) noexcept {
    if (query.size() >= padded_len) return Unexpected(PacketError::CannotPad);
    if (out.size() < query::kHeaderSize || padded_len > out.size() - query::kHeaderSize) {
        return Unexpected(PacketError::NoSpace);
    }
    auto plaintext = out.subspan(query::kHeaderSize, padded_len);
    std::memmove(plaintext.data(), query.data(), query.size());
    pad(plaintext, query.size(), padded_len);

    std::memcpy(out.data() + query::kClientMagicOffset, keys.client_magic.data(),
                keys.client_magic.size());
    std::memcpy(out.data() + query::kClientPkOffset, keys.client_public_key.data(),
                keys.client_public_key.size());
    std::memcpy(out.data() + query::kNonceOffset, nonce_half.data(), nonce_half.size());

    crypto::Nonce nonce{};  // client half || 12 zero bytes (spec section 7)
    std::copy(nonce_half.begin(), nonce_half.end(), nonce.begin());
    keys.shared_key.seal(plaintext, out.subspan<query::kMacOffset, crypto::kMacSize>(), nonce);
    return query::kHeaderSize + padded_len;
}

PacketResult<ClientNonceHalf> response_nonce_half(Bytes packet) noexcept {
    if (packet.size() < response::kHeaderSize + kMinDnsMessage) {
        return Unexpected(PacketError::ShortPacket);
    }
    if (packet.size() > response::kHeaderSize + kMaxDnsMessage) {
        return Unexpected(PacketError::TooLarge);
    }
    if (!std::equal(kResolverMagic.begin(), kResolverMagic.end(), packet.begin())) {
        return Unexpected(PacketError::BadMagic);
    }
    ClientNonceHalf half{};
    std::copy_n(packet.begin() + response::kNonceOffset, half.size(), half.begin());
    return half;
}

PacketResult<MutableBytes> decrypt_response(MutableBytes packet, const ClientNonceHalf& expected,
                                            const crypto::SharedKey& key) noexcept {
    const auto half = response_nonce_half(packet);
    if (!half) return Unexpected(half.error());
    if (*half != expected) return Unexpected(PacketError::UnknownNonce);

    crypto::Nonce nonce{};
    std::copy_n(packet.begin() + response::kNonceOffset, nonce.size(), nonce.begin());
    const auto mac = std::span<const std::uint8_t, crypto::kMacSize>(
        packet.data() + response::kMacOffset, crypto::kMacSize);
    auto body = packet.subspan(response::kHeaderSize);
    if (!key.open(body, mac, nonce)) return Unexpected(PacketError::AuthFailed);

    const auto len = unpadded_length(body);
    if (!len) return Unexpected(len.error());
    if (*len < kMinDnsMessage) return Unexpected(PacketError::ShortMessage);
    return body.first(*len);
}

}  // namespace dcp::dnscrypt
