// QueryProcessor against a fake upstream: what each client message becomes, without sockets.
#include "proxy/query_processor.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "../dns/dns_builder.hpp"
#include "dns/message.hpp"

namespace dcp::proxy {
namespace {

// The client every query here comes from: 192.0.2.7, port 5353.
sockaddr_in client_address() {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(5353);
    sa.sin_addr.s_addr = htonl(0xC0000207);
    return sa;
}
const sockaddr_in kClientAddress = client_address();
const ClientAddress kClient{reinterpret_cast<const sockaddr*>(&kClientAddress),
                            sizeof kClientAddress};

// Every event, as a query log would see it.
class RecordingSink final : public QuerySink {
  public:
    struct Seen {
        Outcome outcome;
        Source source;
        Reason reason;
        rules::Verdict verdict;
        AnswerFilter filter;
        std::string name;  // the question's, "" when none
        std::string server;
        std::uint8_t rcode;
        std::size_t size;
        asio::ip::udp::endpoint client;
        ClientTransport transport;
        bool cloaked, forwarded;
        std::chrono::microseconds duration;
    };
    void record(const QueryEvent& e) override {
        seen.push_back({e.outcome, e.source, e.reason, e.verdict, e.filter,
                        e.query ? e.query->question.name.to_text() : "", std::string(e.server),
                        e.rcode, e.size, e.client.endpoint(), e.transport, e.cloaked, e.forwarded,
                        e.duration});
    }
    std::vector<Seen> seen;
};

class FakeUpstream final : public upstream::Upstream {
  public:
    bool up = true;
    std::vector<upstream::ClientQuery*> begun;
    [[nodiscard]] bool ready() const override { return up; }
    void begin(upstream::ClientQuery& q) override { begun.push_back(&q); }
    void answer(upstream::ClientQuery& q, std::vector<std::uint8_t> msg) {
        complete(q, MutableBytes(msg));
        release(q);
    }
    void fail(upstream::ClientQuery& q, upstream::ExchangeError e) {
        complete(q, Unexpected(e));
        release(q);
    }
};

struct Fixture : ::testing::Test {
    asio::io_context io;
    FakeUpstream upstream;
    Counters counters;
    std::atomic<std::size_t> active{0};
    // The options' defaults (config/options.hpp).
    ProcessorSettings settings{
        .edns_payload_size = 1280, .tcp_only = false, .max_active_requests = 250};
    std::array<std::uint8_t, kQueryBufferSize> buffer{};
    std::array<std::uint8_t, 8192> reply{};
    std::size_t reply_len = 0;
    Prepared prepared;

    Step prepare(QueryProcessor& p, const std::vector<std::uint8_t>& query,
                 ClientTransport t = ClientTransport::Udp) {
        std::copy(query.begin(), query.end(), buffer.begin());
        return p.prepare(buffer, query.size(), t, kClient, prepared, reply, reply_len);
    }
    dns::Header reply_header() const {
        const auto h = dns::parse_header(Bytes(reply.data(), reply_len));
        EXPECT_TRUE(h.has_value());
        return h.value_or(dns::Header{});
    }
};

// An answer to `name` A with `records` A records (and an OPT when `opt`).
std::vector<std::uint8_t> answer_for(const std::string& name, std::uint16_t id, int records,
                                     bool opt) {
    test::MsgBuilder b;
    b.header(id, 0x8180, 1, static_cast<std::uint16_t>(records), 0, opt ? 1 : 0).question(name, 1);
    for (int i = 0; i < records; ++i)
        b.record(name, 1, 60, {192, 0, 2, static_cast<std::uint8_t>(i)});
    if (opt) b.opt(1232);
    return b.build();
}

TEST_F(Fixture, MalformedAndOversizedAreDropped) {
    QueryProcessor p(io, upstream, settings, counters, active);
    EXPECT_EQ(prepare(p, {1, 2, 3}), Step::Drop);
    EXPECT_EQ(counters.dropped_malformed, 1U);
    std::vector<std::uint8_t> big(kMaxQuerySize + 1, 0);
    EXPECT_EQ(
        p.prepare(buffer, big.size(), ClientTransport::Udp, kClient, prepared, reply, reply_len),
        Step::Drop);
    EXPECT_EQ(counters.dropped_oversized, 1U);
    EXPECT_TRUE(upstream.begun.empty());
}

TEST_F(Fixture, NoServerReadyIsServfailAtOnce) {
    upstream.up = false;
    QueryProcessor p(io, upstream, settings, counters, active);
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 77)), Step::Reply);
    EXPECT_EQ(reply_header().rcode(), 2);
    EXPECT_EQ(reply_header().id, 77);
    EXPECT_EQ(counters.servfail_no_certificate, 1U);
    EXPECT_EQ(active.load(), 0U);
}

