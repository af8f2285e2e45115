#include "upstream/tcp_exchange.hpp"

#include <array>

namespace dcp::upstream {

using namespace net::ops;

net::awaitable<dcp::Result<std::vector<std::uint8_t>, ExchangeError>> tcp_exchange(
    asio::ip::tcp::endpoint server, Bytes message, std::chrono::steady_clock::time_point deadline) {
    auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::socket socket(executor);
    asio::steady_timer timer(executor, deadline);
    // Each step races the same deadline.

    {
        auto r = co_await (socket.async_connect(server, net::use_nothrow) ||
                           timer.async_wait(net::use_nothrow));
        if (r.index() == 1) co_return Unexpected(ExchangeError::Timeout);
        if (std::get<0>(std::get<0>(r))) co_return Unexpected(ExchangeError::Network);
    }
    socket.set_option(asio::ip::tcp::no_delay(true));
    bool answer_started = false;
    co_return co_await exchange_on(socket, message, timer, answer_started);
}

net::awaitable<dcp::Result<std::vector<std::uint8_t>, ExchangeError>> exchange_on(
    asio::ip::tcp::socket& socket, Bytes message, asio::steady_timer& timer, bool& answer_started) {
    using Res = dcp::Result<std::vector<std::uint8_t>, ExchangeError>;
    std::array<std::uint8_t, 2> prefix{};
    store_u16_be(prefix.data(), static_cast<std::uint16_t>(message.size()));
    const std::array<asio::const_buffer, 2> out = {asio::buffer(prefix),
                                                   asio::buffer(message.data(), message.size())};
    {
        auto r = co_await (asio::async_write(socket, out, net::use_nothrow) ||
                           timer.async_wait(net::use_nothrow));
        if (r.index() == 1) co_return Unexpected(ExchangeError::Timeout);
        if (std::get<0>(std::get<0>(r))) co_return Unexpected(ExchangeError::Network);
    }
    {
        auto r = co_await (asio::async_read(socket, asio::buffer(prefix), net::use_nothrow) ||
                           timer.async_wait(net::use_nothrow));
        if (r.index() == 1) co_return Unexpected(ExchangeError::Timeout);
        answer_started = std::get<1>(std::get<0>(r)) > 0;
        if (std::get<0>(std::get<0>(r))) co_return Unexpected(ExchangeError::Network);
    }
    std::vector<std::uint8_t> answer(load_u16_be(prefix.data()));
    if (!answer.empty()) {
        auto r = co_await (asio::async_read(socket, asio::buffer(answer), net::use_nothrow) ||
                           timer.async_wait(net::use_nothrow));
        if (r.index() == 1) co_return Unexpected(ExchangeError::Timeout);
        if (std::get<0>(std::get<0>(r))) co_return Unexpected(ExchangeError::Network);
    }
    co_return Res(std::move(answer));
}

}  // namespace dcp::upstream
