// QueryProcessor against a fake upstream: what each client message becomes, without sockets.
#include "proxy/query_processor.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "../dns/dns_builder.hpp"
#include "dns/message.hpp"

namespace dcp::proxy {
namespace {

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
    ProcessorSettings settings;
    std::array<std::uint8_t, kQueryBufferSize> buffer{};
    std::array<std::uint8_t, 8192> reply{};
    std::size_t reply_len = 0;
    Prepared prepared;

    Step prepare(QueryProcessor& p, const std::vector<std::uint8_t>& query,
                 ClientTransport t = ClientTransport::Udp) {
        std::copy(query.begin(), query.end(), buffer.begin());
        return p.prepare(buffer, query.size(), t, prepared, reply, reply_len);
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
    EXPECT_EQ(p.prepare(buffer, big.size(), ClientTransport::Udp, prepared, reply, reply_len),
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
    reply_len = p.finish(prepared, MutableBytes(a), ClientTransport::Udp, reply);
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
    reply_len = p.finish(prepared, MutableBytes(a), ClientTransport::Udp, reply);
    EXPECT_LE(reply_len, 512U);
    EXPECT_TRUE(reply_header().tc());
    EXPECT_EQ(counters.truncated_for_client, 1U);
    // Over TCP the same answer goes whole.
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 9), ClientTransport::Tcp), Step::Forward);
    EXPECT_EQ(p.finish(prepared, MutableBytes(a), ClientTransport::Tcp, reply), a.size());
}

TEST_F(Fixture, UpstreamErrorsBecomeServfailByReason) {
    QueryProcessor p(io, upstream, settings, counters, active);
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 5)), Step::Forward);
    reply_len = p.finish(prepared, Unexpected(upstream::ExchangeError::Timeout),
                         ClientTransport::Udp, reply);
    EXPECT_EQ(reply_header().rcode(), 2);
    EXPECT_EQ(reply_header().id, 5);
    EXPECT_EQ(counters.servfail_timeout, 1U);
    ASSERT_EQ(prepare(p, test::make_query("a.test", 1, 5)), Step::Forward);
    reply_len = p.finish(prepared, Unexpected(upstream::ExchangeError::Network),
                         ClientTransport::Udp, reply);
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
    asio::co_spawn(io, p.process(q1, ClientTransport::Tcp, out), [&](std::exception_ptr e, bool r) {
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
    asio::co_spawn(io, p.process(q2, ClientTransport::Tcp, out),
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

}  // namespace
}  // namespace dcp::proxy
