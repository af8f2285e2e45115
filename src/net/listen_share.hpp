#pragma once
// Several workers listening on one address. Where the kernel spreads datagrams and connections
// over a group of sockets bound with SO_REUSEPORT (Linux 3.9+; FreeBSD 12+ as SO_REUSEPORT_LB),
// each worker binds its own socket. Elsewhere (macOS and the other BSDs, where SO_REUSEPORT does
// not balance) the workers wait on duplicates of one socket's descriptor, and whichever reads
// first serves.

namespace dcp::net {

struct ListenShare {
    bool reuse_port = false;  // bind a socket of our own into a SO_REUSEPORT group
    // First of the group: bind once without SO_REUSEPORT before, so that an address another
    // process holds is still refused ("address in use") instead of silently shared with it.
    bool check_free = false;
    int duplicate_of = -1;  // or use a duplicate of this descriptor, already bound
};

// Whether a SO_REUSEPORT group spreads the load on this platform.
[[nodiscard]] bool reuse_port_balances() noexcept;

// How worker `index` of `count` listens on an address whose first worker's socket is
// `first_descriptor` (unused for the first worker, and when the kernel balances).
[[nodiscard]] ListenShare listen_share(unsigned index, unsigned count, int first_descriptor);

// Sets the balancing SO_REUSEPORT option; throws asio::system_error.
void set_reuse_port(int fd);

// dup(fd), close-on-exec; throws asio::system_error.
[[nodiscard]] int duplicate_descriptor(int fd);

}  // namespace dcp::net
