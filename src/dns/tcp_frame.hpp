#pragma once
// DNS over TCP framing (RFC 1035 4.2.2, RFC 7766 8): each message is preceded by its length as
// two bytes, big-endian. TcpFrameReader cuts a byte stream, arriving in pieces of any size, into
// those messages. Pure: the caller reads from its socket into space() and says how much came.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace dcp::dns {

enum class FrameError : std::uint8_t {
    ZeroLength,  // a length prefix of 0: no DNS message is empty, the peer is not speaking DNS
};

class TcpFrameReader {
  public:
    static constexpr std::size_t kInitialCapacity = 1024;
    static constexpr std::size_t kMaxFrame = 2 + 65535;

    TcpFrameReader() : buffer_(kInitialCapacity) {}

    // Where the next bytes from the stream go: never empty, and never larger than the buffer
    // (at most kMaxFrame bytes, so memory per stream is bounded). Call it only after next()
    // said more bytes are needed; it may move buffered bytes, ending earlier views.
    [[nodiscard]] MutableBytes space();
    // `n` bytes were written at the start of space().
    void commit(std::size_t n) noexcept { end_ += n; }

    // The next whole message (without its prefix), a view valid until the next space(); or an
    // empty optional when more bytes are needed; or the reason the stream is not DNS framing.
    [[nodiscard]] dcp::Result<std::optional<Bytes>, FrameError> next();

    // Bytes of a message not yet whole (the stream stopped inside a prefix or a message).
    [[nodiscard]] std::size_t buffered() const noexcept { return end_ - begin_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return buffer_.size(); }

  private:
    std::vector<std::uint8_t> buffer_;
    std::size_t begin_ = 0;  // first byte not yet returned
    std::size_t end_ = 0;    // one past the last byte received
};

}  // namespace dcp::dns
