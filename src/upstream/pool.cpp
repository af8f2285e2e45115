#include "upstream/pool.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/time_format.hpp"
#include "dns/constants.hpp"
#include "net/flush_scope.hpp"

namespace dcp::upstream {
namespace {

using Clock = SteadyClock;

// SERVFAIL and REFUSED count against the server: another one may well answer.
bool failing_rcode(MutableBytes answer) {
    const auto header = dns::parse_header(answer);
    if (!header) return false;
    const auto rc = header->rcode();
    return rc == static_cast<std::uint8_t>(dns::Rcode::ServFail) ||
           rc == static_cast<std::uint8_t>(dns::Rcode::Refused);
}

}  // namespace

Micros Pool::since(Clock::time_point t) const {
    return std::chrono::duration_cast<Micros>(clock_.now() - t);
}

ServerReport& ServerReport::operator+=(const ServerReport& o) {
    up = up && o.up;
    // Latency: the worker that saw more answers knows better.
    if (o.answers > answers) {
        srtt = o.srtt;
        p95 = o.p95;
    }
    queries += o.queries;
    answers += o.answers;
    failures += o.failures;
    hedges += o.hedges;
    hedges_won += o.hedges_won;
    return *this;
}

void ClientQuery::Try::complete(dcp::Result<MutableBytes, ExchangeError> answer) {
    owner->pool_->on_attempt(*this, answer);
}

// A query for ". NS" without EDNS to a server out of rotation: any authenticated answer (even
// REFUSED) shows it is back.
class Pool::Probe final : public Attempt {
  public:
    Probe(Pool& pool, std::size_t server) : pool_(pool), server_(server) {}

    bool live = false;
    // Plain and DoH transports have no timeout of their own: a lost probe ends here.
    Clock::time_point deadline{};

    void send(std::uint16_t id, Clock::duration timeout, Clock::time_point now) {
        const auto len = dns::write_query(id, dns::Name{}, dns::RecordType::NS, buffer_);
        if (!len) {  // cannot happen: the query is ours
            pool_.on_probe(server_, false, Micros(0));
            return;
        }
        if (!dns::parse_query(Bytes(buffer_.data(), *len), info_)) {
            pool_.on_probe(server_, false, Micros(0));
            return;
        }
        info = &info_;
        message = Bytes(buffer_.data(), *len);
        udp_payload = 512;
        live = true;
        sent_ = now;
        deadline = sent_ + timeout;
        pool_.members_[server_].transport->begin(*this);
    }

  protected:
    void complete(dcp::Result<MutableBytes, ExchangeError> answer) override {
        live = false;
        pool_.on_probe(server_, answer.has_value(), pool_.since(sent_));
    }

