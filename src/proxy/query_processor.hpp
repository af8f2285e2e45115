#pragma once
// The one place that knows the flow of a query, from the client's bytes to the bytes that go
// back: parse; the rules (blocked and allowed names, block_ipv6, cloaking, captive portals,
// forwarding, unqualified and undelegated names) and the cache, which answer here; TCP-only
// short cut; EDNS payload policy; certificate check; the exchange with the resolvers (or a
// forwarding rule's servers); the answer filtered (blocked IPs, CNAMEs to blocked names),
// cached, its OPT removed and fitted to the client's limit; SERVFAIL (or a stale cached answer)
// on failure.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "cache/cache.hpp"
#include "common/bytes.hpp"
#include "common/counters.hpp"
#include "common/noncopyable.hpp"
#include "common/repeat_limiter.hpp"
#include "dns/edns.hpp"
#include "dns/message.hpp"
#include "net/asio.hpp"
#include "proxy/query_event.hpp"
#include "rules/rule_set.hpp"
#include "upstream/upstream.hpp"

namespace dcp::proxy {

// Queries larger than this are not queries (dnscrypt-proxy's limit as well).
inline constexpr std::size_t kMaxQuerySize = 4096;
// Room the query buffer given to prepare() needs: the query and an OPT record the proxy adds.
inline constexpr std::size_t kQueryBufferSize = kMaxQuerySize + dns::kEmptyOptSize;
// Room prepare() needs for a reply it writes itself (rules, the cache): cached answers larger
// than what remains are answered with TC over UDP, and grown into over TCP.
inline constexpr std::size_t kLocalReplySize = 4096;
// The longest error reply the proxy makes up itself: header, the longest question, an OPT.
inline constexpr std::size_t kMaxSynthesizedReply =
    dns::kHeaderSize + dns::kMaxNameWireSize + 4 + dns::kEmptyOptSize;

// What prepare() decided.
enum class Step : std::uint8_t {
    Drop,     // not a query: no reply at all
    Reply,    // the reply is ready (a rule, the cache, TC in TCP-only mode, SERVFAIL when no
              // server has a certificate or beyond --max-active-requests)
    Forward,  // send it to prepared.upstream, then finish()
};

// A query on its way upstream, as prepare() left it for finish().
struct Prepared {
    dns::QueryInfo info;  // the client's query
    dns::EdnsDecision edns;
    rules::Decision decision;
    upstream::Upstream* upstream = nullptr;  // the resolvers, or a forwarding rule's servers
    bool cloaked = false;                    // a cloaking rule's target is sent instead
    bool cached = false;                     // looked up in the cache
    bool storable = false;                   // and its answer goes there
    bool forwarded = false;                  // to a forwarding rule's servers
    // When it arrived (only when a QuerySink is registered: reading the clock costs).
    std::chrono::steady_clock::time_point arrived{};
    // The rules it was decided by: a reload may come before its answer (kept alive by the
    // processor for a while after they are replaced: see set_rules).
    const rules::RuleSet* rules = nullptr;

    // The question actually sent upstream.
    [[nodiscard]] const dns::QueryInfo& sent() const { return cloaked ? *target : info; }
    // Where its answer goes in the cache (when `cached`). Made when needed rather than kept:
    // each UDP slot holds a Prepared, and a slot per query in flight is the proxy's memory
    // under load.
    [[nodiscard]] cache::Key cache_key() const;

    // The cloaking target's query when `cloaked`: allocated for the first such query of this
    // Prepared (a slot's, reused), not kept inline for the rare query that needs it.
    std::unique_ptr<dns::QueryInfo> target;
};

// Set by config::validate() from the options (their defaults: config/options.hpp, once).
struct ProcessorSettings {
    std::uint16_t edns_payload_size = 0;  // advertised upstream when the client sent no OPT
    bool tcp_only = false;                // UDP clients get TC at once
    // Queries waiting for the resolver at once. Beyond it a query is answered SERVFAIL at once
    // (see docs/design.md: the client learns now, instead of after its own timeout).
    std::size_t max_active_requests = 0;
};

class QueryProcessor : NonCopyable {
  public:
    // `active` counts the queries waiting for the resolver in every worker: the limit is for
    // the whole process. `cache` (shared by every worker) may be null: no cache.
    QueryProcessor(asio::io_context& io, upstream::Upstream& upstream, ProcessorSettings settings,
                   Counters& counters, std::atomic<std::size_t>& active,
                   cache::Cache* cache = nullptr);
    ~QueryProcessor();

    // New rules (at start and on reload), with the upstream of each forwarding rule (same
    // order as rules->forwarding->rules). On this processor's thread.
    void set_rules(std::shared_ptr<const rules::RuleSet> rules,
                   std::vector<upstream::Upstream*> forwarders);

    // Another place for every query's QueryEvent, besides the counters (a query log,
    // metrics). On this processor's thread, before it serves; `sink` outlives it.
    void add_sink(QuerySink& sink) { sinks_.push_back(&sink); }

