#pragma once
// Encrypted queries over UDP: a few long-lived connected sockets towards the resolver, a receive
// loop on each, and a table of pending queries keyed by client nonce. A datagram is accepted only
// when its nonce names a pending query and it decrypts with that query's key and answers that
// query's question; anything else (forged, stale, duplicated, garbled) is counted and dropped
// without disturbing the query that is still waiting for its real answer.

#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/counters.hpp"
#include "common/result.hpp"
#include "crypto/shared_key.hpp"
#include "dns/message.hpp"
#include "dnscrypt/constants.hpp"
#include "net/asio.hpp"
#include "upstream/exchange_error.hpp"

namespace dcp::upstream {

class UdpExchanger {
  public:
    static constexpr std::chrono::milliseconds kSweepInterval{50};

    UdpExchanger(asio::io_context& io, asio::ip::udp::endpoint resolver, std::size_t sockets,
                 Counters& counters);
    ~UdpExchanger();
    UdpExchanger(const UdpExchanger&) = delete;
    UdpExchanger& operator=(const UdpExchanger&) = delete;

    // Opens the sockets and starts their receive loops. Throws asio::system_error on failure.
    void start();
    void stop();

    struct Request {
        Bytes packet;                          // the encrypted query
        dnscrypt::ClientNonceHalf nonce_half;  // as written in the packet
        const crypto::SharedKey* key;          // to open the answer with
        std::uint16_t id;                      // the DNS query's ID and question, to match
        const dns::Question* question;
    };

    // Sends and waits for the answer until `deadline`. The decrypted DNS answer is written to
    // `answer` (resized). The nonce half must not be pending already (see is_pending).
    [[nodiscard]] net::awaitable<dcp::Result<void, ExchangeError>> exchange(
        const Request& request, std::chrono::steady_clock::time_point deadline,
        std::vector<std::uint8_t>& answer);

    [[nodiscard]] bool is_pending(const dnscrypt::ClientNonceHalf& nonce) const;

  private:
    struct Pending;
    net::awaitable<void> receive_loop(std::size_t index);
    net::awaitable<void> sweep_loop();
    void on_datagram(std::span<std::uint8_t> packet);
    static std::uint64_t table_key(const dnscrypt::ClientNonceHalf& nonce) noexcept;

    asio::io_context& io_;
    asio::ip::udp::endpoint resolver_;
    std::size_t socket_count_;
    Counters& counters_;
    std::vector<std::unique_ptr<asio::ip::udp::socket>> sockets_;
    std::size_t next_socket_ = 0;
    // Keyed by the first 8 bytes of the (random) nonce half; the full half is checked on use.
    std::unordered_map<std::uint64_t, Pending*> pending_;
    // Deadlines are enforced by one sweeper, not a kernel timer per query: arming and cancelling
    // a timer per query rewrote the timerfd about every other query (strace). The sweeper runs
    // only while queries are pending; a deadline may be overrun by up to kSweepInterval.
    asio::steady_timer sweeper_;
    bool sweeping_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dcp::upstream
