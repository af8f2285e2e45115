#pragma once
// Plain DNS to one server (forwarding rules: a LAN's or a VPN's resolver), a Transport like the
// encrypted ones, so a forwarding rule's servers form a Pool with its failover and health
// checks. UDP on a connected socket (the kernel drops datagrams from any other address), a
// random ID per query (the client's is put back), the answer checked against the question; a
// truncated answer is asked again over TCP.

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/counters.hpp"
#include "crypto/fast_random.hpp"
#include "net/asio.hpp"
#include "upstream/transport.hpp"

namespace dcp::upstream {

class PlainTransport final : public Transport {
  public:
    PlainTransport(asio::io_context& io, asio::ip::udp::endpoint server,
                   std::chrono::milliseconds timeout, Counters& counters);
    ~PlainTransport() override;

    [[nodiscard]] bool ready() const override { return true; }
    void begin(Attempt& attempt) override;
    bool cancel(Attempt& attempt) override;
    void stop();
    [[nodiscard]] const asio::ip::udp::endpoint& server() const { return server_; }

  private:
    void open();
    void wait_readable();
    void read_available();
    void on_datagram(MutableBytes datagram);
    net::awaitable<void> over_tcp(Attempt* attempt, std::uint16_t client_id);

    asio::io_context& io_;
    asio::ip::udp::endpoint server_;
    std::chrono::milliseconds timeout_;
    Counters& counters_;
    std::optional<asio::ip::udp::socket> socket_;
    crypto::FastRandom rng_;
    struct Pending {
        Attempt* attempt = nullptr;
        std::uint16_t client_id = 0;
    };
    std::unordered_map<std::uint16_t, Pending> pending_;
    std::vector<std::uint8_t> send_buffer_;
    std::vector<std::uint8_t> receive_buffer_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dcp::upstream
