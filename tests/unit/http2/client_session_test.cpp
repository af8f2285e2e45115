// http2::ClientSession driven by hand against nghttp2's own server session: bytes moved in
// memory between the two, no sockets.
#include "http2/client_session.hpp"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace dcp::http2 {
namespace {

constexpr std::string_view kType = "application/dns-message";

// A server answering each request from `reply` (status, content type, body), or refusing
// streams after a GOAWAY.
class Server {
  public:
    struct Reply {
        std::string status = "200";
        std::string type{kType};
        std::vector<std::uint8_t> body{1, 2, 3};
    };

    Server() {
        nghttp2_session_callbacks* cbs = nullptr;
        nghttp2_session_callbacks_new(&cbs);
        nghttp2_session_callbacks_set_on_header_callback(cbs, &Server::on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Server::on_data);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Server::on_frame);
        nghttp2_session_server_new(&h2_, cbs, this);
        nghttp2_session_callbacks_del(cbs);
        nghttp2_submit_settings(h2_, NGHTTP2_FLAG_NONE, nullptr, 0);
    }
    ~Server() { nghttp2_session_del(h2_); }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    void receive(const std::vector<std::uint8_t>& bytes) {
        ASSERT_GE(nghttp2_session_mem_recv(h2_, bytes.data(), bytes.size()), 0);
    }
    std::vector<std::uint8_t> send() {
        std::vector<std::uint8_t> out;
        for (;;) {
            const std::uint8_t* data = nullptr;
            const auto n = nghttp2_session_mem_send(h2_, &data);
            if (n <= 0) break;
            out.insert(out.end(), data, data + n);
        }
        return out;
    }
    void goaway(std::int32_t last) {
        nghttp2_submit_goaway(h2_, NGHTTP2_FLAG_NONE, last, NGHTTP2_NO_ERROR, nullptr, 0);
    }

    Reply reply;
    std::map<std::int32_t, std::map<std::string, std::string>> headers;  // per stream
    std::map<std::int32_t, std::vector<std::uint8_t>> bodies;

  private:
    static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                         std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                         std::uint8_t, void* user) {
        static_cast<Server*>(user)->headers[frame->hd.stream_id][std::string(
            reinterpret_cast<const char*>(name), namelen)] =
            std::string(reinterpret_cast<const char*>(value), valuelen);
        return 0;
    }
    static int on_data(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                       std::size_t len, void* user) {
        auto& body = static_cast<Server*>(user)->bodies[id];
        body.insert(body.end(), data, data + len);
        return 0;
    }
    static ssize_t read_reply(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                              std::uint32_t* flags, nghttp2_data_source* source, void*) {
        auto* body = static_cast<std::vector<std::uint8_t>*>(source->ptr);
        const std::size_t n = std::min(length, body->size());
        std::memcpy(buf, body->data(), n);
        body->erase(body->begin(), body->begin() + static_cast<std::ptrdiff_t>(n));
        if (body->empty()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
    }
    static int on_frame(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
        auto* self = static_cast<Server*>(user);
        if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
        if (frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) return 0;
        auto& out = self->pending_[frame->hd.stream_id];
        out = self->reply.body;
        const nghttp2_nv nva[] = {
            {reinterpret_cast<std::uint8_t*>(const_cast<char*>(":status")),
             reinterpret_cast<std::uint8_t*>(self->reply.status.data()), 7,
             self->reply.status.size(), NGHTTP2_NV_FLAG_NONE},
            {reinterpret_cast<std::uint8_t*>(const_cast<char*>("content-type")),
             reinterpret_cast<std::uint8_t*>(self->reply.type.data()), 12, self->reply.type.size(),
             NGHTTP2_NV_FLAG_NONE},
        };
        nghttp2_data_provider body{};
        body.source.ptr = &out;
        body.read_callback = &Server::read_reply;
        nghttp2_submit_response(session, frame->hd.stream_id, nva, 2, &body);
        return 0;
    }

    nghttp2_session* h2_ = nullptr;
    std::map<std::int32_t, std::vector<std::uint8_t>> pending_;
};

class Client final : public ClientSession::Events {
  public:
    void on_closed(Exchange& e, std::uint32_t error) override { closed.emplace_back(&e, error); }
    void on_goaway(std::int32_t last) override { goaways.push_back(last); }

    std::vector<std::pair<Exchange*, std::uint32_t>> closed;
    std::vector<std::int32_t> goaways;
};

bool dns_type(std::string_view t) {
    return t == kType;
}

class ClientSessionTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(session.start(1 << 20)); }

    // Moves bytes both ways until neither side has anything to say.
    void exchange_bytes() {
        for (int round = 0; round < 10; ++round) {
            std::vector<std::uint8_t> out;
            ASSERT_TRUE(session.send_into(out, 1 << 20));
            server.receive(out);
            const auto back = server.send();
            if (out.empty() && back.empty()) return;
            ASSERT_TRUE(session.receive(back));
        }
    }

    Server server;
    Client client;
    ClientSession session{client, Target{"doh.dcp.test", "/dns-query", kType, 16, &dns_type}};
};