TEST_F(Fixture, TcpOnlyTellsUdpClientsToRetry) {
    settings.tcp_only = true;
    QueryProcessor p(io, upstream, settings, counters, active);
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1)), Step::Reply);
    EXPECT_TRUE(reply_header().tc());
    EXPECT_EQ(counters.tc_tcp_only, 1U);
    EXPECT_EQ(prepare(p, test::make_query("a.test", 1), ClientTransport::Tcp), Step::Forward);
}

TEST_F(Fixture, ForwardAddsAnOptAndTheAnswerLosesIt) {
    QueryProcessor p(io, upstream, settings, counters, active);
    const auto q = test::make_query("a.test", 1, 9);
    ASSERT_EQ(prepare(p, q), Step::Forward);
    EXPECT_TRUE(prepared.edns.opt_added);
    EXPECT_EQ(prepared.edns.size, q.size() + dns::kEmptyOptSize);
    EXPECT_EQ(prepared.edns.advertised_payload, 1280);
    EXPECT_EQ(active.load(), 1U);
    auto a = answer_for("a.test", 9, 1, true);
    reply_len = p.finish(prepared, MutableBytes(a), {}, ClientTransport::Udp, kClient, reply);
    ASSERT_EQ(reply_len, a.size() - dns::kEmptyOptSize);
    EXPECT_EQ(reply_header().arcount, 0);
    EXPECT_EQ(active.load(), 0U);
    EXPECT_EQ(counters.answered, 1U);
}

TEST_F(Fixture, LargeAnswerIsTruncatedForAUdpClientWithoutEdns) {
    QueryProcessor p(io, upstream, settings, counters, active);
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 9)), Step::Forward);
    auto a = answer_for("a.test", 9, 40, false);  // 40 A records: over 512 bytes
    ASSERT_GT(a.size(), 512U);
    reply_len = p.finish(prepared, MutableBytes(a), {}, ClientTransport::Udp, kClient, reply);
    EXPECT_LE(reply_len, 512U);
    EXPECT_TRUE(reply_header().tc());
    EXPECT_EQ(counters.truncated_for_client, 1U);
    // Over TCP the same answer goes whole.
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 9), ClientTransport::Tcp), Step::Forward);
    EXPECT_EQ(p.finish(prepared, MutableBytes(a), {}, ClientTransport::Tcp, kClient, reply),
              a.size());
}

TEST_F(Fixture, UpstreamErrorsBecomeServfailByReason) {
    QueryProcessor p(io, upstream, settings, counters, active);
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 5)), Step::Forward);
    reply_len = p.finish(prepared, Unexpected(upstream::ExchangeError::Timeout), {},
                         ClientTransport::Udp, kClient, reply);
    EXPECT_EQ(reply_header().rcode(), 2);
    EXPECT_EQ(reply_header().id, 5);
    EXPECT_EQ(counters.servfail_timeout, 1U);
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 5)), Step::Forward);
    reply_len = p.finish(prepared, Unexpected(upstream::ExchangeError::Network), {},
                         ClientTransport::Udp, kClient, reply);
    EXPECT_EQ(counters.servfail_upstream_error, 1U);
}

