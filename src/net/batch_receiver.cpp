#include "net/batch_receiver.hpp"

#include <sys/uio.h>

#include <cerrno>

namespace dcp::net {

#if defined(__linux__)
struct BatchReceiver::Headers {
    std::vector<iovec> iov;
    std::vector<mmsghdr> msgs;
};
#else
struct BatchReceiver::Headers {};
#endif

BatchReceiver::BatchReceiver(std::size_t batch, std::size_t datagram_capacity)
    : batch_(batch == 0 ? 1 : batch),
      capacity_(datagram_capacity),
      storage_(batch_ * capacity_),
      lengths_(batch_),
      truncated_(batch_),
      sources_(batch_),
      source_lengths_(batch_),
      headers_(std::make_unique<Headers>()) {
#if defined(__linux__)
    headers_->iov.resize(batch_);
    headers_->msgs.resize(batch_);
#endif
}

BatchReceiver::~BatchReceiver() = default;

std::span<std::uint8_t> BatchReceiver::data(std::size_t i) {
    return {storage_.data() + i * capacity_, lengths_[i]};
}

#if defined(__linux__)

std::size_t BatchReceiver::receive(int fd) {
    auto& iov = headers_->iov;
    auto& msgs = headers_->msgs;
    for (std::size_t i = 0; i < batch_; ++i) {
        iov[i] = {storage_.data() + i * capacity_, capacity_};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &sources_[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    int n;
    do {
        n = recvmmsg(fd, msgs.data(), static_cast<unsigned>(batch_), MSG_DONTWAIT, nullptr);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
        lengths_[i] = msgs[i].msg_len;
        truncated_[i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        source_lengths_[i] = msgs[i].msg_hdr.msg_namelen;
    }
    return static_cast<std::size_t>(n);
}

#else  // Portable fallback: one recvfrom() per datagram, still without blocking.

std::size_t BatchReceiver::receive(int fd) {
    std::size_t n = 0;
    while (n < batch_) {
        source_lengths_[n] = sizeof(sockaddr_storage);
        const ssize_t got =
            recvfrom(fd, storage_.data() + n * capacity_, capacity_, MSG_DONTWAIT | MSG_TRUNC,
                     reinterpret_cast<sockaddr*>(&sources_[n]), &source_lengths_[n]);
        if (got < 0) {
            if (errno == EINTR) continue;
            break;
        }
        truncated_[n] = static_cast<std::size_t>(got) > capacity_;
        lengths_[n] = truncated_[n] ? capacity_ : static_cast<std::size_t>(got);
        ++n;
    }
    return n;
}

#endif

}  // namespace dcp::net
