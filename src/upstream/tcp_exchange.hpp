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
#include "upstream/exchange_error.hpp"

namespace dcp::upstream {

[[nodiscard]] net::awaitable<dcp::Result<std::vector<std::uint8_t>, ExchangeError>> tcp_exchange(
    asio::ip::tcp::endpoint server, Bytes message, std::chrono::steady_clock::time_point deadline);

// The same on a connection already open, racing `timer`. `answer_started` tells whether any byte
// of the answer came, i.e. whether the server took the query on this connection.
[[nodiscard]] net::awaitable<dcp::Result<std::vector<std::uint8_t>, ExchangeError>> exchange_on(
    asio::ip::tcp::socket& socket, Bytes message, asio::steady_timer& timer, bool& answer_started);

}  // namespace dcp::upstream
