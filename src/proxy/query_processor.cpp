#include "proxy/query_processor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>

#include "cache/answer.hpp"
#include "dns/edns.hpp"
#include "dns/reply.hpp"
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
    ++counters_.refused_active_limit;
    if (const auto n = limit_log_.occur("", std::chrono::steady_clock::now())) {
        spdlog::warn(
            "{} queries answered SERVFAIL at once: {} were already waiting for the resolver "
            "(--max-active-requests)",
            n, settings_.max_active_requests);
    }
}

std::size_t QueryProcessor::answer_locally(const dns::QueryInfo& info,
                                           const rules::Decision& decision,
                                           ClientTransport transport, MutableBytes reply) {
    switch (decision.verdict) {
        case rules::Verdict::Blocked:
            ++counters_.blocked_names;
            break;
        case rules::Verdict::BlockedIpv6:
            ++counters_.blocked_ipv6;
            break;
        case rules::Verdict::Unqualified:
        case rules::Verdict::Undelegated:
            ++counters_.blocked_local_names;
            break;
        case rules::Verdict::Cloaked:
            ++counters_.cloaked;
            break;
        case rules::Verdict::Captive:
            ++counters_.captive_portal_answers;
            break;
        case rules::Verdict::Pass:
        case rules::Verdict::CloakedTarget:
        case rules::Verdict::Forward:
            return 0;
    }
    auto len = rules_->write_reply(decision, info, reply);
    if (!len) return synthesize(info, dns::Rcode::ServFail, false, reply);
    if (transport == ClientTransport::Udp) {
        const auto fitted = dns::truncate_response(reply, *len, info.client_udp_limit());
        if (fitted && *fitted != *len) ++counters_.truncated_for_client;
        return fitted.value_or(*len);
    }
    return *len;
}

Step QueryProcessor::prepare(MutableBytes buffer, std::size_t len, ClientTransport transport,
                             Prepared& out, MutableBytes reply, std::size_t& reply_len,
                             std::vector<std::uint8_t>* grow) {
    if (len > kMaxQuerySize) {
        ++counters_.dropped_oversized;
        return Step::Drop;
    }
    const auto info = dns::parse_query(Bytes(buffer.data(), len));
    if (!info) {
        ++counters_.dropped_malformed;
        return Step::Drop;
    }
    out.info = *info;
    out.decision = {};
    out.upstream = &upstream_;
    out.cloaked = false;
    out.cached = false;
    out.storable = false;
    out.rules = rules_.get();

    if (rules_) {
        out.decision =
            rules_->decide(info->question, rules_->needs_time() ? local_now() : rules::LocalTime{});
        switch (out.decision.verdict) {
            case rules::Verdict::Pass:
                break;
            case rules::Verdict::Forward:
                if (out.decision.index < forwarders_.size()) {
                    out.upstream = forwarders_[out.decision.index];
                }
                break;
            case rules::Verdict::CloakedTarget: {
                ++counters_.cloaked;
                const auto target = dns::encode_name(rules_->cloak_target(out.decision));
                const std::size_t new_len =
                    target ? rewrite_question(buffer.first(kQueryBufferSize), len, *info, *target)
                           : 0;
                const auto rewritten =
                    new_len != 0 ? dns::parse_query(Bytes(buffer.data(), new_len))
                                 : dns::Result<dns::QueryInfo>(Unexpected(dns::Error::NoSpace));
                if (!rewritten) {
                    reply_len = synthesize(*info, dns::Rcode::ServFail, false, reply);
                    return Step::Reply;
                }
                if (!out.target) out.target = std::make_unique<dns::QueryInfo>();
                *out.target = *rewritten;
                out.cloaked = true;
                len = new_len;
                break;
            }
            default:
                reply_len = answer_locally(*info, out.decision, transport, reply);
                return reply_len == 0 ? Step::Drop : Step::Reply;
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
            ++counters_.cache_hits;
            if (hit.prefetch && out.storable) start_prefetch(out, Bytes(buffer.data(), len));
            if (hit.size > reply.size()) {
                // Larger than any UDP reply we make: the client retries over TCP.
                ++counters_.truncated_for_client;
                reply_len = synthesize(out.info, dns::Rcode::NoError, true, reply);
            } else {
                reply_len = serve_cached(out, hit.size, hit.ttl_left, transport, reply);
            }
            return Step::Reply;
        }
        ++counters_.cache_misses;
    }

    if (transport == ClientTransport::Udp && settings_.tcp_only) {
        ++counters_.tc_tcp_only;
        reply_len = synthesize(out.info, dns::Rcode::NoError, true, reply);
        return Step::Reply;
    }
    if (!out.upstream->ready()) {
        ++counters_.servfail_no_certificate;
        reply_len = synthesize(out.info, dns::Rcode::ServFail, false, reply);
        return Step::Reply;
    }
    const auto edns = dns::apply_edns_payload_policy(buffer.first(kQueryBufferSize), sent,
                                                     settings_.edns_payload_size);
    if (!edns) {
        ++counters_.dropped_malformed;
        return Step::Drop;
    }
    if (active_.fetch_add(1, std::memory_order_relaxed) >= settings_.max_active_requests) {
        active_.fetch_sub(1, std::memory_order_relaxed);
        note_limit_hit();
        reply_len = synthesize(out.info, dns::Rcode::ServFail, false, reply);
        return Step::Reply;
    }
    if (out.decision.verdict == rules::Verdict::Forward) ++counters_.forwarded;
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
                                         ClientTransport transport, MutableBytes reply) {
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
        ++counters_.servfail_upstream_error;
        return synthesize(p.info, dns::Rcode::ServFail, false, reply);
    }
    return finish_answer(p, len, transport, reply);
}