    // The steps of one query, for callers that run their own I/O (the UDP listener):
    // prepare() parses the query in buffer[0, len) (the buffer is kQueryBufferSize long),
    // answers it from the rules or the cache, and applies the limits and the EDNS payload
    // policy. On Reply, the reply is in `reply` (at least kLocalReplySize long; `grow`, when
    // given, is resized for a larger cached answer and holds the reply instead: check
    // reply_in_grow) and its length in `reply_len`. On Forward, buffer[0, out.edns.size) is the
    // query to send to out.upstream (out.sent() describes it), and the query counts as active
    // until finish() turns the answer (or error) into the client's reply in `reply`, which must
    // hold max(answer size, kLocalReplySize); `answer` may lie in `reply`; `server` is the
    // one that answered (ClientQuery::answered_by). finish() always makes a reply (SERVFAIL at
    // worst): its length. Every query's outcome is reported once, by the step that
    // ends it.
    [[nodiscard]] Step prepare(MutableBytes buffer, std::size_t len, ClientTransport transport,
                               const ClientAddress& client, Prepared& out, MutableBytes reply,
                               std::size_t& reply_len, std::vector<std::uint8_t>* grow = nullptr);
    [[nodiscard]] std::size_t finish(const Prepared& prepared,
                                     dcp::Result<MutableBytes, upstream::ExchangeError> answer,
                                     std::string_view server, ClientTransport transport,
                                     const ClientAddress& client, MutableBytes reply);
    // A message its listener dropped before prepare() (larger than its buffer).
    void report_dropped(ClientTransport transport, const ClientAddress& client);

    // All of it as a coroutine. Writes the reply into `reply`; returns false when the message
    // is dropped (not a query).
    [[nodiscard]] net::awaitable<bool> process(Bytes query, ClientTransport transport,
                                               const ClientAddress& client,
                                               std::vector<std::uint8_t>& reply);

  private:
    class Prefetch;

    void note_limit_hit();
    // prepare() and finish() but for the report: what became of the query goes in `tally`
    // (`reply` is rebound when a cached answer grows into `grow`). Inlined into their one
    // caller each: a call more per query shows in bench/callgrind.py.
    [[gnu::always_inline]] inline Step decide(MutableBytes buffer, std::size_t len,
                                              ClientTransport transport, Prepared& out,
                                              MutableBytes& reply, std::size_t& reply_len,
                                              std::vector<std::uint8_t>* grow, Tally& tally);
    [[gnu::always_inline]] inline std::size_t make_reply(
        const Prepared& prepared, dcp::Result<MutableBytes, upstream::ExchangeError> answer,
        ClientTransport transport, MutableBytes reply, Tally& tally);
    // What a query's event says besides its Tally.
    struct Context {
        const ClientAddress& client;
        ClientTransport transport;
        const dns::QueryInfo* query;
        std::chrono::steady_clock::time_point arrived;
        std::string_view server = {};
    };
    // The sinks' part of a query's report (prepare(), finish() and report_dropped() tally the
    // counters themselves, then call this when there are sinks): the whole QueryEvent, the
    // reply being `reply` (empty when dropped).
    void deliver(const Tally& tally, const Context& context, Bytes reply);
    // Rules that answer here: the reply's length; none when the query goes on.
    std::optional<std::size_t> answer_locally(const dns::QueryInfo& info,
                                              const rules::Decision& decision,
                                              ClientTransport transport, MutableBytes reply,
                                              Tally& tally);
    // A cached answer copied into `reply` (its length `len`) made the client's: its ID, its
    // spelling of the name, TTLs counted down, rules applied, OPT and size fitted.
    std::size_t serve_cached(const Prepared& p, std::size_t len, std::uint32_t ttl,
                             ClientTransport transport, MutableBytes reply, Tally& tally);
    // The resolver's answer in reply[0, len) made the client's (both paths share it).
    std::size_t finish_answer(const Prepared& p, std::size_t len, ClientTransport transport,
                              MutableBytes reply, Tally& tally);
    // A SERVFAIL for `info` in `reply`, the event saying why.
    std::size_t servfail(const dns::QueryInfo& info, Reason reason, MutableBytes reply,
                         Tally& tally);
    void start_prefetch(const Prepared& p, Bytes query);
    // The local time for time-restricted rules, looked up once a minute.
    rules::LocalTime local_now();

    asio::io_context& io_;
    upstream::Upstream& upstream_;
    ProcessorSettings settings_;
    Counters& counters_;
    std::atomic<std::size_t>& active_;
    cache::Cache* cache_;
    std::shared_ptr<const rules::RuleSet> rules_;
    // Replaced rules, kept until no query in flight can still refer to them (no atomic
    // reference count on the query path: workers would contend for it).
    std::vector<
        std::pair<std::chrono::steady_clock::time_point, std::shared_ptr<const rules::RuleSet>>>
        retired_;
    std::vector<upstream::Upstream*> forwarders_;
    std::vector<std::unique_ptr<Prefetch>> prefetches_;
    std::int64_t local_minute_ = -1;
    rules::LocalTime local_{};
    // The "limit reached" warning: at most one line per 10 s, counting the hits between.
    RepeatLimiter limit_log_{std::chrono::seconds(10)};
    std::vector<QuerySink*> sinks_;
};

}  // namespace dcp::proxy
