#pragma once
// Several datagrams per system call where the platform has recvmmsg/sendmmsg (Linux, FreeBSD),
// one call per datagram elsewhere; callers see the same interface. Both calls never block: the
// sockets they are used on are non-blocking and readiness comes from the event loop.

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>

#include "common/noncopyable.hpp"

namespace dcp::net {

struct Datagram {
    std::uint8_t* data = nullptr;
    std::size_t capacity = 0;  // receive: room in `data`
    std::size_t size = 0;      // receive: bytes received; send: bytes to send
    sockaddr_storage peer{};   // receive: the source; send: the destination (unless connected)
    socklen_t peer_len = 0;
    bool truncated = false;  // receive: the datagram was larger than `capacity`
};

// The most datagrams one call moves; larger spans are cut to this.
inline constexpr std::size_t kMaxBatch = 64;

// Reads up to `slots.size()` waiting datagrams. Returns how many were read: fewer than asked
// means the socket was drained (or an error other than "would block" stopped it, in `error`).
std::size_t receive_datagrams(int fd, std::span<Datagram> slots, std::error_code& error) noexcept;

// Sends `slots` in order (to each one's `peer`, or to the connected peer when `connected`).
// Returns how many were sent; the first one not sent failed with `error`.
std::size_t send_datagrams(int fd, std::span<const Datagram> slots, bool connected,
                           std::error_code& error) noexcept;

// Whether this build moves several datagrams per call (for the log and the benchmarks).
[[nodiscard]] bool batched_datagram_calls() noexcept;

// A send that failed only because the socket (or the host) had no room just now.
[[nodiscard]] bool would_block(const std::error_code& ec) noexcept;

// One buffer of `stride` bytes per slot, `capacity` of them usable, in one allocation that is not
// cleared: only the pages datagrams actually touch become resident.
[[nodiscard]] std::unique_ptr<std::uint8_t[]> attach_buffers(std::span<Datagram> slots,
                                                             std::size_t stride,
                                                             std::size_t capacity);

// receive_datagrams() for the same slots again and again, with the system call's headers set
// up once: filling 32 of them on every call cost more user-space work than the rest of the
// call (~1,100 instructions per query under callgrind, bench/README.md). The slots and their
// buffers must stay where they are for its life.
class ReceiveBatch : NonCopyable {
  public:
    explicit ReceiveBatch(std::span<Datagram> slots);
    ~ReceiveBatch();

    // As receive_datagrams(fd, slots(), error).
    std::size_t receive(int fd, std::error_code& error) noexcept;
    [[nodiscard]] std::span<Datagram> slots() const noexcept { return slots_; }

  private:
    struct Headers;
    std::span<Datagram> slots_;
    std::unique_ptr<Headers> headers_;  // none without recvmmsg
};

// Reads batches into `batch`'s slots and hands each datagram to `each`, until the socket is
// drained or `max_batches` batches were read. Returns whether it was drained: readiness is
// edge-triggered,
// so a caller may wait for the next event only then, and must otherwise come back later.
template <class F>
bool drain(int fd, ReceiveBatch& batch, int max_batches, F&& each) {
    const auto slots = batch.slots();
    for (int round = 0; round < max_batches; ++round) {
        std::error_code ec;
        const std::size_t n = batch.receive(fd, ec);
        for (std::size_t i = 0; i < n; ++i) each(slots[i]);
        // An error (an ICMP unreachable surfacing on a connected socket) is read again.
        if (n < slots.size() && !ec) return true;
    }
    return false;
}

}  // namespace dcp::net
