#pragma once
// A standby worker's duplicate of a shared listening socket, taken out of its event loop while
// the worker does not use it: registered, every datagram or connection would wake that worker
// too (asio registers a socket for reading from the start, edge-triggered), only for it to find
// nothing to do. Parking releases the descriptor from the asio object (which deregisters it);
// unparking assigns it back. The descriptor stays open either way, so the socket is never closed
// under the other workers, and replies can still leave by it while parked (fd()).

#include <unistd.h>

#include "common/noncopyable.hpp"
#include "common/result.hpp"
#include "net/asio.hpp"

namespace dcp::net {

template <class Socket>
class ParkedSocket : NonCopyable {
  public:
    using Protocol = typename Socket::protocol_type;

    ParkedSocket(Socket& socket, Protocol protocol) : socket_(socket), protocol_(protocol) {}
    ~ParkedSocket() { close(); }

    [[nodiscard]] bool parked() const noexcept { return fd_ >= 0; }

    // The descriptor, parked or not: the same socket either way.
    [[nodiscard]] int fd() { return fd_ >= 0 ? fd_ : socket_.native_handle(); }

    // Out of the event loop (a pending wait on it is cancelled). Nothing to do when the socket is
    // closed or already parked.
    void park() {
        if (fd_ >= 0 || !socket_.is_open()) return;
        asio::error_code ec;
        const int fd = socket_.release(ec);
        if (!ec) fd_ = fd;
    }

    // Back into the event loop; on failure the descriptor stays parked (and open).
    [[nodiscard]] dcp::Result<void, asio::error_code> unpark() {
        if (fd_ < 0) return {};
        asio::error_code ec;
        socket_.assign(protocol_, fd_, ec);
        if (ec) return dcp::Unexpected{ec};
        fd_ = -1;
        return {};
    }

    // The parked descriptor closed (the asio object closes its own).
    void close() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    Socket& socket_;
    Protocol protocol_;
    int fd_ = -1;
};

}  // namespace dcp::net
