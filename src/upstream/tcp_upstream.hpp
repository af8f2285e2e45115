#pragma once
// Encrypted queries over TCP, on connections kept open between queries. A connection carries one
// query at a time (no head-of-line blocking, no reordering to undo) and goes back to an idle
// pool after its answer; the next query takes it instead of paying a handshake. Servers may close
// connections whenever they like (some after every reply, all after some idle time): a query
// whose reused connection turns out closed before any byte of its answer came is sent again, once,
// on a new connection, so the client never sees it.

#include <chrono>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "common/counters.hpp"
#include "common/result.hpp"
#include "net/asio.hpp"
#include "upstream/exchange_error.hpp"

namespace dcp::upstream {

class TcpUpstream {
  public:
    // Idle connections kept at most, and for at most this long.
    static constexpr std::size_t kMaxIdle = 16;
    static constexpr std::chrono::seconds kMaxIdleTime{10};

    TcpUpstream(asio::ip::tcp::endpoint server, Counters& counters)
        : server_(server), counters_(counters) {}

    // Sends `message` with its length prefix and returns the answer (without it). `reuse`:
    // false sends it on a connection of its own, closed after the answer (--ephemeral-keys).
    [[nodiscard]] net::awaitable<dcp::Result<std::vector<std::uint8_t>, ExchangeError>> exchange(
        Bytes message, std::chrono::steady_clock::time_point deadline, bool reuse = true);

    // Closes the idle connections.
    void stop();

  private:
    struct Idle {
        asio::ip::tcp::socket socket;
        std::chrono::steady_clock::time_point since;
    };

    asio::ip::tcp::endpoint server_;
    Counters& counters_;
    std::vector<Idle> idle_;  // the most recently used last
    bool stopped_ = false;
};

}  // namespace dcp::upstream
