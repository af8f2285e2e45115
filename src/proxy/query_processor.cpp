#include "proxy/query_processor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>

#include "cache/answer.hpp"
#include "dns/edns.hpp"
#include "dns/reply.hpp"
#include "proxy/counting.hpp"
#include "rules/local_reply.hpp"

namespace dcp::proxy {
namespace {

std::size_t synthesize(const dns::QueryInfo& info, dns::Rcode rcode, bool truncated,
                       MutableBytes reply) {
    // Always fits: a question that parsed is at most kMaxNameWireSize long.
    return dns::write_reply(info, rcode, truncated, reply).value_or(0);
}

// Replaced rules stay alive this long: longer than any query can wait for its answer.
constexpr auto kRetiredRulesLife = std::chrono::minutes(5);
// Cache refreshes in flight per worker at most.
constexpr std::size_t kMaxPrefetches = 8;

std::uint32_t now_seconds() {
    return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

// The query in buffer[0, len) asked for `target` instead of its own name: the question is
// rewritten, everything after it (the OPT record) moved along. The new length, or 0 when it
// does not fit.
std::size_t rewrite_question(MutableBytes buffer, std::size_t len, const dns::QueryInfo& info,
                             const dns::Name& target) {
    const std::size_t name_start = dns::kHeaderSize;
    const std::size_t name_end = info.question_end - 4;
    const std::size_t old_name = name_end - name_start;
    const std::size_t new_len = len - old_name + target.size();
    if (new_len > kMaxQuerySize) return 0;
    std::memmove(buffer.data() + name_start + target.size(), buffer.data() + name_end,
                 len - name_end);
    std::memcpy(buffer.data() + name_start, target.wire().data(), target.size());
    return new_len;
}

}  // namespace

cache::Key Prepared::cache_key() const {
    const dns::QueryInfo& q = sent();
    return {q.question, q.opt && q.opt->dnssec_ok(), (q.header.flags & dns::flags::kCd) != 0};
}

// A refresh of a popular cache entry before it expires: an upstream query with no client.
class QueryProcessor::Prefetch final : public upstream::ClientQuery {
  public:
    explicit Prefetch(QueryProcessor& owner) : owner_(owner) {}

    bool busy = false;
    std::array<std::uint8_t, kQueryBufferSize> buffer{};
    dns::QueryInfo query;
    std::optional<cache::Key> key;

  protected:
    void complete(dcp::Result<MutableBytes, upstream::ExchangeError> answer) override {
        if (answer && owner_.cache_ != nullptr && key &&
            owner_.cache_->store(*key, *answer, now_seconds())) {
            ++owner_.counters_.cache_prefetches;
        }
    }
    void release() override { busy = false; }

