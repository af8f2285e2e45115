#pragma once
// One DNS-over-TCP style exchange: connect, send a 2-byte length and the message, read a 2-byte
// length and the answer, all before a deadline, on a connection of its own. Used for the plain
// certificate queries; encrypted queries go through TcpUpstream, which keeps connections.

#include <chrono>
#include <cstdint>
#include <tuple>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "net/asio.hpp"
#include "upstream/exchange_error.hpp"

namespace dcp::upstream {

// Runs one I/O operation (started with net::use_nothrow) against `timer`: the bytes it moved
// (0 for a connect), or its error, asio::error::timed_out when the timer fired first. Every
// step of a TCP exchange and every wait for a datagram goes through here.
template <class Operation>
[[nodiscard]] net::awaitable<dcp::Result<std::size_t, asio::error_code>> before_deadline(
    Operation operation, asio::steady_timer& timer) {
    using namespace net::ops;
    auto r = co_await (std::move(operation) || timer.async_wait(net::use_nothrow));
    if (r.index() == 1) co_return Unexpected(asio::error_code(asio::error::timed_out));
    const auto& done = std::get<0>(r);
    if (std::get<0>(done)) co_return Unexpected(std::get<0>(done));
    if constexpr (std::tuple_size_v < std::decay_t < decltype(done) >>> 1) {
        co_return std::get<1>(done);
    } else {
        co_return std::size_t{0};
    }
}

[[nodiscard]] inline ExchangeError exchange_error(const asio::error_code& ec) {
    return ec == asio::error::timed_out ? ExchangeError::Timeout : ExchangeError::Network;
}

[[nodiscard]] net::awaitable<dcp::Result<std::vector<std::uint8_t>, ExchangeError>> tcp_exchange(
    asio::ip::tcp::endpoint server, Bytes message, std::chrono::steady_clock::time_point deadline);

// Why an exchange on an open connection failed, and whether the server had started to answer
// (if not, on a reused connection, it had closed it before our query: worth a new one).
struct ConnectionFailure {
    ExchangeError error = ExchangeError::Network;
    bool answer_started = false;
};

// The same on a connection already open, racing `timer`.
[[nodiscard]] net::awaitable<dcp::Result<std::vector<std::uint8_t>, ConnectionFailure>> exchange_on(
    asio::ip::tcp::socket& socket, Bytes message, asio::steady_timer& timer);

}  // namespace dcp::upstream
