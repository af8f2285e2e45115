#pragma once
// The one place that knows the flow of a query, from the client's bytes to the bytes that go
// back: parse, TCP-only short cut, EDNS payload policy, certificate check, encrypted exchange,
// OPT removal, truncation to the client's limit, SERVFAIL on failure.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "common/counters.hpp"
#include "dns/edns.hpp"
#include "dns/message.hpp"
#include "net/asio.hpp"
#include "upstream/upstream.hpp"

namespace dcp::proxy {

enum class ClientTransport : std::uint8_t { Udp, Tcp };

// Queries larger than this are not queries (dnscrypt-proxy's limit as well).
inline constexpr std::size_t kMaxQuerySize = 4096;
// Room the query buffer given to prepare() needs: the query and an OPT record the proxy adds.
inline constexpr std::size_t kQueryBufferSize = kMaxQuerySize + dns::kEmptyOptSize;
// The longest reply the proxy makes up itself: header, the longest question, an OPT record.
inline constexpr std::size_t kMaxSynthesizedReply =
    dns::kHeaderSize + dns::kMaxNameWireSize + 4 + dns::kEmptyOptSize;

// What prepare() decided.
enum class Step : std::uint8_t {
    Drop,     // not a query: no reply at all
    Reply,    // the reply is ready (TC in TCP-only mode, SERVFAIL when no server has a
              // certificate or beyond --max-active-requests)
    Forward,  // send it to the resolver, then finish()
};

// A query on its way to the resolver, as prepare() left it for finish().
struct Prepared {
    dns::QueryInfo info;
    dns::EdnsDecision edns;
};

struct ProcessorSettings {
    std::uint16_t edns_payload_size = 1280;  // advertised upstream when the client sent no OPT
    bool tcp_only = false;                   // UDP clients get TC at once
    // Queries waiting for the resolver at once. Beyond it a query is answered SERVFAIL at once
    // (see docs/design.md: the client learns now, instead of after its own timeout).
    std::size_t max_active_requests = 250;
};

class QueryProcessor {
  public:
    // `active` counts the queries waiting for the resolver in every worker: the limit is for
    // the whole process.
    QueryProcessor(asio::io_context& io, upstream::Upstream& upstream, ProcessorSettings settings,
                   Counters& counters, std::atomic<std::size_t>& active)
        : io_(io), upstream_(upstream), settings_(settings), counters_(counters), active_(active) {}

    // The steps of one query, for callers that run their own I/O (the UDP listener):
    // prepare() parses the query in buffer[0, len) (the buffer is kQueryBufferSize long) and
    // applies the limits and the EDNS payload policy. On Reply, the reply is written to `reply`
    // (kMaxSynthesizedReply long) and its length stored in `reply_len`. On Forward,
    // buffer[0, out.edns.size) is the query to send, and the query counts as active until
    // finish() turns the resolver's answer (or error) into the client's reply in `reply`,
    // which must hold max(answer size, kMaxSynthesizedReply); `answer` may lie in `reply`.
    [[nodiscard]] Step prepare(MutableBytes buffer, std::size_t len, ClientTransport transport,
                               Prepared& out, MutableBytes reply, std::size_t& reply_len);
    [[nodiscard]] std::size_t finish(const Prepared& prepared,
                                     dcp::Result<MutableBytes, upstream::ExchangeError> answer,
                                     ClientTransport transport, MutableBytes reply);

    // All of it as a coroutine. Writes the reply into `reply`; returns false when the message
    // is dropped (not a query).
    [[nodiscard]] net::awaitable<bool> process(Bytes query, ClientTransport transport,
                                               std::vector<std::uint8_t>& reply);

    [[nodiscard]] std::size_t active() const { return active_.load(); }
    [[nodiscard]] upstream::Upstream& upstream() { return upstream_; }

  private:
    void note_limit_hit();

    asio::io_context& io_;
    upstream::Upstream& upstream_;
    ProcessorSettings settings_;
    Counters& counters_;
    std::atomic<std::size_t>& active_;
    // Rate limit for the "limit reached" warning: at most one line per interval.
    std::chrono::steady_clock::time_point last_limit_log_{};
    std::uint64_t limit_hits_since_log_ = 0;
};

}  // namespace dcp::proxy
