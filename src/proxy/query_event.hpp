#pragma once
// What became of one client query, reported in one place (QueryProcessor::report): the
// statistics counters (SIGUSR1's report) are tallied from it, then it goes to each QuerySink
// registered (a query log, metrics). Built field by field as the query goes; what only sinks
// need (the client's address, the time taken) is looked up only when there is one.

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dns/message.hpp"
#include "net/asio.hpp"
#include "rules/rule_set.hpp"

namespace dcp::proxy {

enum class ClientTransport : std::uint8_t { Udp, Tcp };

// The client's socket address, as its listener holds it (valid during the report only).
struct ClientAddress {
    const sockaddr* address = nullptr;
    socklen_t length = 0;

    // Address and port; unspecified (port 0) when unknown.
    [[nodiscard]] asio::ip::udp::endpoint endpoint() const;
};

enum class Outcome : std::uint8_t {
    Answered,   // an answer from a server, the cache or a rule (`source` says which)
    Truncated,  // TC at once: --tcp-only, or a cached answer too large for UDP
    ServFail,   // `reason` says why
    Dropped,    // no reply at all: not a query (`reason`)
};

// Where the answer came from.
enum class Source : std::uint8_t {
    None,
    Server,  // a server of the pool (or of a forwarding rule: `forwarded`)
    Cache,   // fresh in the cache
    Stale,   // expired in the cache, given because the servers failed (RFC 8767)
    Rule,    // made here by a rule (`verdict`: blocked, cloaked, captive portal, local names)
};

enum class Reason : std::uint8_t {
    None,
    Oversized,      // dropped: larger than a query can be
    Malformed,      // dropped: not a well-formed query
    NoServer,       // SERVFAIL: no server usable now (no certificate, DoH unreachable)
    Limit,          // SERVFAIL at once: --max-active-requests
    Timeout,        // SERVFAIL: no answer in time
    UpstreamError,  // SERVFAIL: the servers could not be reached or answered badly
    Unanswerable,   // SERVFAIL: a rule's or the cache's answer could not be written
};

// What the rules did to a server's (or the cache's) answer.
enum class AnswerFilter : std::uint8_t { None, BlockedIp, BlockedName };

// What became of a query, in eight bytes: what the counters are tallied from, filled in by the
// steps a query goes through.
struct Tally {
    Outcome outcome = Outcome::Answered;
    Source source = Source::None;
    Reason reason = Reason::None;
    rules::Verdict verdict = rules::Verdict::Pass;  // the rules' decision on the name
    AnswerFilter filter = AnswerFilter::None;
    bool cloaked = false;    // a cloaking rule's target was asked instead (`verdict`)
    bool forwarded = false;  // sent to a forwarding rule's servers
};

// The whole of it, made only when a sink is there to take it.
struct QueryEvent : Tally {
    QueryEvent(const Tally& tally, const ClientAddress& from, ClientTransport over)
        : Tally(tally), client(from), transport(over) {}

    ClientAddress client;
    ClientTransport transport = ClientTransport::Udp;
    const dns::QueryInfo* query = nullptr;  // null when it was not a query
    std::string_view server;  // the server that answered (Source::Server), as the log names it
    std::size_t size = 0;     // of the reply (0: none)
    std::uint8_t rcode = 0;   // of the reply
    std::chrono::microseconds duration{0};  // from the query's arrival to its reply
};

[[nodiscard]] std::string_view to_string(Outcome o) noexcept;
[[nodiscard]] std::string_view to_string(Source s) noexcept;
[[nodiscard]] std::string_view to_string(Reason r) noexcept;

// Where events go besides the counters. Called on the worker's thread, once per client query,
// before its reply is sent; must not block.
class QuerySink {
  public:
    virtual ~QuerySink() = default;
    virtual void record(const QueryEvent& event) = 0;
};

}  // namespace dcp::proxy
