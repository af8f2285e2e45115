#include "frontend/udp_listener.hpp"

#include <spdlog/spdlog.h>

namespace dcp::frontend {

UdpListener::UdpListener(asio::io_context& io, const asio::ip::udp::endpoint& local,
                         proxy::QueryProcessor& processor, Counters& counters)
    : io_(io), socket_(io), processor_(processor), counters_(counters) {
    socket_.open(local.protocol());
    if (local.address().is_v6()) socket_.set_option(asio::ip::v6_only(true));
    asio::error_code ignored;
    socket_.set_option(asio::socket_base::receive_buffer_size(1 << 20), ignored);
    socket_.bind(local);
}

void UdpListener::start() {
    asio::co_spawn(io_, receive_loop(), [alive = alive_](std::exception_ptr e) {
        if (e && *alive) spdlog::critical("UDP listener stopped by an internal error");
    });
}

void UdpListener::stop() {
    *alive_ = false;
    asio::error_code ignored;
    socket_.close(ignored);
}

net::awaitable<void> UdpListener::receive_loop() {
    // Larger than any query we accept, so an oversized one is seen (and counted) whole.
    std::vector<std::uint8_t> buffer(proxy::kMaxQuerySize + 1);
    auto alive = alive_;
    while (*alive) {
        asio::ip::udp::endpoint client;
        const auto [ec, n] =
            co_await socket_.async_receive_from(asio::buffer(buffer), client, net::use_nothrow);
        if (!*alive || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
            co_return;
        }
        if (ec) continue;
        ++counters_.queries_udp;
        asio::co_spawn(io_, handle({buffer.begin(), buffer.begin() + static_cast<long>(n)}, client),
                       [this, alive](std::exception_ptr e) {
                           if (e && *alive) ++counters_.handler_exceptions;
                       });
    }
}

net::awaitable<void> UdpListener::handle(std::vector<std::uint8_t> query,
                                         asio::ip::udp::endpoint client) {
    auto alive = alive_;
    std::vector<std::uint8_t> reply;
    if (!co_await processor_.process(query, proxy::ClientTransport::Udp, reply)) co_return;
    if (!*alive) co_return;
    co_await socket_.async_send_to(asio::buffer(reply), client, net::use_nothrow);
}

}  // namespace dcp::frontend
