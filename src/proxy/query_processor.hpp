#pragma once
// The one place that knows the flow of a query, from the client's bytes to the bytes that go
// back: parse, TCP-only short cut, EDNS payload policy, certificate check, encrypted exchange,
// OPT removal, truncation to the client's limit, SERVFAIL on failure.

#include <chrono>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "common/counters.hpp"
#include "net/asio.hpp"
#include "upstream/resolver.hpp"

namespace dcp::proxy {

enum class ClientTransport : std::uint8_t { Udp, Tcp };

// Queries larger than this are not queries (dnscrypt-proxy's limit as well).
inline constexpr std::size_t kMaxQuerySize = 4096;

struct ProcessorSettings {
    std::uint16_t edns_payload_size = 1280;  // advertised upstream when the client sent no OPT
    bool tcp_only = false;                   // UDP clients get TC at once
    // Queries waiting for the resolver at once. Beyond it a query is answered SERVFAIL at once
    // (see docs/design.md: the client learns now, instead of after its own timeout).
    std::size_t max_active_requests = 250;
};

class QueryProcessor {
  public:
    QueryProcessor(upstream::Resolver& resolver, ProcessorSettings settings, Counters& counters)
        : resolver_(resolver), settings_(settings), counters_(counters) {}

    // Writes the reply into `reply`; returns false when the message is dropped (not a query).
    [[nodiscard]] net::awaitable<bool> process(Bytes query, ClientTransport transport,
                                               std::vector<std::uint8_t>& reply);

    [[nodiscard]] std::size_t active() const { return active_; }

  private:
    void note_limit_hit();

    upstream::Resolver& resolver_;
    ProcessorSettings settings_;
    Counters& counters_;
    std::size_t active_ = 0;
    // Rate limit for the "limit reached" warning: at most one line per interval.
    std::chrono::steady_clock::time_point last_limit_log_{};
    std::uint64_t limit_hits_since_log_ = 0;
};

}  // namespace dcp::proxy