TEST_F(ClientSessionTest, PostsTheBodyAndHandsBackTheResponse) {
    Exchange e;
    e.body = {0xAB, 0xCD, 0xEF};
    ASSERT_TRUE(session.submit(e));
    EXPECT_TRUE(e.submitted());
    exchange_bytes();
    ASSERT_EQ(client.closed.size(), 1U);
    EXPECT_EQ(client.closed[0].first, &e);
    EXPECT_EQ(client.closed[0].second, kNoError);
    EXPECT_EQ(e.status, 200);
    EXPECT_TRUE(e.type_ok);
    EXPECT_TRUE(e.headers);
    EXPECT_FALSE(e.overflow);
    EXPECT_EQ(e.response, (std::vector<std::uint8_t>{1, 2, 3}));
    // What the server saw: a POST of our body, with the target's headers.
    ASSERT_EQ(server.headers.size(), 1U);
    auto& h = server.headers.begin()->second;
    EXPECT_EQ(h[":method"], "POST");
    EXPECT_EQ(h[":scheme"], "https");
    EXPECT_EQ(h[":authority"], "doh.dcp.test");
    EXPECT_EQ(h[":path"], "/dns-query");
    EXPECT_EQ(h["accept"], kType);
    EXPECT_EQ(h["content-type"], kType);
    EXPECT_EQ(h["content-length"], "3");
    EXPECT_EQ(server.bodies.begin()->second, e.body);
}

TEST_F(ClientSessionTest, StatusTypeAndSizeAreReportedNotJudged) {
    server.reply.status = "415";
    server.reply.type = "text/html";
    server.reply.body.assign(17, 0x55);  // one past the target's 16
    Exchange e;
    e.body = {1};
    ASSERT_TRUE(session.submit(e));
    exchange_bytes();
    ASSERT_EQ(client.closed.size(), 1U);
    EXPECT_EQ(e.status, 415);
    EXPECT_FALSE(e.type_ok);
    EXPECT_TRUE(e.overflow);
    EXPECT_TRUE(e.response.empty());  // what would not fit is dropped, not kept
}

TEST_F(ClientSessionTest, ManyExchangesOnOneSession) {
    std::vector<Exchange> exchanges(20);
    for (auto& e : exchanges) {
        e.body = {7, 7};
        ASSERT_TRUE(session.submit(e));
    }
    exchange_bytes();
    ASSERT_EQ(client.closed.size(), exchanges.size());
    for (auto& e : exchanges) EXPECT_EQ(e.response, (std::vector<std::uint8_t>{1, 2, 3}));
}

TEST_F(ClientSessionTest, ACancelledExchangeStillCloses) {
    Exchange e;
    e.body = {1, 2};
    ASSERT_TRUE(session.submit(e));
    std::vector<std::uint8_t> out;
    ASSERT_TRUE(session.send_into(out, 1 << 20));
    session.cancel(e);
    out.clear();
    ASSERT_TRUE(session.send_into(out, 1 << 20));  // the RST_STREAM
    ASSERT_EQ(client.closed.size(), 1U);
    EXPECT_EQ(client.closed[0].first, &e);
    EXPECT_NE(client.closed[0].second, kNoError);
}

TEST_F(ClientSessionTest, GoawayIsReportedAndStreamsBeyondItAreRefused) {
    Exchange first;
    first.body = {1};
    ASSERT_TRUE(session.submit(first));
    exchange_bytes();
    server.goaway(1);  // the first stream (id 1) was taken, nothing after it
    ASSERT_TRUE(session.receive(server.send()));
    ASSERT_EQ(client.goaways, std::vector<std::int32_t>{1});
    Exchange late;
    late.body = {2};
    // A stream submitted after the GOAWAY never reaches the server: it closes as refused,
    // which DohTransport takes as "send it again on a new connection".
    ASSERT_TRUE(session.submit(late));
    std::vector<std::uint8_t> out;
    ASSERT_TRUE(session.send_into(out, 1 << 20));
    ASSERT_EQ(client.closed.size(), 2U);
    EXPECT_EQ(client.closed[1].first, &late);
    EXPECT_EQ(client.closed[1].second, kRefusedStream);
    EXPECT_FALSE(late.headers);
    EXPECT_EQ(error_name(kRefusedStream), "REFUSED_STREAM");
}

TEST_F(ClientSessionTest, ResetResponseMakesAnExchangeReusable) {
    Exchange e;
    e.body = {9};
    ASSERT_TRUE(session.submit(e));
    exchange_bytes();
    ASSERT_EQ(e.status, 200);
    e.reset_response();
    EXPECT_FALSE(e.submitted());
    EXPECT_EQ(e.status, 0);
    EXPECT_TRUE(e.response.empty());
    EXPECT_FALSE(e.headers);
    ASSERT_TRUE(session.submit(e));
    exchange_bytes();
    EXPECT_EQ(client.closed.size(), 2U);
    EXPECT_EQ(e.response, (std::vector<std::uint8_t>{1, 2, 3}));
}

TEST_F(ClientSessionTest, GarbageFromTheServerEndsTheSession) {
    Exchange e;
    e.body = {1};
    ASSERT_TRUE(session.submit(e));
    std::vector<std::uint8_t> out;
    ASSERT_TRUE(session.send_into(out, 1 << 20));
    EXPECT_FALSE(session.finished());
    // Not a server preface: nghttp2 answers with GOAWAY (PROTOCOL_ERROR) and the session is
    // over; the caller closes the connection and sends the exchange again elsewhere.
    const std::vector<std::uint8_t> garbage(64, 0xFF);
    ASSERT_TRUE(session.receive(garbage));
    out.clear();
    ASSERT_TRUE(session.send_into(out, 1 << 20));
    EXPECT_FALSE(out.empty());
    EXPECT_TRUE(session.finished());
    // Its streams are not closed one by one: the caller, closing the connection, takes back
    // every exchange it had submitted (DohTransport sends each again once).
    EXPECT_TRUE(client.closed.empty());
}

}  // namespace
}  // namespace dcp::http2
