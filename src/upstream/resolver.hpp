#pragma once
// The DNSCrypt resolver as the proxy sees it: its current certificate and shared key (an
// immutable snapshot, replaced atomically on rotation; queries in flight keep the one they
// started with), the certificate refresh loop, UDP padding policy, and the encrypted exchange
// itself (UDP, TCP fallback on truncation or when UDP cannot carry the query).

#include <chrono>
#include <functional>
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
#include "upstream/tcp_upstream.hpp"
#include "upstream/udp_exchanger.hpp"

namespace dcp::upstream {

class Resolver {
    // The keys one query encrypts with: the session's, or a fresh pair per query
    // (--ephemeral-keys).
    struct Keys {
        dnscrypt::ClientMagic magic{};
        crypto::PublicKey public_key{};
        const crypto::SharedKey* session_key = nullptr;  // owned by the session the query holds
        std::optional<crypto::SharedKey> ephemeral;

        [[nodiscard]] const crypto::SharedKey& shared() const {
            return ephemeral ? *ephemeral : *session_key;
        }
        [[nodiscard]] dnscrypt::QueryKeys query_keys() const {
            return {magic, public_key, shared()};
        }
    };

  public:
    // One query to the resolver. The caller fills in the inputs, calls begin(), and keeps the
    // object (and what the inputs point to) alive until complete() has been called: exactly
    // once, possibly before begin() returns. Objects are reusable after that, so a pool of them
    // serves any number of queries without allocating.
    class Query : public PendingUdpQuery {
      public:
        Query() = default;
        ~Query() override = default;
        Query(const Query&) = delete;
        Query& operator=(const Query&) = delete;

        std::shared_ptr<const dnscrypt::Session> session;  // the certificate to encrypt for
        const dns::QueryInfo* info = nullptr;              // the client's query
        Bytes message;                                     // the query to send (EDNS-adjusted)
        std::uint16_t udp_payload = 512;                   // the UDP size `message` advertises

      protected:
        // The decrypted, checked answer (a view valid during the call only), or why none came.
        virtual void complete(dcp::Result<MutableBytes, ExchangeError> answer) = 0;

      private:
        friend class Resolver;
        void on_udp_answer(MutableBytes answer) final;
        void on_udp_failure(ExchangeError error) final;

        Resolver* resolver_ = nullptr;
        Keys keys_;
        std::size_t padded_len_ = 0;
        std::chrono::steady_clock::time_point deadline_{};
    };

    Resolver(asio::io_context& io, ResolverConfig config, crypto::KeyPair client_keys,
             Counters& counters, const Clock& clock);
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // Opens the upstream sockets and, unless another worker's resolver does it and passes its
    // sessions on (adopt), starts fetching certificates.
    void start(bool fetch_certificates = true);
    // Called with every new session this resolver makes (to hand it to the other workers), who
    // then call announce() once all of them hold it. Without it, publishing announces at once.
    void on_new_session(std::function<void(std::shared_ptr<const dnscrypt::Session>)> f) {
        on_new_session_ = std::move(f);
    }
    // Called with what each truncated UDP answer taught the padding estimator, and where
    // another worker's lesson is applied: one truncated round trip teaches every worker.
    using TruncationLesson = std::function<void(std::size_t padded_len, std::size_t answer_len,
                                                std::uint16_t advertised_payload)>;
    void on_truncation(TruncationLesson f) { on_truncation_ = std::move(f); }
    void learn_truncation(std::size_t padded_len, std::size_t answer_len,
                          std::uint16_t advertised_payload) {
        estimator_.on_truncated(padded_len, answer_len, advertised_payload);
    }
    // Uses a session made by another worker's resolver (sessions are immutable: shared as is).
    void adopt(std::shared_ptr<const dnscrypt::Session> session) { session_ = std::move(session); }
    // Logs the certificate now in use ("using certificate ...": the proxy is ready).
    void announce(const dnscrypt::Session& session) const;
    void stop();
    // Fetches certificates now instead of at the next scheduled time.
    void refresh_now();

    // The session to encrypt with, or null when there is no certificate valid now.
    [[nodiscard]] std::shared_ptr<const dnscrypt::Session> session() const;
    [[nodiscard]] const ResolverConfig& config() const { return config_; }

    // Starts `query`: over UDP when it can (TCP at once after a truncated answer), over TCP
    // otherwise. In a FlushScope, the UDP packet leaves when the scope closes.
    void begin(Query& query);

    // The same as a coroutine, for callers that can wait (the TCP listener).
    // Encrypts `query` (already EDNS-adjusted, advertising `udp_payload`; `info` describes the
    // client's query) with `session`, sends it, and writes the decrypted, checked answer into
    // `answer`. Truncated UDP answers are retried over TCP at once.
    [[nodiscard]] net::awaitable<dcp::Result<void, ExchangeError>> exchange(
        std::shared_ptr<const dnscrypt::Session> session, const dns::QueryInfo& info, Bytes query,
        std::uint16_t udp_payload, std::vector<std::uint8_t>& answer);

  private:
    net::awaitable<void> refresh_loop();
    void publish(const dnscrypt::Certificate& cert);
    void set_keys(Keys& keys, const dnscrypt::Session& session) const;
    [[nodiscard]] dnscrypt::ClientNonceHalf fresh_nonce();
    void begin_tcp(Query& query, bool after_truncation);
    void begin_udp_alone(Query& query, std::size_t padded);
    // Runs `work` for `query`; an exception escaping it completes the query with Network.
    void spawn_for(Query& query, net::awaitable<void> work);
    net::awaitable<void> udp_alone_then_complete(Query& query);
    net::awaitable<void> tcp_then_complete(Query& query, bool after_truncation);
    net::awaitable<dcp::Result<void, ExchangeError>> exchange_tcp(
        const Keys& keys, const dns::QueryInfo& info, Bytes query,
        std::chrono::steady_clock::time_point deadline, std::vector<std::uint8_t>& answer);

    asio::io_context& io_;
    ResolverConfig config_;
    crypto::KeyPair client_keys_;
    Counters& counters_;
    const Clock& clock_;
    UdpExchanger udp_;
    TcpUpstream tcp_;
    dnscrypt::QuerySizeEstimator estimator_;
    crypto::FastRandom rng_;  // nonces and padding choices, no system call per query
    std::shared_ptr<const dnscrypt::Session> session_;
    std::function<void(std::shared_ptr<const dnscrypt::Session>)> on_new_session_;
    TruncationLesson on_truncation_;
    asio::steady_timer refresh_timer_;
    bool stopped_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dcp::upstream
