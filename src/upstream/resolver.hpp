#pragma once
// One DNSCrypt server as one worker sees it (the Transport for DNSCrypt): its current
// certificate and shared key (an immutable snapshot, replaced on rotation; attempts in flight
// keep the one they started with), the certificate refresh loop (run by one worker, whose
// sessions the others adopt), UDP padding policy, and the encrypted exchange itself (UDP, TCP
// fallback on truncation or when UDP cannot carry the query).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "common/clock.hpp"
#include "common/counters.hpp"
#include "common/liveness.hpp"
#include "common/noncopyable.hpp"
#include "common/repeat_limiter.hpp"
#include "common/result.hpp"
#include "crypto/fast_random.hpp"
#include "crypto/x25519.hpp"
#include "dns/message.hpp"
#include "dnscrypt/query_size_estimator.hpp"
#include "dnscrypt/session.hpp"
#include "net/asio.hpp"
#include "upstream/exchange_error.hpp"
#include "upstream/resolver_config.hpp"
#include "upstream/server.hpp"
#include "upstream/tcp_upstream.hpp"
#include "upstream/udp_exchanger.hpp"

namespace dcp::upstream {

class Resolver final : public ServerTransport, NonCopyable {
  public:
    Resolver(asio::io_context& io, ResolverConfig config, crypto::KeyPair client_keys,
             Counters& counters, const Clock& clock);
    ~Resolver() override;

    // ServerTransport. start(): opens the upstream sockets and, when `lead`, fetches
    // certificates; every new session it makes, each truncation lesson and each certificate
    // round trip (a first latency estimate) are shared with the other workers' resolvers of
    // this server. "using certificate" is logged once all of them hold the session.
    void start(bool lead) override;
    void stop() override;
    void refresh_now() override;  // certificates now, not at the next scheduled time
    [[nodiscard]] std::string describe() const override;
    [[nodiscard]] std::string way() const override;

    // The session to encrypt with, or null when there is no certificate valid now.
    [[nodiscard]] std::shared_ptr<const dnscrypt::Session> session() const;
    [[nodiscard]] const ResolverConfig& config() const { return config_; }

    // Transport: a certificate valid now; starts an attempt over UDP when it can (TCP at once
    // after a truncated answer), over TCP otherwise. In a FlushScope, the UDP packet leaves
    // when the scope closes. Only attempts still waiting for a UDP answer can be cancelled.
    [[nodiscard]] bool ready() const override;
    void begin(Attempt& attempt) override;
    bool cancel(Attempt& attempt) override;

  private:
    // DNSCrypt's state for one attempt (resolver.cpp): pooled here, bound to the attempt from
    // begin() until it completes or is cancelled.
    class Try;

    net::awaitable<void> refresh_loop();
    void publish(const dnscrypt::Certificate& cert);
    // Logs the certificate now in use ("using certificate ...": the proxy is ready).
    void announce(const dnscrypt::Session& session) const;
    // A Try for `attempt`, from the pool.
    Try& take_try(Attempt& attempt);
    // Back to the pool, its attempt unbound: that attempt.
    Attempt& release(Try& t);
    // release(), then the attempt's outcome.
    void finish(Try& t, dcp::Result<MutableBytes, ExchangeError> answer);
    void on_udp_answer(Try& t, MutableBytes answer);
    void set_keys(Try& t) const;
    [[nodiscard]] dnscrypt::ClientNonceHalf fresh_nonce();
    void begin_tcp(Try& t, bool after_truncation);
    void begin_udp_alone(Try& t, std::size_t padded);
    // Runs `work` for `t`; an exception escaping it finishes the attempt with Network.
    void spawn_for(Try& t, net::awaitable<void> work);
    net::awaitable<void> udp_alone_then_complete(Try& t);
    net::awaitable<void> tcp_then_complete(Try& t, bool after_truncation);
    net::awaitable<dcp::Result<void, ExchangeError>> exchange_tcp(
        const Try& t, std::vector<std::uint8_t>& answer);

    asio::io_context& io_;
    ResolverConfig config_;
    crypto::KeyPair client_keys_;
    Counters& counters_;
    const Clock& clock_;
    UdpExchanger udp_;
    TcpUpstream tcp_;
    dnscrypt::QuerySizeEstimator estimator_;
    dnscrypt::RelayHeader relay_header_;  // unused without a relay
    crypto::FastRandom rng_;              // nonces and padding choices, no system call per query
    std::shared_ptr<const dnscrypt::Session> session_;
    std::chrono::microseconds last_fetch_rtt_{0};  // of the last successful certificate fetch
    // Failed fetches: a reason is said once while it repeats.
    RepeatLimiter failures_{std::chrono::steady_clock::duration::max()};
    asio::steady_timer refresh_timer_;
    bool stopped_ = false;
    Liveness alive_;
    // Every Try made (as many as attempts were ever in flight at once here), and those free.
    std::vector<std::unique_ptr<Try>> tries_;
    std::vector<Try*> free_tries_;
};

}  // namespace dcp::upstream