TEST_F(Fixture, ActiveLimitAnswersServfailAtOnce) {
    settings.max_active_requests = 2;
    QueryProcessor p(io, upstream, settings, counters, active);
    EXPECT_EQ(prepare(p, test::make_query("a.test", 1)), Step::Forward);
    EXPECT_EQ(prepare(p, test::make_query("a.test", 1)), Step::Forward);
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1)), Step::Reply);
    EXPECT_EQ(reply_header().rcode(), 2);
    EXPECT_EQ(counters.refused_active_limit, 1U);
    EXPECT_EQ(active.load(), 2U);
}

TEST_F(Fixture, ProcessRunsTheWholeFlowThroughTheUpstream) {
    QueryProcessor p(io, upstream, settings, counters, active);
    std::vector<std::uint8_t> out;
    bool done = false, replied = false;
    const auto q1 = test::make_query("a.test", 1, 3);  // process() keeps a view of it
    asio::co_spawn(io, p.process(q1, ClientTransport::Tcp, kClient, out),
                   [&](std::exception_ptr e, bool r) {
                       EXPECT_FALSE(e);
                       done = true;
                       replied = r;
                   });
    io.run_for(std::chrono::milliseconds(20));
    ASSERT_EQ(upstream.begun.size(), 1U);
    EXPECT_FALSE(done);
    upstream.answer(*upstream.begun[0], answer_for("a.test", 3, 2, true));
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(done);
    EXPECT_TRUE(replied);
    const auto h = dns::parse_header(out);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->ancount, 2);
    EXPECT_EQ(h->arcount, 0);  // the OPT the proxy added is gone
    EXPECT_EQ(active.load(), 0U);
    // The query object is reused for the next exchange.
    out.clear();
    done = false;
    const auto q2 = test::make_query("a.test", 1, 4);
    asio::co_spawn(io, p.process(q2, ClientTransport::Tcp, kClient, out),
                   [&](std::exception_ptr, bool) { done = true; });
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
    ASSERT_EQ(upstream.begun.size(), 2U);
    EXPECT_EQ(upstream.begun[0], upstream.begun[1]);
    upstream.fail(*upstream.begun[1], upstream::ExchangeError::Timeout);
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(done);
    ASSERT_TRUE(dns::parse_header(out));
    EXPECT_EQ(dns::parse_header(out)->rcode(), 2);
}

// --- The cache and the rules in the flow ---------------------------------------------------------

// The options' TTL defaults (config/options.hpp), 16 entries.
cache::CacheSettings small_cache() {
    cache::CacheSettings c;
    c.max_entries = 16;
    c.ttl = {60, 86400, 60, 600};
    return c;
}

TEST_F(Fixture, CachedAnswerCarriesTheClientsIdSpellingAndRd) {
    cache::Cache cache(small_cache());
    QueryProcessor p(io, upstream, settings, counters, active, &cache);
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 9)), Step::Forward);
    auto a = answer_for("a.test", 9, 1, true);
    reply_len = p.finish(prepared, MutableBytes(a), {}, ClientTransport::Udp, kClient, reply);
    ASSERT_GT(reply_len, 0U);
    EXPECT_EQ(counters.cache_misses, 1U);
    // Same name in another case, another ID, RD clear, with EDNS: from the cache.
    const auto q =
        test::MsgBuilder().header(0x7777, 0, 1, 0, 0, 1).question("A.TeSt", 1).opt(1232).build();
    ASSERT_EQ(prepare(p, q), Step::Reply);
    EXPECT_EQ(counters.cache_hits, 1U);
    EXPECT_TRUE(upstream.begun.empty());  // prepare() never sends; the listener does
    const auto h = reply_header();
    EXPECT_EQ(h.id, 0x7777);
    EXPECT_FALSE(h.rd());
    EXPECT_EQ(h.ancount, 1);
    EXPECT_EQ(h.arcount, 1);  // the client sent an OPT: it gets the answer's
    const std::uint8_t spelled[] = {1, 'A', 4, 'T', 'e', 'S', 't', 0};
    EXPECT_EQ(std::memcmp(reply.data() + dns::kHeaderSize, spelled, sizeof spelled), 0);
    // And without EDNS: no OPT.
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 11)), Step::Reply);
    EXPECT_EQ(reply_header().arcount, 0);
    EXPECT_EQ(counters.cache_hits, 2U);
}

