#pragma once
// The DNSCrypt resolver as the proxy sees it: its current certificate and shared key (an
// immutable snapshot, replaced atomically on rotation; queries in flight keep the one they
// started with), the certificate refresh loop, UDP padding policy, and the encrypted exchange
// itself (UDP, TCP fallback on truncation or when UDP cannot carry the query).

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "common/clock.hpp"
#include "common/counters.hpp"
#include "common/result.hpp"
#include "crypto/fast_random.hpp"
#include "crypto/x25519.hpp"
#include "dns/message.hpp"
#include "dnscrypt/query_size_estimator.hpp"
#include "dnscrypt/session.hpp"
#include "net/asio.hpp"
#include "upstream/exchange_error.hpp"
#include "upstream/resolver_config.hpp"
#include "upstream/udp_exchanger.hpp"

namespace dcp::upstream {

class Resolver {
  public:
    Resolver(asio::io_context& io, ResolverConfig config, crypto::KeyPair client_keys,
             Counters& counters, const Clock& clock);
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // Opens the upstream sockets and starts fetching certificates.
    void start();
    void stop();
    // Fetches certificates now instead of at the next scheduled time.
    void refresh_now();

    // The session to encrypt with, or null when there is no certificate valid now.
    [[nodiscard]] std::shared_ptr<const dnscrypt::Session> session() const;
    [[nodiscard]] const ResolverConfig& config() const { return config_; }

    // Encrypts `query` (already EDNS-adjusted, advertising `udp_payload`; `info` describes the
    // client's query) with `session`, sends it, and writes the decrypted, checked answer into
    // `answer`. Truncated UDP answers are retried over TCP at once.
    [[nodiscard]] net::awaitable<dcp::Result<void, ExchangeError>> exchange(
        std::shared_ptr<const dnscrypt::Session> session, const dns::QueryInfo& info, Bytes query,
        std::uint16_t udp_payload, std::vector<std::uint8_t>& answer);

  private:
    struct Keys;
    net::awaitable<void> refresh_loop();
    void publish(const dnscrypt::Certificate& cert);
    [[nodiscard]] Keys keys_for(const dnscrypt::Session& session) const;
    [[nodiscard]] dnscrypt::ClientNonceHalf fresh_nonce();
    net::awaitable<dcp::Result<void, ExchangeError>> exchange_udp(
        const Keys& keys, const dns::QueryInfo& info, Bytes query, std::size_t padded_len,
        std::chrono::steady_clock::time_point deadline, std::vector<std::uint8_t>& answer);
    net::awaitable<dcp::Result<void, ExchangeError>> exchange_tcp(
        const Keys& keys, const dns::QueryInfo& info, Bytes query,
        std::chrono::steady_clock::time_point deadline, std::vector<std::uint8_t>& answer);

    asio::io_context& io_;
    ResolverConfig config_;
    crypto::KeyPair client_keys_;
    Counters& counters_;
    const Clock& clock_;
    UdpExchanger udp_;
    dnscrypt::QuerySizeEstimator estimator_;
    crypto::FastRandom rng_;  // nonces and padding choices, no system call per query
    std::shared_ptr<const dnscrypt::Session> session_;
    asio::steady_timer refresh_timer_;
    bool stopped_ = false;
};

}  // namespace dcp::upstream
