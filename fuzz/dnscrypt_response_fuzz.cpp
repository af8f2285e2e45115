// Untrusted input: an encrypted response from a resolver. Mode byte 0: the input is the packet
// as received (magic, nonce and tag checks). Mode 1: the input is a plaintext that a resolver
// holding the key seals, so the fuzzer reaches unpadding and the DNS checks after decryption.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "crypto/shared_key.hpp"
#include "dns/message.hpp"
#include "dnscrypt/packet.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

const dcp::crypto::SharedKey& key() {
    using namespace dcp;
    static const auto k = [] {
        std::array<std::uint8_t, 32> client{}, resolver{};
        for (std::size_t i = 0; i < 32; ++i) {
            client[i] = static_cast<std::uint8_t>(0x40 + i);
            resolver[i] = static_cast<std::uint8_t>(0x20 + i);
        }
        const auto c = crypto::KeyPair::from_secret(client);
        const auto r = crypto::KeyPair::from_secret(resolver);
        return std::move(*crypto::SharedKey::precompute(crypto::Construction::XChaCha20Poly1305,
                                                        r->public_key, c->secret_key));
    }();
    return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp;
    fuzz::init_once();
    if (size < 1 || size > dnscrypt::response::kHeaderSize + dnscrypt::kMaxDnsMessage) return 0;
    const std::uint8_t mode = data[0] & 1;
    ++data;
    --size;

    std::vector<std::uint8_t> packet;
    dnscrypt::ClientNonceHalf expected{};
    if (mode == 0) {
        packet.assign(data, data + size);
        // Expect whatever nonce the packet carries so the tag check is reached.
        if (size >= 20) std::copy_n(data + 8, expected.size(), expected.begin());
    } else {
        packet.resize(dnscrypt::response::kHeaderSize + size);
        std::copy(dnscrypt::kResolverMagic.begin(), dnscrypt::kResolverMagic.end(), packet.begin());
        std::copy(data, data + size, packet.begin() + dnscrypt::response::kHeaderSize);
        crypto::Nonce nonce{};
        std::copy(nonce.begin(), nonce.begin() + 24, packet.begin() + 8);
        key().seal(std::span(packet).subspan(dnscrypt::response::kHeaderSize),
                   std::span<std::uint8_t, 16>(packet.data() + 32, 16), nonce);
    }
    const auto plain = dnscrypt::decrypt_response(packet, expected, key());
    // A correctly sealed packet may only fail on its content or its size (a plaintext longer
    // than the protocol allows: inputs of 65,537 bytes and more did, and are in the corpus).
    if (mode == 1 && size >= 17 && !plain && plain.error() != dnscrypt::PacketError::BadPadding &&
        plain.error() != dnscrypt::PacketError::ShortMessage &&
        plain.error() != dnscrypt::PacketError::TooLarge) {
        std::abort();
    }
    if (plain) {
        if (plain->size() < dnscrypt::kMinDnsMessage) std::abort();
        (void)dns::parse_layout(*plain);
    }
    return 0;
}