TEST_F(Fixture, OnlyStandardQueriesAreCached) {
    cache::Cache cache(small_cache());
    QueryProcessor p(io, upstream, settings, counters, active, &cache);
    const auto notify =
        test::MsgBuilder().header(5, 0x2000, 1, 0, 0, 0).question("a.test", 1).build();
    ASSERT_EQ(prepare(p, notify), Step::Forward);
    EXPECT_FALSE(prepared.cached);
    EXPECT_EQ(counters.cache_misses, 0U);
    auto a = answer_for("a.test", 5, 1, false);
    (void)p.finish(prepared, MutableBytes(a), {}, ClientTransport::Udp, kClient, reply);
    EXPECT_EQ(cache.size(), 0U);
}

TEST_F(Fixture, NonRecursiveAndClientSubnetAnswersAreServedButNotKept) {
    cache::Cache cache(small_cache());
    QueryProcessor p(io, upstream, settings, counters, active, &cache);
    // RD=0: whatever the resolver holds (here an empty NOERROR) is not everyone's answer.
    const auto norec = test::MsgBuilder().header(3, 0, 1, 0, 0, 0).question("a.test", 1).build();
    ASSERT_EQ(prepare(p, norec), Step::Forward);
    auto empty = answer_for("a.test", 3, 0, false);
    ASSERT_GT(p.finish(prepared, MutableBytes(empty), {}, ClientTransport::Udp, kClient, reply),
              0U);
    EXPECT_EQ(cache.size(), 0U);
    // A client subnet option (RFC 7871, code 8): the answer is that subnet's.
    const std::vector<std::uint8_t> ecs = {0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100};
    const auto subnet = test::MsgBuilder()
                            .header(4, 0x0100, 1, 0, 0, 1)
                            .question("a.test", 1)
                            .opt(1232, 0, ecs)
                            .build();
    ASSERT_EQ(prepare(p, subnet), Step::Forward);
    auto a = answer_for("a.test", 4, 1, true);
    ASSERT_GT(p.finish(prepared, MutableBytes(a), {}, ClientTransport::Udp, kClient, reply), 0U);
    EXPECT_EQ(cache.size(), 0U);
    // A recursive query's answer is kept, and a non-recursive one is then served from it.
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 5)), Step::Forward);
    auto b = answer_for("a.test", 5, 2, false);
    ASSERT_GT(p.finish(prepared, MutableBytes(b), {}, ClientTransport::Udp, kClient, reply), 0U);
    EXPECT_EQ(cache.size(), 1U);
    ASSERT_EQ(prepare(p, norec), Step::Reply);
    EXPECT_EQ(reply_header().ancount, 2);
    EXPECT_FALSE(reply_header().rd());
}

std::shared_ptr<rules::RuleSet> rules_for(const char* blocked, const char* cloaking,
                                          const char* forwarding) {
    auto set = std::make_shared<rules::RuleSet>();
    rules::Diagnostics d;
    if (blocked) set->blocked_names = rules::parse_name_rules(blocked, "b", d);
    if (cloaking) set->cloaking = rules::parse_cloaking_rules(cloaking, "c", false, d);
    if (forwarding) set->forwarding = rules::parse_forwarding_rules(forwarding, "f", d);
    EXPECT_TRUE(d.empty());
    return set;
}

TEST_F(Fixture, RulesAnswerEvenWithNoServerReady) {
    upstream.up = false;
    QueryProcessor p(io, upstream, settings, counters, active);
    p.set_rules(rules_for("ads.*\n", "router.lan 192.168.1.1\n", nullptr), {});
    ASSERT_EQ(prepare(p, test::make_query("ads.example", 1, 3)), Step::Reply);
    EXPECT_EQ(reply_header().ancount, 1);  // HINFO
    ASSERT_EQ(prepare(p, test::make_query("router.lan", 1, 4)), Step::Reply);
    EXPECT_EQ(reply_header().ancount, 1);
    EXPECT_EQ(reply[reply_len - 1], 1);  // 192.168.1.1
    EXPECT_EQ(counters.blocked_names, 1U);
    EXPECT_EQ(counters.cloaked, 1U);
    EXPECT_EQ(counters.servfail_no_certificate, 0U);
    EXPECT_EQ(active.load(), 0U);
}