  private:
    Pool& pool_;
    std::size_t server_;
    std::array<std::uint8_t, 64> buffer_{};
    dns::QueryInfo info_;
    Clock::time_point sent_{};
};

Pool::Pool(asio::io_context& io, std::vector<PoolMember> members, BalancerSettings settings,
           Counters& counters, const SteadyClock& clock)
    : members_(std::move(members)),
      clock_(clock),
      counters_(counters),
      balancer_(settings, members_.size(),
                [this](std::uint32_t bound) { return rng_.uniform(bound); }),
      usable_fn_([this](std::size_t i) { return usable(i); }),
      seeded_(members_.size(), false),
      alarm_(io, clock, [this] {
          armed_at_ = Clock::time_point::max();
          on_timer();
      }) {
    for (std::size_t i = 0; i < members_.size(); ++i) {
        probes_.push_back(std::make_unique<Probe>(*this, i));
    }
}

Pool::~Pool() {
    stop();
}

void Pool::stop() {
    stopped_ = true;
    alarm_.cancel();
}

bool Pool::ready() const {
    for (std::size_t i = 0; i < members_.size(); ++i) {
        if (usable(i)) return true;
    }
    return false;
}

void Pool::seed(std::size_t i, Micros rtt) {
    if (i >= members_.size() || seeded_[i]) return;
    seeded_[i] = true;
    balancer_.seed(i, rtt);
}

void Pool::begin(ClientQuery& q) {
    q.pool_ = this;
    q.started_ = 0;
    q.outstanding_ = 0;
    q.done_ = false;
    q.deadline_ = clock_.now() + balancer_.settings().timeout;
    balancer_.on_client_query();
    const auto server = balancer_.choose(usable_fn_);
    if (!server) {  // the caller checked ready(); a certificate may have expired since
        q.done_ = true;
        complete(q, Unexpected(ExchangeError::Network));
        release(q);
        return;
    }
    link_deadline(q);
    start_attempt(q, *server, false);
}

void Pool::start_attempt(ClientQuery& q, std::size_t server, bool hedge) {
    auto& t = q.tries_[q.started_++];
    ++q.outstanding_;
    t.owner = &q;
    t.server = static_cast<std::uint16_t>(server);
    t.live = true;
    t.hedge = hedge;
    t.failure_counted = false;
    t.sent = clock_.now();
    static_cast<OutgoingQuery&>(t) = q;
    auto& st = balancer_.server(server);
    ++st.queries;
    if (hedge) {
        ++st.hedges;
        ++counters_.upstream_hedges;
    }
    schedule_after(q, t);
    members_[server].transport->begin(t);  // may complete, even finish the query, at once
}

void Pool::schedule_after(ClientQuery& q, const ClientQuery::Try& t) {
    unlink_action(q);
    if (q.started_ >= ClientQuery::kMaxAttempts || members_.size() < 2) return;
    const bool hedge = balancer_.settings().hedging;
    q.action_hedge_ = hedge;
    q.action_at_ =
        t.sent + (hedge ? balancer_.hedge_delay(t.server) : balancer_.failover_delay(t.server));
    if (q.action_at_ < q.deadline_) link_action(q);
}

std::span<const std::uint16_t> Pool::tried(const ClientQuery& q) {
    for (std::size_t i = 0; i < q.started_; ++i) tried_scratch_[i] = q.tries_[i].server;
    return {tried_scratch_.data(), q.started_};
}

void Pool::on_attempt(ClientQuery::Try& t, dcp::Result<MutableBytes, ExchangeError> answer) {
    ClientQuery& q = *t.owner;
    t.live = false;
    --q.outstanding_;
    if (answer) {
        const bool failing = failing_rcode(*answer);
        if (failing) {
            count_failure(t);
        } else {
            const auto rtt = since(t.sent);
            if (balancer_.server(t.server).health == Health::Down) {
                spdlog::info("server {} answers again ({}): back in rotation",
                             members_[t.server].name, format_ms(rtt));
                balancer_.on_recovered(t.server, rtt);
            } else {
                balancer_.on_answer(t.server, rtt);
            }
            ++balancer_.server(t.server).answers;
        }
        if (q.done_) {
            maybe_release(q);
            return;
        }
        if (failing && try_next(q)) return;
        finish(q, answer, &t);
        return;
    }
    count_failure(t);
    if (q.done_) {
        maybe_release(q);
        return;
    }
    if (try_next(q)) return;
    if (q.outstanding_ > 0) return;  // another server may still answer
    finish(q, answer, nullptr);
}

bool Pool::try_next(ClientQuery& q) {
    if (q.started_ >= ClientQuery::kMaxAttempts || clock_.now() >= q.deadline_) return false;
    const auto next = balancer_.next(usable_fn_, tried(q));
    if (!next) return false;
    ++counters_.upstream_failovers;
    start_attempt(q, *next, false);
    return true;
}

void Pool::finish(ClientQuery& q, dcp::Result<MutableBytes, ExchangeError> answer,
                  const ClientQuery::Try* winner) {
    q.done_ = true;
    unlink_action(q);
    unlink_deadline(q);
    if (winner != nullptr && winner->hedge) {
        ++counters_.upstream_hedges_won;
        ++balancer_.server(winner->server).hedges_won;
    }
    q.answered_by_ = winner != nullptr && answer ? std::string_view(members_[winner->server].name)
                                                 : std::string_view();
    complete(q, answer);
    if (q.outstanding_ > 0) {
        schedule_reap(q);
    } else {
        release(q);
    }
}

void Pool::maybe_release(ClientQuery& q) {
    if (!q.done_ || q.outstanding_ > 0) return;
    unlink_action(q);
    release(q);
}

void Pool::schedule_reap(ClientQuery& q) {
    // A server that lost the race may still answer: that answer is a latency sample (without
    // it a server slow now and then would look fast), so it gets until its failover delay.
    Clock::time_point at = clock_.now();
    for (std::size_t i = 0; i < q.started_; ++i) {
        const auto& t = q.tries_[i];
        if (t.live) at = std::max(at, t.sent + balancer_.failover_delay(t.server));
    }
    q.action_hedge_ = false;
    q.action_at_ = at;
    link_action(q);
}

void Pool::reap(ClientQuery& q) {
    for (std::size_t i = 0; i < q.started_; ++i) {
        auto& t = q.tries_[i];
        if (!t.live || !members_[t.server].transport->cancel(t)) continue;
        t.live = false;
        --q.outstanding_;
        count_failure(t);
    }
    // Tries that cannot be taken back (TCP) end by their own deadline and release it then.
    maybe_release(q);
}

void Pool::count_failure(ClientQuery::Try& t) {
    if (t.failure_counted) return;
    t.failure_counted = true;
    if (members_.size() < 2) {
        // One server: there is no other to prefer, so no health to track (a name that always
        // fails, DNSSEC-broken say, would otherwise take it "out of rotation" and log it).
        ++balancer_.server(t.server).failures;
        return;
    }
    if (balancer_.on_failure(t.server, clock_.now())) {
        const auto& s = balancer_.server(t.server);
        spdlog::warn("server {} failed {} queries in a row: out of rotation, probing it",
                     members_[t.server].name, s.failures_in_a_row);
        arm(s.next_probe);
    }
}

void Pool::on_action(ClientQuery& q) {
    if (q.done_) {
        reap(q);
        return;
    }
    auto& last = q.tries_[q.started_ - 1];
    if (!q.action_hedge_) count_failure(last);  // no answer within its failover delay
    const auto next = balancer_.next(usable_fn_, tried(q));
    if (!next) return;  // nobody else to ask: the deadline decides
    if (q.action_hedge_ && !balancer_.take_hedge_token()) {
        // Over the hedging budget: the next server is asked at the failover delay only.
        q.action_hedge_ = false;
        q.action_at_ = last.sent + balancer_.failover_delay(last.server);
        if (q.action_at_ < q.deadline_) link_action(q);
        return;
    }
    if (!q.action_hedge_) ++counters_.upstream_failovers;
    start_attempt(q, *next, q.action_hedge_);
}

void Pool::on_deadline(ClientQuery& q) {
    unlink_deadline(q);
    for (std::size_t i = 0; i < q.started_; ++i) {
        auto& t = q.tries_[i];
        if (!t.live) continue;
        count_failure(t);
        if (members_[t.server].transport->cancel(t)) {
            t.live = false;
            --q.outstanding_;
        }
    }
    finish(q, Unexpected(ExchangeError::Timeout), nullptr);
}

void Pool::link_deadline(ClientQuery& q) {
    // Every query has the same timeout: arrival order is deadline order.
    deadlines_.push_back(q);
    arm(q.deadline_);
}

void Pool::unlink_deadline(ClientQuery& q) {
    deadlines_.remove(q);
}

void Pool::link_action(ClientQuery& q) {
    actions_.remove(q);
    // Sorted by time; new actions are nearly always the latest, so the walk is short.
    ClientQuery* after = actions_.back();
    while (after && after->action_at_ > q.action_at_) after = actions_.prev(*after);
    actions_.insert_after(after, q);
    arm(q.action_at_);
}

void Pool::unlink_action(ClientQuery& q) {
    actions_.remove(q);
}

void Pool::arm(Clock::time_point at) {
    // One timer for everything: re-armed only for something earlier than it waits for, so
    // under load it fires about once per hedge delay, not once per query.
    if (at >= armed_at_ || stopped_) return;
    armed_at_ = at;
    alarm_.at(at);
}

void Pool::on_timer() {
    const net::FlushScope scope;  // queries sent from here leave together
    const auto now = clock_.now();
    while (!deadlines_.empty() && deadlines_.front()->deadline_ <= now) {
        on_deadline(*deadlines_.front());
    }
    while (!actions_.empty() && actions_.front()->action_at_ <= now) {
        ClientQuery& q = *actions_.front();
        unlink_action(q);
        on_action(q);
    }
    auto next = Clock::time_point::max();
    for (std::size_t i = 0; i < members_.size(); ++i) {
        const auto& s = balancer_.server(i);
        if (auto& probe = *probes_[i]; probe.live) {
            // Unanswered in time: a failed probe (the transport forgets it), and the next one
            // follows with back-off. Without this, one lost UDP probe left the server down.
            if (probe.deadline > now) {
                next = std::min(next, probe.deadline);
            } else if (members_[i].transport->cancel(probe)) {
                probe.live = false;
                on_probe(i, false, Micros(0));
                if (s.health == Health::Down) next = std::min(next, s.next_probe);
            }
            continue;
        }
        if (s.health != Health::Down) continue;
        if (s.next_probe <= now) {
            start_probe(i);
        } else {
            next = std::min(next, s.next_probe);
        }
    }
    if (!deadlines_.empty()) next = std::min(next, deadlines_.front()->deadline_);
    if (!actions_.empty()) next = std::min(next, actions_.front()->action_at_);
    if (next != Clock::time_point::max()) arm(next);
}

void Pool::start_probe(std::size_t i) {
    if (!usable(i)) {  // no certificate: the certificate refresh retries on its own
        on_probe(i, false, Micros(0));
        return;
    }
    probes_[i]->send(static_cast<std::uint16_t>(rng_.uniform(65536)), balancer_.settings().timeout,
                     clock_.now());
    if (probes_[i]->live) arm(probes_[i]->deadline);
}

void Pool::on_probe(std::size_t i, bool answered, Micros rtt) {
    if (answered) {
        if (balancer_.server(i).health == Health::Down) {
            spdlog::info("server {} answers again ({}): back in rotation", members_[i].name,
                         format_ms(rtt));
            balancer_.on_recovered(i, rtt);
        }
        return;
    }
    balancer_.on_probe_failure(i, clock_.now());
    arm(balancer_.server(i).next_probe);
}

std::vector<ServerReport> Pool::report() const {
    std::vector<ServerReport> out;
    for (std::size_t i = 0; i < members_.size(); ++i) {
        const auto& s = balancer_.server(i);
        out.push_back({members_[i].id, members_[i].name, s.health == Health::Up, s.latency.srtt(),
                       s.latency.p95(), s.queries, s.answers, s.failures, s.hedges, s.hedges_won});
    }
    return out;
}

}  // namespace dcp::upstream
