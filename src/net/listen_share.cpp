#include "net/listen_share.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "net/asio.hpp"

namespace dcp::net {
namespace {

#if defined(SO_REUSEPORT_LB)
constexpr int kBalancingOption = SO_REUSEPORT_LB;  // FreeBSD: plain SO_REUSEPORT does not balance
constexpr bool kBalances = true;
#elif defined(__linux__)
constexpr int kBalancingOption = SO_REUSEPORT;
constexpr bool kBalances = true;
#else
constexpr int kBalancingOption = 0;
constexpr bool kBalances = false;
#endif

[[noreturn]] void throw_errno(const char* what) {
    throw asio::system_error(asio::error_code(errno, asio::system_category()), what);
}

}  // namespace

bool reuse_port_balances() noexcept {
    return kBalances;
}

ListenShare listen_share(unsigned index, unsigned count, int first_descriptor) {
    ListenShare share;
    if (count <= 1) return share;
    if (kBalances) {
        share.reuse_port = true;
        share.check_free = index == 0;
    } else if (index > 0) {
        share.duplicate_of = first_descriptor;
    }
    return share;
}

void set_reuse_port(int fd) {
    if constexpr (kBalances) {
        const int on = 1;
        if (::setsockopt(fd, SOL_SOCKET, kBalancingOption, &on, sizeof(on)) != 0) {
            throw_errno("SO_REUSEPORT");
        }
    }
}

int duplicate_descriptor(int fd) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) throw_errno("dup");
    return copy;
}

}  // namespace dcp::net
