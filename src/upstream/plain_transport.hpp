#pragma once
// Plain DNS to one server (forwarding rules: a LAN's or a VPN's resolver), a Transport like the
// encrypted ones, so a forwarding rule's servers form a Pool with its failover and health
// checks. Plain DNS has only what the query carries against off-path forgery, so each UDP
// query gets all of it (RFC 5452): a socket of its own (a source port the kernel picks at
// random), a random ID, and its name's letters in random case (0x20) that the answer must echo
// once the server has shown it keeps them; the answer must also name the question. What fails
// these checks is counted (reply_mismatch) and the query keeps waiting. A refusal (ICMP port
// unreachable on the query's own socket) fails the query at once. A truncated answer is asked
// again over TCP.

#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/counters.hpp"
#include "common/liveness.hpp"
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
    struct Query;
    void wait_readable(Query& q);
    void read_available(Query& q);
    // Ends the UDP part of `q`: closes its socket and frees it.
    void finish_udp(Query& q);
    net::awaitable<void> over_tcp(Attempt* attempt, std::uint16_t client_id);

    asio::io_context& io_;
    asio::ip::udp::endpoint server_;
    std::chrono::milliseconds timeout_;
    Counters& counters_;
    crypto::FastRandom rng_;
    // Unknown until the first answer: whether the server echoes the question's case.
    std::optional<bool> keeps_case_;
    // Every query with a socket, owned here (the attempt's state points at its entry).
    std::unordered_map<const Query*, std::unique_ptr<Query>> live_;
    std::vector<std::uint8_t> receive_buffer_;
    Liveness alive_;
};

}  // namespace dcp::upstream