  private:
    QueryProcessor& owner_;
};

QueryProcessor::QueryProcessor(asio::io_context& io, upstream::Upstream& upstream,
                               ProcessorSettings settings, Counters& counters,
                               std::atomic<std::size_t>& active, cache::Cache* cache)
    : io_(io),
      upstream_(upstream),
      settings_(settings),
      counters_(counters),
      active_(active),
      cache_(cache) {}

QueryProcessor::~QueryProcessor() = default;

void QueryProcessor::set_rules(std::shared_ptr<const rules::RuleSet> rules,
                               std::vector<upstream::Upstream*> forwarders) {
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(retired_, [&](const auto& r) { return now - r.first > kRetiredRulesLife; });
    if (rules_) retired_.emplace_back(now, std::move(rules_));
    rules_ = std::move(rules);
    forwarders_ = std::move(forwarders);
}

void QueryProcessor::note_limit_hit() {
    if (const auto n = limit_log_.occur("", std::chrono::steady_clock::now())) {
        spdlog::warn(
            "{} queries answered SERVFAIL at once: {} were already waiting for the resolver "
            "(--max-active-requests)",
            n, settings_.max_active_requests);
    }
}

void QueryProcessor::deliver(const Tally& tally, const Context& context, Bytes reply) {
    QueryEvent event(tally, context.client, context.transport);
    event.query = context.query;
    event.server = context.server;
    event.size = reply.size();
    const auto header = dns::parse_header(reply);
    event.rcode = header ? header->rcode() : 0;
    event.duration = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - context.arrived);
    for (QuerySink* sink : sinks_) sink->record(event);
}

void QueryProcessor::report_dropped(ClientTransport transport, const ClientAddress& client) {
    Tally t;
    t.outcome = Outcome::Dropped;
    t.reason = Reason::Oversized;
    tally_counters(t, counters_);
    if (!sinks_.empty())
        deliver(t, {client, transport, nullptr, std::chrono::steady_clock::now()}, {});
}

std::size_t QueryProcessor::servfail(const dns::QueryInfo& info, Reason reason, MutableBytes reply,
                                     Tally& event) {
    event.outcome = Outcome::ServFail;
    event.reason = reason;
    return synthesize(info, dns::Rcode::ServFail, false, reply);
}

std::optional<std::size_t> QueryProcessor::answer_locally(const dns::QueryInfo& info,
                                                          const rules::Decision& decision,
                                                          ClientTransport transport,
                                                          MutableBytes reply, Tally& event) {
    switch (decision.verdict) {
        case rules::Verdict::Pass:
        case rules::Verdict::CloakedTarget:
        case rules::Verdict::Forward:
            return std::nullopt;
        default:
            break;
    }
    event.source = Source::Rule;
    auto len = rules_->write_reply(decision, info, reply);
    if (!len) return servfail(info, Reason::Unanswerable, reply, event);
    if (transport == ClientTransport::Udp) {
        const auto fitted = dns::truncate_response(reply, *len, info.client_udp_limit());
        if (fitted && *fitted != *len) ++counters_.truncated_for_client;
        return fitted.value_or(*len);
    }
    return *len;
}

Step QueryProcessor::prepare(MutableBytes buffer, std::size_t len, ClientTransport transport,
                             const ClientAddress& client, Prepared& out, MutableBytes reply,
                             std::size_t& reply_len, std::vector<std::uint8_t>* grow) {
    const auto arrived =
        sinks_.empty() ? std::chrono::steady_clock::time_point{} : std::chrono::steady_clock::now();
    Tally e;
    out.arrived = arrived;
    const Step step = decide(buffer, len, transport, out, reply, reply_len, grow, e);
    // Every way out but Forward is the query's outcome: reported here, once. (The counters at
    // once; a sink's context only when there is one: this runs for every query.)
    if (step != Step::Forward) {
        tally_counters(e, counters_);
        if (!sinks_.empty()) {
            deliver(e, {client, transport, step == Step::Drop ? nullptr : &out.info, arrived},
                    step == Step::Drop ? Bytes() : Bytes(reply.data(), reply_len));
        }
    }
    return step;
}

Step QueryProcessor::decide(MutableBytes buffer, std::size_t len, ClientTransport transport,
                            Prepared& out, MutableBytes& reply, std::size_t& reply_len,
                            std::vector<std::uint8_t>* grow, Tally& e) {
    const auto drop = [&e](Reason reason) {
        e.outcome = Outcome::Dropped;
        e.reason = reason;
        return Step::Drop;
    };
    const auto replied = [&reply_len](std::size_t size) {
        reply_len = size;
        return Step::Reply;
    };
    if (len > kMaxQuerySize) return drop(Reason::Oversized);
    if (!dns::parse_query(Bytes(buffer.data(), len), out.info)) return drop(Reason::Malformed);
    const dns::QueryInfo& info = out.info;
    out.decision = {};
    out.upstream = &upstream_;
    out.cloaked = false;
    out.cached = false;
    out.storable = false;
    out.forwarded = false;
    out.rules = rules_.get();

    if (rules_) {
        out.decision =
            rules_->decide(info.question, rules_->needs_time() ? local_now() : rules::LocalTime{});
        e.verdict = out.decision.verdict;
        switch (out.decision.verdict) {
            case rules::Verdict::Pass:
                break;
            case rules::Verdict::Forward:
                if (out.decision.index < forwarders_.size()) {
                    out.upstream = forwarders_[out.decision.index];
                }
                break;
            case rules::Verdict::CloakedTarget: {
                const auto target = dns::encode_name(rules_->cloak_target(out.decision));
                const std::size_t new_len =
                    target ? rewrite_question(buffer.first(kQueryBufferSize), len, info, *target)
                           : 0;
                if (!out.target) out.target = std::make_unique<dns::QueryInfo>();
                if (new_len == 0 || !dns::parse_query(Bytes(buffer.data(), new_len), *out.target))
                    return replied(servfail(info, Reason::Unanswerable, reply, e));
                out.cloaked = true;
                e.cloaked = true;
                len = new_len;
                break;
            }
            default:
                return replied(answer_locally(info, out.decision, transport, reply, e).value());
        }
    }

    const dns::QueryInfo& sent = out.sent();
    // Only standard queries are cached (an UPDATE or NOTIFY answer is no answer to a query).
    if (cache_ != nullptr && (sent.header.flags & dns::flags::kOpcodeMask) == 0) {
        out.cached = true;
        // Served from the cache either way, but kept only when the answer is everyone's: a
        // non-recursive query (RD=0) gets what the resolver happens to hold, often an empty
        // NOERROR, and an answer to a client subnet (RFC 7871) is that subnet's.
        out.storable = (sent.header.flags & dns::flags::kRd) != 0 &&
                       !(sent.opt && dns::has_edns_option(Bytes(buffer.data(), len), *sent.opt,
                                                          dns::kEdnsOptionClientSubnet));
        const cache::Key key = out.cache_key();
        const std::uint32_t now = now_seconds();
        auto hit = cache_->find(key, now, reply, false);
        if (hit.found == cache::Found::Fresh && hit.size > reply.size() && grow != nullptr) {
            // Over TCP the whole answer goes: grow the reply and copy it again.
            grow->resize(hit.size);
            reply = MutableBytes(*grow);
            hit = cache_->find(key, now, reply, false);
        }
        if (hit.found == cache::Found::Fresh) {
            e.source = Source::Cache;
            if (hit.prefetch && out.storable) start_prefetch(out, Bytes(buffer.data(), len));
            if (hit.size > reply.size()) {
                // Larger than any UDP reply we make: the client retries over TCP.
                ++counters_.truncated_for_client;
                e.outcome = Outcome::Truncated;
                return replied(synthesize(out.info, dns::Rcode::NoError, true, reply));
            }
            return replied(serve_cached(out, hit.size, hit.ttl_left, transport, reply, e));
        }
        ++counters_.cache_misses;
    }

    if (transport == ClientTransport::Udp && settings_.tcp_only) {
        e.outcome = Outcome::Truncated;
        return replied(synthesize(out.info, dns::Rcode::NoError, true, reply));
    }
    if (!out.upstream->ready()) return replied(servfail(out.info, Reason::NoServer, reply, e));
    const auto edns = dns::apply_edns_payload_policy(buffer.first(kQueryBufferSize), sent,
                                                     settings_.edns_payload_size);
    if (!edns) return drop(Reason::Malformed);
    if (active_.fetch_add(1, std::memory_order_relaxed) >= settings_.max_active_requests) {
        active_.fetch_sub(1, std::memory_order_relaxed);
        note_limit_hit();
        return replied(servfail(out.info, Reason::Limit, reply, e));
    }
    out.forwarded = out.decision.verdict == rules::Verdict::Forward;
    out.edns = *edns;
    return Step::Forward;
}

rules::LocalTime QueryProcessor::local_now() {
    const std::time_t t = std::time(nullptr);
    if (t / 60 != local_minute_) {
        std::tm tm{};
        if (localtime_r(&t, &tm) != nullptr) {
            local_.weekday = static_cast<std::uint8_t>(tm.tm_wday);
            local_.minute = static_cast<std::uint16_t>(tm.tm_hour * 60 + tm.tm_min);
        }
        local_minute_ = t / 60;
    }
    return local_;
}

void QueryProcessor::start_prefetch(const Prepared& p, Bytes query) {
    if (!p.cached || !p.upstream->ready()) return;
    Prefetch* slot = nullptr;
    for (auto& f : prefetches_) {
        if (!f->busy) {
            slot = f.get();
            break;
        }
    }
    if (slot == nullptr) {
        if (prefetches_.size() >= kMaxPrefetches) return;
        prefetches_.push_back(std::make_unique<Prefetch>(*this));
        slot = prefetches_.back().get();
    }
    // The same bytes prepare() parsed into p.sent(): its offsets hold for the copy.
    std::copy(query.begin(), query.end(), slot->buffer.begin());
    slot->query = p.sent();
    const auto edns =
        dns::apply_edns_payload_policy(slot->buffer, slot->query, settings_.edns_payload_size);
    if (!edns) return;
    slot->key = p.cache_key();
    slot->info = &slot->query;
    slot->message = Bytes(slot->buffer.data(), edns->size);
    slot->udp_payload = edns->advertised_payload;
    slot->busy = true;
    p.upstream->begin(*slot);
}

std::size_t QueryProcessor::serve_cached(const Prepared& p, std::size_t len, std::uint32_t ttl,
                                         ClientTransport transport, MutableBytes reply,
                                         Tally& event) {
    const dns::QueryInfo& sent = p.sent();
    // The client's ID and its spelling of the name (the cache stored the question unpacked,
    // the same length as the key's name).
    store_u16_be(reply.data() + dns::kOffsetId, sent.header.id);
    // RD as the client set it (not part of the key: resolvers answer the same either way).
    const auto flags = load_u16_be(reply.data() + dns::kOffsetFlags);
    store_u16_be(reply.data() + dns::kOffsetFlags,
                 static_cast<std::uint16_t>((flags & ~dns::flags::kRd) |
                                            (sent.header.flags & dns::flags::kRd)));
    const Bytes name = sent.question.name.wire();
    std::memcpy(reply.data() + dns::kHeaderSize, name.data(), name.size());
    if (!cache::set_ttls(reply.first(len), ttl)) {
        return servfail(p.info, Reason::UpstreamError, reply, event);
    }
    return finish_answer(p, len, transport, reply, event);
}

std::size_t QueryProcessor::finish_answer(const Prepared& p, std::size_t len,
                                          ClientTransport transport, MutableBytes reply,
                                          Tally& event) {
    const auto& info = p.info;
    const rules::RuleSet* rules = p.rules;
    if (p.cloaked && rules != nullptr) {
        // A cloaking rule's target: its addresses, under the name the client asked for.
        std::array<std::uint8_t, 1024> flat{};
        const auto written =
            rules::write_flattened(info, Bytes(reply.data(), len), rules->settings.cloak_ttl, flat);
        if (!written) return servfail(info, Reason::UpstreamError, reply, event);
        std::memcpy(reply.data(), flat.data(), *written);
        len = *written;
    } else if (const auto verdict =
                   rules != nullptr && !p.decision.allowed &&
                           p.decision.verdict != rules::Verdict::Forward && rules->filters_answers()
                       ? rules->check_answer(Bytes(reply.data(), len),
                                             rules->needs_time() ? local_now() : rules::LocalTime{})
                       : rules::AnswerVerdict::Pass;
               verdict != rules::AnswerVerdict::Pass) {
        if (verdict == rules::AnswerVerdict::Malformed) {
            return servfail(info, Reason::UpstreamError, reply, event);
        }
        event.filter = verdict == rules::AnswerVerdict::BlockedIp ? AnswerFilter::BlockedIp
                                                                  : AnswerFilter::BlockedName;
        const auto blocked = rules->write_blocked(info, reply);
        if (!blocked) return servfail(info, Reason::Unanswerable, reply, event);
        len = *blocked;
    } else if (!info.opt) {
        // The client did not ask for EDNS: it gets no OPT record back.
        const auto without = dns::remove_opt(reply, len);
        if (!without) return servfail(info, Reason::UpstreamError, reply, event);
        len = *without;
    }
    if (transport == ClientTransport::Udp) {
        const auto fitted = dns::truncate_response(reply, len, info.client_udp_limit());
        if (!fitted) return servfail(info, Reason::UpstreamError, reply, event);
        if (*fitted != len) ++counters_.truncated_for_client;
        len = *fitted;
    }
    return len;
}

std::size_t QueryProcessor::finish(const Prepared& prepared,
                                   dcp::Result<MutableBytes, upstream::ExchangeError> answer,
                                   std::string_view server, ClientTransport transport,
                                   const ClientAddress& client, MutableBytes reply) {
    active_.fetch_sub(1, std::memory_order_relaxed);
    Tally e;
    e.verdict = prepared.decision.verdict;
    e.cloaked = prepared.cloaked;
    e.forwarded = prepared.forwarded;
    const std::size_t size = make_reply(prepared, answer, transport, reply, e);
    tally_counters(e, counters_);
    if (!sinks_.empty()) {
        deliver(e,
                {client, transport, &prepared.info, prepared.arrived,
                 e.source == Source::Server ? server : std::string_view()},
                Bytes(reply.data(), size));
    }
    return size;
}

std::size_t QueryProcessor::make_reply(const Prepared& prepared,
                                       dcp::Result<MutableBytes, upstream::ExchangeError> answer,
                                       ClientTransport transport, MutableBytes reply, Tally& e) {
    const auto& info = prepared.info;
    const auto header = answer ? dns::parse_header(*answer) : Unexpected(dns::Error::ShortPacket);
    const bool servfail_answer =
        header && header->rcode() == static_cast<std::uint8_t>(dns::Rcode::ServFail);
    if ((!answer || servfail_answer) && cache_ != nullptr && prepared.cached &&
        cache_->settings().serve_stale_s != 0) {
        // RFC 8767: the resolvers failed; an expired answer is better than none.
        const auto hit = cache_->find(prepared.cache_key(), now_seconds(), reply, true);
        if (hit.found != cache::Found::Miss && hit.size <= reply.size()) {
            e.source = Source::Stale;
            return serve_cached(prepared, hit.size,
                                hit.found == cache::Found::Stale ? cache::kStaleTtl : hit.ttl_left,
                                transport, reply, e);
        }
    }
    if (!answer) {
        return servfail(info,
                        answer.error() == upstream::ExchangeError::Timeout ? Reason::Timeout
                                                                           : Reason::UpstreamError,
                        reply, e);
    }
    const std::size_t len = answer->size();
    if (answer->data() != reply.data()) std::memmove(reply.data(), answer->data(), len);
    if (cache_ != nullptr && prepared.cached && prepared.storable) {
        (void)cache_->store(prepared.cache_key(), Bytes(reply.data(), len), now_seconds());
    }
    e.source = Source::Server;
    return finish_answer(prepared, len, transport, reply, e);
}

net::awaitable<bool> QueryProcessor::process(Bytes query, ClientTransport transport,
                                             const ClientAddress& client,
                                             std::vector<std::uint8_t>& reply) {
    if (query.size() > kMaxQuerySize) {
        report_dropped(transport, client);
        co_return false;
    }
    // One allocation, not cleared: the query is copied in and prepare() reads only that.
    struct Work {
        Prepared prepared;
        std::array<std::uint8_t, kQueryBufferSize> buffer;
    };
    const std::unique_ptr<Work> work(new Work);
    auto& buffer = work->buffer;
    auto& prepared = work->prepared;
    std::copy(query.begin(), query.end(), buffer.begin());
    reply.resize(kLocalReplySize);
    std::size_t reply_len = 0;
    switch (prepare(buffer, query.size(), transport, client, prepared, reply, reply_len, &reply)) {
        case Step::Drop:
            co_return false;
        case Step::Reply:
            reply.resize(reply_len);
            co_return true;
        case Step::Forward:
            break;
    }
    std::vector<std::uint8_t> answer;
    dcp::Result<std::string_view, upstream::ExchangeError> result{std::string_view()};
    try {
        result = co_await prepared.upstream->exchange(io_, prepared.sent(),
                                                      Bytes(buffer.data(), prepared.edns.size),
                                                      prepared.edns.advertised_payload, answer);
    } catch (...) {
        active_.fetch_sub(1, std::memory_order_relaxed);
        throw;
    }
    reply.resize(std::max(answer.size(), kLocalReplySize));
    const auto len =
        result ? finish(prepared, MutableBytes(answer), *result, transport, client, reply)
               : finish(prepared, Unexpected(result.error()), {}, transport, client, reply);
    reply.resize(len);
    co_return true;
}

}  // namespace dcp::proxy
