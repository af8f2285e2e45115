#include "net/datagram_batch.hpp"

#include <sys/types.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace dcp::net {
namespace {

std::error_code last_error() noexcept {
    return {errno, std::system_category()};
}

bool would_block_errno(int e) noexcept {
    return e == EAGAIN || e == EWOULDBLOCK;
}

}  // namespace

bool would_block(const std::error_code& ec) noexcept {
    return ec == std::errc::resource_unavailable_try_again ||
           ec == std::errc::operation_would_block || ec == std::errc::no_buffer_space;
}

std::unique_ptr<std::uint8_t[]> attach_buffers(std::span<Datagram> slots, std::size_t stride,
                                               std::size_t capacity) {
    std::unique_ptr<std::uint8_t[]> arena(new std::uint8_t[slots.size() * stride]);
    for (std::size_t i = 0; i < slots.size(); ++i) {
        slots[i].data = arena.get() + i * stride;
        slots[i].capacity = capacity;
    }
    return arena;
}

#if DCP_HAVE_MMSG

bool batched_datagram_calls() noexcept {
    return true;
}

std::size_t receive_datagrams(int fd, std::span<Datagram> slots, std::error_code& error) noexcept {
    error.clear();
    const std::size_t n = std::min(slots.size(), kMaxBatch);
    // Only the entries in use are filled: clearing all 64 cost more than the call's own work.
    std::array<mmsghdr, kMaxBatch> msgs;
    std::array<iovec, kMaxBatch> iov;
    for (std::size_t i = 0; i < n; ++i) {
        iov[i] = {slots[i].data, slots[i].capacity};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &slots[i].peer;
        msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    int got = 0;
    do {
        got = ::recvmmsg(fd, msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        if (!would_block_errno(errno)) error = last_error();
        return 0;
    }
    for (int i = 0; i < got; ++i) {
        auto& s = slots[static_cast<std::size_t>(i)];
        const auto& h = msgs[static_cast<std::size_t>(i)];
        s.size = std::min<std::size_t>(h.msg_len, s.capacity);
        s.peer_len = h.msg_hdr.msg_namelen;
        s.truncated = (h.msg_hdr.msg_flags & MSG_TRUNC) != 0;
    }
    return static_cast<std::size_t>(got);
}

struct ReceiveBatch::Headers {
    std::array<mmsghdr, kMaxBatch> msgs{};
    std::array<iovec, kMaxBatch> iov{};
    std::size_t used = 0;  // entries the last call wrote: their address lengths to reset
};

ReceiveBatch::ReceiveBatch(std::span<Datagram> slots)
    : slots_(slots.first(std::min(slots.size(), kMaxBatch))),
      headers_(std::make_unique<Headers>()) {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        headers_->iov[i] = {slots_[i].data, slots_[i].capacity};
        auto& h = headers_->msgs[i].msg_hdr;
        h.msg_iov = &headers_->iov[i];
        h.msg_iovlen = 1;
        h.msg_name = &slots_[i].peer;
        h.msg_namelen = sizeof(sockaddr_storage);
    }
}

ReceiveBatch::~ReceiveBatch() = default;

std::size_t ReceiveBatch::receive(int fd, std::error_code& error) noexcept {
    error.clear();
    auto& msgs = headers_->msgs;
    // The kernel writes only the address length (and the outputs msg_len, msg_flags) of the
    // entries it fills.
    for (std::size_t i = 0; i < headers_->used; ++i) {
        msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    headers_->used = 0;
    int got = 0;
    do {
        got = ::recvmmsg(fd, msgs.data(), static_cast<unsigned>(slots_.size()), MSG_DONTWAIT,
                         nullptr);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        if (!would_block_errno(errno)) error = last_error();
        return 0;
    }
    headers_->used = static_cast<std::size_t>(got);
    for (std::size_t i = 0; i < headers_->used; ++i) {
        auto& s = slots_[i];
        const auto& h = msgs[i];
        s.size = std::min<std::size_t>(h.msg_len, s.capacity);
        s.peer_len = h.msg_hdr.msg_namelen;
        s.truncated = (h.msg_hdr.msg_flags & MSG_TRUNC) != 0;
    }
    return headers_->used;
}

std::size_t send_datagrams(int fd, std::span<const Datagram> slots, bool connected,
                           std::error_code& error) noexcept {
    error.clear();
    std::size_t done = 0;
    while (done < slots.size()) {
        const std::size_t n = std::min(slots.size() - done, kMaxBatch);
        std::array<mmsghdr, kMaxBatch> msgs;  // only the entries in use are filled
        std::array<iovec, kMaxBatch> iov;
        for (std::size_t i = 0; i < n; ++i) {
            const auto& s = slots[done + i];
            iov[i] = {s.data, s.size};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            if (!connected) {
                // sendmmsg does not write through msg_name; the cast only satisfies the type.
                msgs[i].msg_hdr.msg_name = const_cast<sockaddr_storage*>(&s.peer);
                msgs[i].msg_hdr.msg_namelen = s.peer_len;
            }
        }
        int sent = 0;
        do {
            sent = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
        } while (sent < 0 && errno == EINTR);
        if (sent < 0) {
            error = last_error();
            return done;
        }
        // Fewer than asked: the next datagram failed, and the next call, starting with it,
        // reports why.
        done += static_cast<std::size_t>(sent);
    }
    return done;
}

#else  // one system call per datagram

bool batched_datagram_calls() noexcept {
    return false;
}

std::size_t receive_datagrams(int fd, std::span<Datagram> slots, std::error_code& error) noexcept {
    error.clear();
    std::size_t got = 0;
    while (got < slots.size()) {
        auto& s = slots[got];
        iovec iov{s.data, s.capacity};
        msghdr h{};
        h.msg_name = &s.peer;
        h.msg_namelen = sizeof(sockaddr_storage);
        h.msg_iov = &iov;
        h.msg_iovlen = 1;
        const ssize_t n = ::recvmsg(fd, &h, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (!would_block_errno(errno)) error = last_error();
            break;
        }
        s.size = static_cast<std::size_t>(n);
        s.truncated = (h.msg_flags & MSG_TRUNC) != 0;
        s.peer_len = h.msg_namelen;
        ++got;
    }
    return got;
}

std::size_t send_datagrams(int fd, std::span<const Datagram> slots, bool connected,
                           std::error_code& error) noexcept {
    error.clear();
    std::size_t done = 0;
    while (done < slots.size()) {
        const auto& s = slots[done];
        const ssize_t n = connected
                              ? ::send(fd, s.data, s.size, MSG_DONTWAIT)
                              : ::sendto(fd, s.data, s.size, MSG_DONTWAIT,
                                         reinterpret_cast<const sockaddr*>(&s.peer), s.peer_len);
        if (n < 0) {
            if (errno == EINTR) continue;
            error = last_error();
            break;
        }
        ++done;
    }
    return done;
}

struct ReceiveBatch::Headers {};

ReceiveBatch::ReceiveBatch(std::span<Datagram> slots) : slots_(slots) {}

ReceiveBatch::~ReceiveBatch() = default;

std::size_t ReceiveBatch::receive(int fd, std::error_code& error) noexcept {
    return receive_datagrams(fd, slots_, error);
}

#endif

}  // namespace dcp::net
