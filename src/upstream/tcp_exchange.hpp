#pragma once
// One DNS-over-TCP style exchange: connect, send a 2-byte length and the message, read a 2-byte
// length and the answer, all before a deadline, on a connection of its own. Used for the plain
// certificate queries; encrypted queries go through TcpUpstream, which keeps connections.

#include <chrono>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "net/asio.hpp"
#include "net/deadline.hpp"
#include "upstream/exchange_error.hpp"

namespace dcp::upstream {

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
