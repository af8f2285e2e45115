#include "dns/tcp_frame.hpp"

#include <cstring>

namespace dcp::dns {

MutableBytes TcpFrameReader::space() {
    if (begin_ == end_) {
        begin_ = end_ = 0;
        // A large message made the buffer grow; an empty buffer goes back to its usual size so
        // that a connection's memory follows what it carries now.
        if (buffer_.size() > kInitialCapacity) {
            buffer_ = std::vector<std::uint8_t>(kInitialCapacity);
        }
    }
    // Bytes the message being received needs in all: its prefix, then the message too.
    std::size_t need = 2;
    if (end_ - begin_ >= 2) need += load_u16_be(buffer_.data() + begin_);
    if (begin_ + need > buffer_.size()) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
        if (need > buffer_.size()) buffer_.resize(need);  // need <= kMaxFrame
    }
    // next() said the message is not whole, so end_ - begin_ < need and there is room.
    return MutableBytes(buffer_).subspan(end_);
}

dcp::Result<std::optional<Bytes>, FrameError> TcpFrameReader::next() {
    const std::size_t available = end_ - begin_;
    if (available < 2) return std::optional<Bytes>{};
    const std::size_t len = load_u16_be(buffer_.data() + begin_);
    if (len == 0) return Unexpected(FrameError::ZeroLength);
    if (available < 2 + len) return std::optional<Bytes>{};
    const Bytes message(buffer_.data() + begin_ + 2, len);
    begin_ += 2 + len;
    return std::optional<Bytes>{message};
}

}  // namespace dcp::dns
