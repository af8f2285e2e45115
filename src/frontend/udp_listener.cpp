#include "frontend/udp_listener.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

#include "net/batch_receiver.hpp"

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
    // Slots one byte larger than any query we accept, so an oversized one is seen (and counted)
    // rather than silently cut.
    net::BatchReceiver batch(kReceiveBatch, proxy::kMaxQuerySize + 1);
    auto alive = alive_;
    while (*alive) {
        const auto [ec] =
            co_await socket_.async_wait(asio::socket_base::wait_read, net::use_nothrow);
        if (!*alive || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
            co_return;
        }
        // Drain what is queued; a short batch means the queue is empty for now.
        for (;;) {
            const std::size_t n = batch.receive(socket_.native_handle());
            for (std::size_t i = 0; i < n; ++i) {
                ++counters_.queries_udp;
                asio::ip::udp::endpoint client;
                if (batch.source_length(i) > client.capacity()) continue;
                std::memcpy(client.data(), &batch.source(i), batch.source_length(i));
                client.resize(batch.source_length(i));
                const auto bytes = batch.data(i);
                asio::co_spawn(io_, handle({bytes.begin(), bytes.end()}, client),
                               [this, alive](std::exception_ptr e) {
                                   if (e && *alive) ++counters_.handler_exceptions;
                               });
            }
            if (n < batch.batch()) break;
        }
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
