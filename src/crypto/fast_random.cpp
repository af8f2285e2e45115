#include "crypto/fast_random.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace dcp::crypto {

FastRandom::FastRandom() noexcept {
    randombytes_buf(key_.data(), key_.size());
}

FastRandom::~FastRandom() {
    sodium_memzero(buffer_.data(), buffer_.size());
}

void FastRandom::refill() noexcept {
    if (since_rekey_ >= kRekeyBytes) {
        randombytes_buf(key_.data(), key_.size());
        block_counter_ = 0;
        since_rekey_ = 0;
    }
    // The 8-byte ChaCha20 nonce is a counter: every refill is a distinct keystream.
    std::array<std::uint8_t, crypto_stream_chacha20_NONCEBYTES> nonce{};
    std::memcpy(nonce.data(), &block_counter_, sizeof(block_counter_));
    ++block_counter_;
    crypto_stream_chacha20(buffer_.data(), buffer_.size(), nonce.data(), key_.data());
    since_rekey_ += buffer_.size();
    used_ = 0;
}

void FastRandom::fill(std::span<std::uint8_t> out) noexcept {
    std::size_t done = 0;
    while (done < out.size()) {
        if (used_ == buffer_.size()) refill();
        const std::size_t n = std::min(out.size() - done, buffer_.size() - used_);
        std::memcpy(out.data() + done, buffer_.data() + used_, n);
        // Bytes handed out are erased so they cannot be read back from memory later.
        sodium_memzero(buffer_.data() + used_, n);
        used_ += n;
        done += n;
    }
}

std::uint32_t FastRandom::uniform(std::uint32_t upper_bound) noexcept {
    // Rejection sampling, as randombytes_uniform does, to avoid modulo bias.
    const std::uint32_t min = static_cast<std::uint32_t>(-upper_bound) % upper_bound;
    std::uint32_t r = 0;
    do {
        std::array<std::uint8_t, sizeof(r)> bytes{};
        fill(bytes);
        std::memcpy(&r, bytes.data(), sizeof(r));
    } while (r < min);
    return r % upper_bound;
}

}  // namespace dcp::crypto
