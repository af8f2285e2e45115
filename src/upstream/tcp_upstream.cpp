#include "upstream/tcp_upstream.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <optional>

#include "net/deadline.hpp"
#include "upstream/tcp_exchange.hpp"

namespace dcp::upstream {
namespace {

using Answer = dcp::Result<std::vector<std::uint8_t>, ExchangeError>;

// Whether an idle connection still looks usable: nothing to read (a FIN or unsolicited bytes
// would be), no error. One non-blocking peek, no waiting.
bool still_open(asio::ip::tcp::socket& socket) {
    std::uint8_t byte = 0;
    const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

void TcpUpstream::stop() {
    stopped_ = true;
    for (auto& c : idle_) {
        asio::error_code ignored;
        c.socket.close(ignored);
    }
    idle_.clear();
}

net::awaitable<Answer> TcpUpstream::exchange(Bytes message,
                                             std::chrono::steady_clock::time_point deadline,
                                             bool reuse) {
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, deadline);
    for (int attempt = 0;; ++attempt) {
        std::optional<asio::ip::tcp::socket> socket;
        const auto now = std::chrono::steady_clock::now();
        while (reuse && !idle_.empty() && !socket) {
            Idle c = std::move(idle_.back());
            idle_.pop_back();
            if (now - c.since < kMaxIdleTime && still_open(c.socket)) {
                socket.emplace(std::move(c.socket));
            }  // else closed by its destructor
        }
        const bool reused = socket.has_value();
        if (reused) {
            ++counters_.upstream_tcp_reused;
        } else {
            socket.emplace(executor);
            const auto connected = co_await net::before_deadline(
                socket->async_connect(server_, net::use_nothrow), timer);
            if (!connected) co_return Unexpected(exchange_error(connected.error()));
            ++counters_.upstream_tcp_connections;
            socket->set_option(asio::ip::tcp::no_delay(true));
        }
        auto answer = co_await exchange_on(*socket, message, timer);
        if (answer) {
            if (reuse && !stopped_ && idle_.size() < kMaxIdle) {
                idle_.push_back({std::move(*socket), std::chrono::steady_clock::now()});
            }
            co_return std::move(*answer);
        }
        // Only a reused connection the server had closed in the meantime earns a second try.
        const auto failure = answer.error();
        if (!reused || failure.answer_started || attempt > 0 ||
            failure.error != ExchangeError::Network) {
            co_return Unexpected(failure.error);
        }
    }
}

}  // namespace dcp::upstream
