#pragma once
// The one place that knows the flow of a query, from the client's bytes to the bytes that go
// back: parse, TCP-only short cut, EDNS payload policy, certificate check, encrypted exchange,
// OPT removal, truncation to the client's limit, SERVFAIL on failure.

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
};

class QueryProcessor {
  public:
    QueryProcessor(upstream::Resolver& resolver, ProcessorSettings settings, Counters& counters)
        : resolver_(resolver), settings_(settings), counters_(counters) {}

    // Writes the reply into `reply`; returns false when the message is dropped (not a query).
    [[nodiscard]] net::awaitable<bool> process(Bytes query, ClientTransport transport,
                                               std::vector<std::uint8_t>& reply);

  private:
    upstream::Resolver& resolver_;
    ProcessorSettings settings_;
    Counters& counters_;
};

}  // namespace dcp::proxy