std::size_t QueryProcessor::finish_answer(const Prepared& p, std::size_t len,
                                          ClientTransport transport, MutableBytes reply) {
    const auto& info = p.info;
    const rules::RuleSet* rules = p.rules;
    if (p.cloaked && rules != nullptr) {
        // A cloaking rule's target: its addresses, under the name the client asked for.
        std::array<std::uint8_t, 1024> flat{};
        const auto written =
            rules::write_flattened(info, Bytes(reply.data(), len), rules->settings.cloak_ttl, flat);
        if (!written) {
            ++counters_.servfail_upstream_error;
            return synthesize(info, dns::Rcode::ServFail, false, reply);
        }
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
            ++counters_.servfail_upstream_error;
            return synthesize(info, dns::Rcode::ServFail, false, reply);
        }
        if (verdict == rules::AnswerVerdict::BlockedIp) {
            ++counters_.blocked_ips;
        } else {
            ++counters_.blocked_names;
        }
        const auto blocked = rules->write_blocked(info, reply);
        len = blocked.value_or(0);
        if (len == 0) return synthesize(info, dns::Rcode::ServFail, false, reply);
    } else if (!info.opt) {
        // The client did not ask for EDNS: it gets no OPT record back.
        const auto without = dns::remove_opt(reply, len);
        if (!without) {
            ++counters_.servfail_upstream_error;
            return synthesize(info, dns::Rcode::ServFail, false, reply);
        }
        len = *without;
    }
    if (transport == ClientTransport::Udp) {
        const auto fitted = dns::truncate_response(reply, len, info.client_udp_limit());
        if (!fitted) {
            ++counters_.servfail_upstream_error;
            return synthesize(info, dns::Rcode::ServFail, false, reply);
        }
        if (*fitted != len) ++counters_.truncated_for_client;
        len = *fitted;
    }
    return len;
}

std::size_t QueryProcessor::finish(const Prepared& prepared,
                                   dcp::Result<MutableBytes, upstream::ExchangeError> answer,
                                   ClientTransport transport, MutableBytes reply) {
    active_.fetch_sub(1, std::memory_order_relaxed);
    const auto& info = prepared.info;
    const auto header = answer ? dns::parse_header(*answer) : Unexpected(dns::Error::ShortPacket);
    const bool servfail =
        header && header->rcode() == static_cast<std::uint8_t>(dns::Rcode::ServFail);
    if ((!answer || servfail) && cache_ != nullptr && prepared.cached &&
        cache_->settings().serve_stale_s != 0) {
        // RFC 8767: the resolvers failed; an expired answer is better than none.
        const auto hit = cache_->find(prepared.cache_key(), now_seconds(), reply, true);
        if (hit.found != cache::Found::Miss && hit.size <= reply.size()) {
            ++counters_.cache_stale;
            return serve_cached(prepared, hit.size,
                                hit.found == cache::Found::Stale ? cache::kStaleTtl : hit.ttl_left,
                                transport, reply);
        }
    }
    if (!answer) {
        if (answer.error() == upstream::ExchangeError::Timeout) {
            ++counters_.servfail_timeout;
        } else {
            ++counters_.servfail_upstream_error;
        }
        return synthesize(info, dns::Rcode::ServFail, false, reply);
    }
    const std::size_t len = answer->size();
    if (answer->data() != reply.data()) std::memmove(reply.data(), answer->data(), len);
    if (cache_ != nullptr && prepared.cached && prepared.storable) {
        (void)cache_->store(prepared.cache_key(), Bytes(reply.data(), len), now_seconds());
    }
    ++counters_.answered;
    return finish_answer(prepared, len, transport, reply);
}

net::awaitable<bool> QueryProcessor::process(Bytes query, ClientTransport transport,
                                             std::vector<std::uint8_t>& reply) {
    if (query.size() > kMaxQuerySize) {
        ++counters_.dropped_oversized;
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
    switch (prepare(buffer, query.size(), transport, prepared, reply, reply_len, &reply)) {
        case Step::Drop:
            co_return false;
        case Step::Reply:
            reply.resize(reply_len);
            co_return true;
        case Step::Forward:
            break;
    }
    std::vector<std::uint8_t> answer;
    dcp::Result<void, upstream::ExchangeError> result{};
    try {
        result = co_await prepared.upstream->exchange(io_, prepared.sent(),
                                                      Bytes(buffer.data(), prepared.edns.size),
                                                      prepared.edns.advertised_payload, answer);
    } catch (...) {
        active_.fetch_sub(1, std::memory_order_relaxed);
        throw;
    }
    reply.resize(std::max(answer.size(), kLocalReplySize));
    const auto len = result ? finish(prepared, MutableBytes(answer), transport, reply)
                            : finish(prepared, Unexpected(result.error()), transport, reply);
    reply.resize(len);
    co_return len != 0;
}

}  // namespace dcp::proxy
