#pragma once
// Plain DNS from local clients over UDP: one socket per local address, a receive loop, one
// handler per query (queries are answered as soon as each is ready, in any order).

#include <memory>

#include "common/counters.hpp"
#include "net/asio.hpp"
#include "proxy/query_processor.hpp"

namespace dcp::frontend {

class UdpListener {
  public:
    // Binds at once; throws asio::system_error (e.g. address in use) so start-up can say so.
    UdpListener(asio::io_context& io, const asio::ip::udp::endpoint& local,
                proxy::QueryProcessor& processor, Counters& counters);
    void start();
    void stop();
    [[nodiscard]] asio::ip::udp::endpoint local_endpoint() const {
        return socket_.local_endpoint();
    }

  private:
    net::awaitable<void> receive_loop();
    net::awaitable<void> handle(std::vector<std::uint8_t> query, asio::ip::udp::endpoint client);

    asio::io_context& io_;
    asio::ip::udp::socket socket_;
    proxy::QueryProcessor& processor_;
    Counters& counters_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dcp::frontend