TEST_F(Fixture, AnAnswerTheFiltersCannotReadIsServfail) {
    QueryProcessor p(io, upstream, settings, counters, active);
    p.set_rules(rules_for("ads.com\n", nullptr, nullptr), {});
    // A CNAME to a blocked name, then one byte too many: before, it passed unfiltered.
    auto answer = test::MsgBuilder()
                      .header(31, 0x8180, 1, 2, 0, 0)
                      .question("www.example", 1)
                      .record_at(12, 5, 60, {3, 'a', 'd', 's', 3, 'c', 'o', 'm', 0})
                      .record("ads.com", 1, 60, {192, 0, 2, 1})
                      .build();
    answer.push_back(0);
    ASSERT_EQ(prepare(p, test::make_query("www.example", 1, 31)), Step::Forward);
    reply_len = p.finish(prepared, MutableBytes(answer), {}, ClientTransport::Udp, kClient, reply);
    EXPECT_EQ(reply_header().rcode(), static_cast<std::uint8_t>(dns::Rcode::ServFail));
    EXPECT_EQ(reply_header().ancount, 0);
    EXPECT_EQ(counters.servfail_upstream_error, 1U);
    EXPECT_EQ(counters.blocked_names, 0U);
}

TEST_F(Fixture, ForwardingRulesPickTheirUpstream) {
    FakeUpstream lan;
    QueryProcessor p(io, upstream, settings, counters, active);
    p.set_rules(rules_for(nullptr, nullptr, "lan 192.168.1.1\n"), {&lan});
    ASSERT_EQ(prepare(p, test::make_query("nas.lan", 1, 4)), Step::Forward);
    EXPECT_EQ(prepared.upstream, &lan);
    auto a = answer_for("nas.lan", 4, 1, false);
    (void)p.finish(prepared, MutableBytes(a), "192.168.1.1:53", ClientTransport::Udp, kClient,
                   reply);
    EXPECT_EQ(counters.forwarded, 1U);  // counted with its outcome
    ASSERT_EQ(prepare(p, test::make_query("www.example", 1)), Step::Forward);
    EXPECT_EQ(prepared.upstream, &upstream);
    EXPECT_EQ(counters.forwarded, 1U);
}

TEST_F(Fixture, CloakedTargetIsAskedAndAnsweredUnderTheNameAsked) {
    QueryProcessor p(io, upstream, settings, counters, active);
    p.set_rules(rules_for(nullptr, "safe.example strict.example\n", nullptr), {});
    ASSERT_EQ(prepare(p, test::make_query("www.safe.example", 1, 21)), Step::Forward);
    ASSERT_TRUE(prepared.cloaked);
    EXPECT_EQ(prepared.sent().question.name.to_text(), "strict.example.");
    EXPECT_EQ(prepared.info.question.name.to_text(), "www.safe.example.");
    // The query sent carries the target and parses whole (its OPT moved along).
    EXPECT_TRUE(dns::parse_query(Bytes(buffer.data(), prepared.edns.size)));
    auto a = answer_for("strict.example", 21, 2, true);
    reply_len = p.finish(prepared, MutableBytes(a), {}, ClientTransport::Udp, kClient, reply);
    const auto h = reply_header();
    EXPECT_EQ(h.id, 21);
    EXPECT_EQ(h.ancount, 2);
    dns::Question q;
    ASSERT_TRUE(dns::read_question(Bytes(reply.data(), reply_len), q));
    EXPECT_EQ(q.name.to_text(), "www.safe.example.");
    EXPECT_EQ(counters.cloaked, 1U);

    // The same Prepared (a UDP slot's) for a query no rule touches: its own name is sent; the
    // target's storage stays for the next cloaked query instead of being allocated again.
    const dns::QueryInfo* storage = prepared.target.get();
    ASSERT_EQ(prepare(p, test::make_query("other.example", 1, 22)), Step::Forward);
    EXPECT_FALSE(prepared.cloaked);
    EXPECT_EQ(prepared.sent().question.name.to_text(), "other.example.");
    ASSERT_EQ(prepare(p, test::make_query("a.safe.example", 1, 23)), Step::Forward);
    EXPECT_TRUE(prepared.cloaked);
    EXPECT_EQ(prepared.target.get(), storage);
    EXPECT_EQ(prepared.sent().question.name.to_text(), "strict.example.");
}

