#pragma once
// Reads every datagram already queued on a UDP socket in as few system calls as the platform
// allows: one recvmmsg() for up to `batch` datagrams on Linux, a recvfrom() loop elsewhere (the
// BSDs and macOS). Used after the event loop reports the socket readable, so a burst of N
// datagrams costs one wake-up and about one call instead of N + 1 (Asio's per-datagram receive
// also tries a speculative read that ends in EAGAIN).

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace dcp::net {

class BatchReceiver {
  public:
    BatchReceiver(std::size_t batch, std::size_t datagram_capacity);
    ~BatchReceiver();
    BatchReceiver(const BatchReceiver&) = delete;
    BatchReceiver& operator=(const BatchReceiver&) = delete;

    // Non-blocking. Returns how many datagrams were read (0 when none was queued).
    [[nodiscard]] std::size_t receive(int fd);

    // Datagram i of the last receive(). A datagram longer than the capacity is reported
    // truncated (and should be dropped).
    [[nodiscard]] std::span<std::uint8_t> data(std::size_t i);
    [[nodiscard]] bool truncated(std::size_t i) const { return truncated_[i] != 0; }
    [[nodiscard]] const sockaddr_storage& source(std::size_t i) const { return sources_[i]; }
    [[nodiscard]] socklen_t source_length(std::size_t i) const { return source_lengths_[i]; }
    [[nodiscard]] std::size_t batch() const { return batch_; }

  private:
    struct Headers;  // the platform's per-call structures, allocated once
    std::size_t batch_;
    std::size_t capacity_;
    std::vector<std::uint8_t> storage_;
    std::vector<std::size_t> lengths_;
    std::vector<std::uint8_t> truncated_;
    std::vector<sockaddr_storage> sources_;
    std::vector<socklen_t> source_lengths_;
    std::unique_ptr<Headers> headers_;
};

}  // namespace dcp::net
