#include "upstream/tcp_exchange.hpp"

#include <array>

namespace dcp::upstream {

net::awaitable<dcp::Result<std::vector<std::uint8_t>, ExchangeError>> tcp_exchange(
    asio::ip::tcp::endpoint server, Bytes message, std::chrono::steady_clock::time_point deadline) {
    auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::socket socket(executor);
    asio::steady_timer timer(executor, deadline);  // every step races the same deadline
    const auto connected =
        co_await net::before_deadline(socket.async_connect(server, net::use_nothrow), timer);
    if (!connected) co_return Unexpected(exchange_error(connected.error()));
    socket.set_option(asio::ip::tcp::no_delay(true));
    auto answer = co_await exchange_on(socket, message, timer);
    if (!answer) co_return Unexpected(answer.error().error);
    co_return std::move(*answer);
}

net::awaitable<dcp::Result<std::vector<std::uint8_t>, ConnectionFailure>> exchange_on(
    asio::ip::tcp::socket& socket, Bytes message, asio::steady_timer& timer) {
    std::array<std::uint8_t, 2> prefix{};
    store_u16_be(prefix.data(), static_cast<std::uint16_t>(message.size()));
    const std::array<asio::const_buffer, 2> out = {asio::buffer(prefix),
                                                   asio::buffer(message.data(), message.size())};
    const auto sent =
        co_await net::before_deadline(asio::async_write(socket, out, net::use_nothrow), timer);
    if (!sent) co_return Unexpected(ConnectionFailure{exchange_error(sent.error()), false});
    // The length: whatever comes first (a failure before any byte means the server never took
    // the query), then the rest of it.
    const auto first = co_await net::before_deadline(
        socket.async_read_some(asio::buffer(prefix), net::use_nothrow), timer);
    if (!first) co_return Unexpected(ConnectionFailure{exchange_error(first.error()), false});
    if (*first < prefix.size()) {
        const auto rest = co_await net::before_deadline(
            asio::async_read(socket, asio::buffer(prefix.data() + 1, 1), net::use_nothrow), timer);
        if (!rest) co_return Unexpected(ConnectionFailure{exchange_error(rest.error()), true});
    }
    std::vector<std::uint8_t> answer(load_u16_be(prefix.data()));
    if (!answer.empty()) {
        const auto got = co_await net::before_deadline(
            asio::async_read(socket, asio::buffer(answer), net::use_nothrow), timer);
        if (!got) co_return Unexpected(ConnectionFailure{exchange_error(got.error()), true});
    }
    co_return std::move(answer);
}

}  // namespace dcp::upstream