TEST_F(Fixture, EveryOutcomeIsReportedOnceWithWhatASinkNeeds) {
    settings.max_active_requests = 2;
    QueryProcessor p(io, upstream, settings, counters, active);
    RecordingSink sink;
    p.add_sink(sink);
    p.set_rules(rules_for("ads.*\n", "router.lan 192.0.2.1\n", nullptr), {});

    EXPECT_EQ(prepare(p, {1, 2, 3}), Step::Drop);
    ASSERT_EQ(prepare(p, test::make_query("ads.example", 1, 3)), Step::Reply);
    ASSERT_EQ(prepare(p, test::make_query("router.lan", 1, 4)), Step::Reply);
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 5), ClientTransport::Tcp), Step::Forward);
    auto a = answer_for("a.test", 5, 1, false);
    reply_len =
        p.finish(prepared, MutableBytes(a), "resolver-1", ClientTransport::Tcp, kClient, reply);
    ASSERT_EQ(prepare(p, test::make_query("b.test", 1, 6)), Step::Forward);
    const Prepared b = std::move(prepared);
    ASSERT_EQ(prepare(p, test::make_query("c.test", 1, 7)), Step::Forward);
    const Prepared c = std::move(prepared);
    ASSERT_EQ(prepare(p, test::make_query("d.test", 1, 8)), Step::Reply);  // the limit
    reply_len = p.finish(b, Unexpected(upstream::ExchangeError::Timeout), {}, ClientTransport::Udp,
                         kClient, reply);
    upstream.up = false;
    reply_len = p.finish(c, Unexpected(upstream::ExchangeError::Network), {}, ClientTransport::Udp,
                         kClient, reply);
    ASSERT_EQ(prepare(p, test::make_query("e.test", 1, 9)), Step::Reply);
    p.report_dropped(ClientTransport::Udp, kClient);

    const auto& s = sink.seen;
    ASSERT_EQ(s.size(), 9U);
    EXPECT_EQ(s[0].outcome, Outcome::Dropped);
    EXPECT_EQ(s[0].reason, Reason::Malformed);
    EXPECT_EQ(s[0].name, "");
    EXPECT_EQ(s[0].size, 0U);

    EXPECT_EQ(s[1].outcome, Outcome::Answered);
    EXPECT_EQ(s[1].source, Source::Rule);
    EXPECT_EQ(s[1].verdict, rules::Verdict::Blocked);
    EXPECT_EQ(s[1].name, "ads.example.");
    EXPECT_GT(s[1].size, 0U);

    EXPECT_EQ(s[2].verdict, rules::Verdict::Cloaked);
    EXPECT_EQ(s[2].source, Source::Rule);

    EXPECT_EQ(s[3].outcome, Outcome::Answered);
    EXPECT_EQ(s[3].source, Source::Server);
    EXPECT_EQ(s[3].server, "resolver-1");
    EXPECT_EQ(s[3].transport, ClientTransport::Tcp);
    EXPECT_EQ(s[3].rcode, 0);
    EXPECT_EQ(s[3].size, a.size());
    EXPECT_EQ(s[3].client.address().to_string(), "192.0.2.7");
    EXPECT_EQ(s[3].client.port(), 5353);
    EXPECT_GE(s[3].duration.count(), 0);

    EXPECT_EQ(s[4].name, "d.test.");  // answered at once: two already waiting
    EXPECT_EQ(s[4].outcome, Outcome::ServFail);
    EXPECT_EQ(s[4].reason, Reason::Limit);
    EXPECT_EQ(s[4].rcode, static_cast<std::uint8_t>(dns::Rcode::ServFail));

    EXPECT_EQ(s[5].name, "b.test.");
    EXPECT_EQ(s[5].reason, Reason::Timeout);
    EXPECT_EQ(s[5].server, "");
    EXPECT_EQ(s[6].name, "c.test.");
    EXPECT_EQ(s[6].reason, Reason::UpstreamError);
    EXPECT_EQ(s[7].reason, Reason::NoServer);
    EXPECT_EQ(s[8].outcome, Outcome::Dropped);
    EXPECT_EQ(s[8].reason, Reason::Oversized);

    // The counters are tallied from the same events.
    EXPECT_EQ(counters.dropped_malformed, 1U);
    EXPECT_EQ(counters.dropped_oversized, 1U);
    EXPECT_EQ(counters.blocked_names, 1U);
    EXPECT_EQ(counters.cloaked, 1U);
    EXPECT_EQ(counters.answered, 1U);
    EXPECT_EQ(counters.refused_active_limit, 1U);
    EXPECT_EQ(counters.servfail_timeout, 1U);
    EXPECT_EQ(counters.servfail_upstream_error, 1U);
    EXPECT_EQ(counters.servfail_no_certificate, 1U);
    EXPECT_EQ(active.load(), 0U);
}

