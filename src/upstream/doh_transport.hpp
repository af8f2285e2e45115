#pragma once
// One DNS-over-HTTPS server (RFC 8484) as one worker sees it: the Transport for DoH. Queries
// are POSTed as HTTP/2 streams on one TLS connection, kept open and shared by every query in
// flight (nghttp2 does the framing, OpenSSL through asio::ssl the TLS). A connection the server
// closes or drains (GOAWAY) is replaced on the next query, and the queries it had not
// answered are sent again on the new one once; a connection that cannot be opened makes the
// server unusable for a back-off time, so the pool asks the others meanwhile.
//
// TLS: the system's trust store (SSL_CERT_FILE / SSL_CERT_DIR override it, as for every
// OpenSSL program), the stamp's host name checked as a browser does, ALPN "h2" required, and
// when the stamp carries hashes, one certificate of the chain whose TBSCertificate has one of
// them. A failure is logged with its reason; there is no fallback to an unverified connection.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/counters.hpp"
#include "common/noncopyable.hpp"
#include "common/repeat_limiter.hpp"
#include "net/asio.hpp"
#include "upstream/doh_config.hpp"
#include "upstream/server.hpp"

namespace asio::ssl {
class context;
}

namespace dcp::upstream {

class DohTransport final : public ServerTransport, NonCopyable {
  public:
    DohTransport(asio::io_context& io, DohConfig config, std::shared_ptr<asio::ssl::context> tls,
                 Counters& counters);
    ~DohTransport() override;

    // ServerTransport. start(): opens the first connection now, so that the first query does
    // not wait for a handshake (every worker has its own: `lead` changes nothing). Half the
    // set-up time of each new connection (connect and TLS handshake: two round trips, a query
    // takes one) is a first latency estimate. stop(): closes every connection.
    void start(bool lead) override;
    void stop() override;
    [[nodiscard]] std::string describe() const override;
    [[nodiscard]] std::string way() const override { return "DoH"; }

    // Transport: usable unless the last connection could not be opened and its back-off time
    // has not passed. Every attempt is completed (answer or error) or cancelled.
    [[nodiscard]] bool ready() const override;
    void begin(Attempt& attempt) override;
    bool cancel(Attempt& attempt) override;

    [[nodiscard]] const DohConfig& config() const { return config_; }

  private:
    struct Stream;
    class Connection;
    friend class Connection;

    Stream& take_stream();
    void recycle(Stream& s);
    Connection& current();
    void on_open(Connection& c, std::chrono::microseconds setup);
    void on_setup_failed(Connection& c, const std::string& reason);
    void on_closed(Connection& c);
    // A stream whose connection died before it was answered: sent again once on a new
    // connection (DNS queries are idempotent), else failed.
    void on_lost(Stream& s);
    void finish(Stream& s, std::uint32_t http2_error);
    void fail(Stream& s, ExchangeError error);
    void warn(const std::string& what);

    asio::io_context& io_;
    DohConfig config_;
    std::shared_ptr<asio::ssl::context> tls_;
    Counters& counters_;
    std::vector<std::shared_ptr<Connection>> connections_;  // the newest is the current one
    std::vector<std::unique_ptr<Stream>> streams_;
    std::vector<Stream*> free_streams_;
    std::chrono::steady_clock::time_point retry_at_{};
    std::chrono::milliseconds backoff_{0};
    RepeatLimiter warnings_{std::chrono::seconds(60)};  // the same trouble: once a minute
    bool announced_ = false;                            // the first connection was logged
    bool stopped_ = false;
};

}  // namespace dcp::upstream