TEST_F(Fixture, CacheAndTcpOnlyOutcomes) {
    settings.tcp_only = true;
    cache::Cache cache(small_cache());
    QueryProcessor p(io, upstream, settings, counters, active, &cache);
    RecordingSink sink;
    p.add_sink(sink);
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 5)), Step::Reply);  // TC: TCP only
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 5), ClientTransport::Tcp), Step::Forward);
    auto a = answer_for("a.test", 5, 1, false);
    reply_len = p.finish(prepared, MutableBytes(a), "r", ClientTransport::Tcp, kClient, reply);
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 6), ClientTransport::Tcp), Step::Reply);
    ASSERT_EQ(sink.seen.size(), 3U);
    EXPECT_EQ(sink.seen[0].outcome, Outcome::Truncated);
    EXPECT_EQ(sink.seen[0].source, Source::None);
    EXPECT_EQ(sink.seen[1].source, Source::Server);
    EXPECT_EQ(sink.seen[2].outcome, Outcome::Answered);
    EXPECT_EQ(sink.seen[2].source, Source::Cache);
    EXPECT_EQ(sink.seen[2].server, "");
    EXPECT_EQ(counters.tc_tcp_only, 1U);
    EXPECT_EQ(counters.cache_hits, 1U);
    EXPECT_EQ(counters.answered, 1U);
}

}  // namespace
}  // namespace dcp::proxy

namespace dcp::proxy {
namespace {

TEST(QueryEvent, NamesForTheLogAndMetrics) {
    EXPECT_EQ(to_string(Outcome::Answered), "answered");
    EXPECT_EQ(to_string(Outcome::Dropped), "dropped");
    EXPECT_EQ(to_string(Source::Stale), "stale");
    EXPECT_EQ(to_string(Source::Rule), "rule");
    EXPECT_EQ(to_string(Reason::NoServer), "no server");
    EXPECT_EQ(to_string(Reason::Unanswerable), "unanswerable");
    EXPECT_EQ(to_string(static_cast<Reason>(200)), "?");
}

TEST(QueryEvent, AClientAddressOfEitherFamilyOrNone) {
    EXPECT_EQ(kClient.endpoint(),
              asio::ip::udp::endpoint(asio::ip::make_address("192.0.2.7"), 5353));
    const asio::ip::udp::endpoint v6(asio::ip::make_address("2001:db8::1"), 53);
    const ClientAddress six{v6.data(), static_cast<socklen_t>(v6.size())};
    EXPECT_EQ(six.endpoint(), v6);
    EXPECT_EQ(ClientAddress{}.endpoint().port(), 0);
}

}  // namespace
}  // namespace dcp::proxy
