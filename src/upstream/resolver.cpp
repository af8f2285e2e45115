#include "upstream/resolver.hpp"

#include <spdlog/spdlog.h>

#include "common/hex.hpp"
#include "common/time_format.hpp"
#include "crypto/sodium.hpp"
#include "dnscrypt/packet.hpp"
#include "dnscrypt/padding.hpp"
#include "net/deadline.hpp"
#include "net/endpoint.hpp"
#include "upstream/answer_check.hpp"
#include "upstream/cert_fetcher.hpp"
#include "upstream/tcp_exchange.hpp"

namespace dcp::upstream {
namespace {

constexpr auto kFirstRetry = std::chrono::seconds(1);
constexpr auto kMaxRetry = std::chrono::seconds(60);
// Refresh this long before the certificate's last second, so there is time to retry.
constexpr auto kExpiryMargin = std::chrono::seconds(120);

}  // namespace

// DNSCrypt's state for one attempt: the session it encrypts for (kept for the whole try, so a
// rotation changes nothing for it), the keys (the session's, or a fresh pair per query with
// --ephemeral-keys), and its place in the UDP exchanger's table while it waits there.
class Resolver::Try final : public AttemptState, public PendingUdpQuery {
  public:
    explicit Try(Resolver& r) : resolver_(r) {}

    Attempt* attempt = nullptr;
    std::shared_ptr<const dnscrypt::Session> session;
    dnscrypt::ClientMagic magic{};
    const crypto::PublicKey* public_key = nullptr;  // the resolver's, or ephemeral's
    const crypto::SharedKey* session_key = nullptr;
    // --ephemeral-keys: this try's own key pair. Out of line (made for the first such try of
    // this Try, then reused): most runs never use it.
    struct Ephemeral {
        crypto::PublicKey public_key{};
        std::optional<crypto::SharedKey> shared;
    };
    std::unique_ptr<Ephemeral> ephemeral;
    bool ephemeral_in_use = false;
    std::size_t padded_len = 0;
    std::chrono::steady_clock::time_point deadline{};

    [[nodiscard]] const crypto::SharedKey& shared() const {
        return ephemeral_in_use ? *ephemeral->shared : *session_key;
    }
    [[nodiscard]] dnscrypt::QueryKeys query_keys() const { return {magic, *public_key, shared()}; }

  private:
    void on_udp_answer(MutableBytes answer) override { resolver_.on_udp_answer(*this, answer); }
    void on_udp_failure(ExchangeError error) override {
        resolver_.finish(*this, Unexpected(error));
    }

    Resolver& resolver_;
};

Resolver::Resolver(asio::io_context& io, ResolverConfig config, crypto::KeyPair client_keys,
                   Counters& counters, const Clock& clock)
    : io_(io),
      config_(std::move(config)),
      client_keys_(std::move(client_keys)),
      counters_(counters),
      clock_(clock),
      udp_(io, config_.udp_endpoint(), config_.udp_sockets, config_.max_udp_packet, counters),
      tcp_(config_.tcp_endpoint(), counters),
      estimator_(
          config_.max_udp_packet - config_.relay_header_size(),
          config_.relayed() ? dnscrypt::kMinRelayedQueryLength : dnscrypt::kMinUdpQueryLength),
      relay_header_(config_.relay_header()),
      refresh_timer_(io) {}

Resolver::~Resolver() = default;

Resolver::Try& Resolver::take_try(Attempt& attempt) {
    if (free_tries_.empty()) {
        tries_.push_back(std::make_unique<Try>(*this));
        free_tries_.push_back(tries_.back().get());
    }
    Try& t = *free_tries_.back();
    free_tries_.pop_back();
    t.attempt = &attempt;
    bind(attempt, &t);
    return t;
}

Attempt& Resolver::release(Try& t) {
    Attempt& attempt = *t.attempt;
    bind<Try>(attempt, nullptr);
    t.attempt = nullptr;
    free_tries_.push_back(&t);
    return attempt;
}

void Resolver::finish(Try& t, dcp::Result<MutableBytes, ExchangeError> answer) {
    complete(release(t), answer);  // may begin another attempt here, with this Try
}

void Resolver::on_udp_answer(Try& t, MutableBytes answer) {
    if (!dns::parse_header(answer)->tc()) {  // matched the query already: the header is there
        estimator_.on_udp_answer(answer.size());
        finish(t, answer);
        return;
    }
    ++counters_.upstream_truncated;
    ++counters_.upstream_tcp_retries;
    begin_tcp(t, true);
}

bool Resolver::cancel(Attempt& attempt) {
    // Only a try still waiting for its UDP answer can be taken back at once.
    Try* t = bound<Try>(attempt);
    if (t == nullptr || !udp_.cancel(*t)) return false;
    (void)release(*t);
    return true;
}

void Resolver::start(bool lead) {
    // With ephemeral keys every UDP query has a socket of its own (udp_alone_then_complete).
    if (!config_.tcp_only && !config_.ephemeral_keys) udp_.start();
    if (!lead) return;
    asio::co_spawn(io_, refresh_loop(), [](std::exception_ptr e) {
        if (e) spdlog::critical("certificate refresh loop stopped by an internal error");
    });
}

void Resolver::stop() {
    stopped_ = true;
    alive_.end();
    tcp_.stop();
    refresh_timer_.cancel();
    udp_.stop();
}

void Resolver::refresh_now() {
    refresh_timer_.cancel();
}

bool Resolver::ready() const {
    // Never encrypt with a certificate past its last second, even if a refresh is late.
    // Asked twice per query (processor, pool): no copy of the session, no refcount traffic.
    return session_ && dnscrypt::check_validity(session_->certificate(), clock_.now());
}

std::shared_ptr<const dnscrypt::Session> Resolver::session() const {
    return ready() ? session_ : nullptr;
}

void Resolver::publish(const dnscrypt::Certificate& cert) {
    if (session_ && session_->certificate().serial == cert.serial &&
        session_->certificate().construction == cert.construction &&
        session_->certificate().resolver_public_key == cert.resolver_public_key) {
        return;  // unchanged
    }
    auto session = dnscrypt::Session::create(cert, client_keys_);
    if (!session) {
        spdlog::error("certificate serial {} rejected: {}", cert.serial,
                      dnscrypt::to_string(session.error()));
        return;
    }
    if (session_) ++counters_.cert_rotations;
    session_ = std::make_shared<const dnscrypt::Session>(std::move(*session));
    // With other workers, "using certificate" (what a supervisor or a test reads as ready) is
    // logged only once every worker holds the session: before, a query landing on another
    // worker right after the line could still get SERVFAIL for want of a certificate.
    share({[session = session_](ServerTransport& peer) {
               static_cast<Resolver&>(peer).session_ = session;  // immutable: shared as is
           },
           [this, session = session_] { announce(*session); }});
}

std::string Resolver::describe() const {
    return "resolver " + config_.provider_name_text + " (" +
           net::to_string(config_.udp_endpoint()) + "), " + way();
}

std::string Resolver::way() const {
    return config_.tcp_only ? "TCP only, port " + std::to_string(config_.tcp_port)
                            : std::string("UDP and TCP");
}

void Resolver::announce(const dnscrypt::Session& session) const {
    const auto& cert = session.certificate();
    spdlog::info(
        "using certificate serial {} from {} ({}{}): {}, valid {} to {}, resolver key {}, "
        "fetched in {}",
        cert.serial, config_.provider_name_text, config_.address.to_string(),
        config_.relayed() ? " via relay " + config_.relay_name : std::string(),
        crypto::to_string(cert.construction), format_utc(cert.ts_start), format_utc(cert.ts_end),
        hex_encode_grouped(cert.resolver_public_key), format_ms(last_fetch_rtt_));
    if (cert.long_lived()) {
        spdlog::warn("certificate serial {} is valid for more than 7 days: weak forward secrecy",
                     cert.serial);
    }
}

net::awaitable<void> Resolver::refresh_loop() {
    auto retry = kFirstRetry;
    while (!stopped_) {
        const auto fetch_start = std::chrono::steady_clock::now();
        auto choice = co_await fetch_certificates(config_, clock_);
        std::chrono::seconds wait = config_.cert_refresh;
        if (choice) {
            ++counters_.cert_refreshes;
            last_fetch_rtt_ = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - fetch_start);
            estimate_latency(last_fetch_rtt_);
            share({[rtt = last_fetch_rtt_](ServerTransport& peer) {
                       static_cast<Resolver&>(peer).estimate_latency(rtt);
                   },
                   nullptr});
            for (const auto& rej : choice->rejected) {
                spdlog::debug("certificate #{} skipped: {}", rej.index,
                              dnscrypt::to_string(rej.reason));
            }
            publish(*choice->chosen);
            retry = kFirstRetry;
            failures_.clear();
            const auto until_expiry = std::chrono::duration_cast<std::chrono::seconds>(
                                          choice->chosen->not_after() - clock_.now()) -
                                      kExpiryMargin;
            wait = std::max(std::chrono::seconds(1), std::min(wait, until_expiry));
        } else {
            ++counters_.cert_refresh_failures;
            wait = retry;
            // Said once: a server that stays unreachable (no network at boot) must not fill
            // the log every minute; the line comes again when the reason changes.
            const bool say =
                failures_.occur(choice.error().reason, std::chrono::steady_clock::now()) != 0;
            spdlog::log(say ? spdlog::level::warn : spdlog::level::debug,
                        "no valid certificate from {} at {}{}: {}; retrying in {}s{}",
                        config_.provider_name_text, net::to_string(config_.server_endpoint()),
                        config_.relayed() ? " via relay " + config_.relay_name + " (" +
                                                net::to_string(config_.udp_endpoint()) + ")"
                                          : std::string(),
                        choice.error().reason, retry.count(),
                        session() ? "" : " (queries get SERVFAIL until then)");
            retry = std::min(retry * 2, kMaxRetry);
        }
        spdlog::debug("next certificate check in {}s", wait.count());
        refresh_timer_.expires_after(wait);
        co_await refresh_timer_.async_wait(net::use_nothrow);
    }
}

void Resolver::set_keys(Try& t) const {
    const auto& session = *t.session;
    t.magic = session.certificate().client_magic;
    t.public_key = &client_keys_.public_key;
    t.session_key = &session.shared_key();
    t.ephemeral_in_use = false;
    if (config_.ephemeral_keys) {
        // A new key pair per query: the resolver cannot link our queries by key.
        const auto pair = crypto::KeyPair::generate();
        if (!t.ephemeral) t.ephemeral = std::make_unique<Try::Ephemeral>();
        t.ephemeral->shared =
            crypto::SharedKey::precompute(session.certificate().construction,
                                          session.certificate().resolver_public_key,
                                          pair.secret_key)
                .value();  // the certificate's key passed precompute once already
        t.ephemeral->public_key = pair.public_key;
        t.public_key = &t.ephemeral->public_key;
        t.ephemeral_in_use = true;
    }
}

dnscrypt::ClientNonceHalf Resolver::fresh_nonce() {
    dnscrypt::ClientNonceHalf nonce{};
    do {
        rng_.fill(nonce);
    } while (udp_.is_pending(nonce));
    return nonce;
}

void Resolver::begin(Attempt& q) {
    auto session_now = session();
    if (!session_now) {  // expired since the caller looked: it asks another server
        complete(q, Unexpected(ExchangeError::Network));
        return;
    }
    Try& t = take_try(q);
    t.deadline = std::chrono::steady_clock::now() + config_.timeout;
    t.session = std::move(session_now);
    set_keys(t);
    if (!config_.tcp_only) {
        const auto extra = config_.relay_header_size();
        const auto padded = dnscrypt::udp_padded_length(
            q.message.size(), estimator_.min_query_len(), config_.max_udp_packet, extra);
        if (padded) {
            if (config_.ephemeral_keys) {
                begin_udp_alone(t, *padded);
                return;
            }
            const auto buffer = udp_.send_buffer();
            if (buffer.empty()) {  // the sockets cannot take more now
                finish(t, Unexpected(ExchangeError::Network));
                return;
            }
            ++counters_.upstream_udp_queries;
            t.padded_len = *padded;
            const auto nonce = fresh_nonce();
            if (extra != 0) std::copy(relay_header_.begin(), relay_header_.end(), buffer.begin());
            const auto len = dnscrypt::encrypt_query(t.query_keys(), q.message, nonce, *padded,
                                                     buffer.subspan(extra));
            if (!len) {
                finish(t, Unexpected(ExchangeError::TooLarge));
                return;
            }
            udp_.submit(t, {*len + extra, nonce, &t.shared(), q.info->header.id, &q.info->question,
                            t.deadline});
            return;
        }
        ++counters_.upstream_udp_cannot_pad;
    }
    begin_tcp(t, false);
}

void Resolver::spawn_for(Try& t, net::awaitable<void> work) {
    // An exception escaping `work` would leave the attempt waiting for ever, its slot in the
    // pool taken: it finishes as a network failure instead. Nothing once stopped: the
    // attempt's owner is gone too.
    asio::co_spawn(io_, std::move(work),
                   [this, &t, alive = alive_.token()](const std::exception_ptr& e) {
                       if (!e || !alive) return;
                       ++counters_.handler_exceptions;
                       finish(t, Unexpected(ExchangeError::Network));
                   });
}

void Resolver::begin_udp_alone(Try& t, std::size_t padded) {
    ++counters_.upstream_udp_queries;
    t.padded_len = padded;
    spawn_for(t, udp_alone_then_complete(t));
}

// --ephemeral-keys over UDP: the query leaves from a socket of its own, opened for it and closed
// after it, so no two queries share a source port the resolver could link them by.
net::awaitable<void> Resolver::udp_alone_then_complete(Try& t) {
    const Attempt& q = *t.attempt;
    const auto extra = config_.relay_header_size();
    std::vector<std::uint8_t> packet(extra + dnscrypt::query::kHeaderSize + t.padded_len);
    if (extra != 0) std::copy(relay_header_.begin(), relay_header_.end(), packet.begin());
    const auto nonce = fresh_nonce();
    auto len = dnscrypt::encrypt_query(t.query_keys(), q.message, nonce, t.padded_len,
                                       MutableBytes(packet).subspan(extra));
    if (!len) {
        finish(t, Unexpected(ExchangeError::TooLarge));
        co_return;
    }
    *len += extra;
    asio::ip::udp::socket socket(io_);
    asio::error_code ec;
    socket.open(config_.udp_endpoint().protocol(), ec);
    if (!ec) socket.connect(config_.udp_endpoint(), ec);
    if (ec) {
        finish(t, Unexpected(ExchangeError::Network));
        co_return;
    }
    const auto [send_ec, sent] =
        co_await socket.async_send(asio::buffer(packet.data(), *len), net::use_nothrow);
    if (send_ec) {
        finish(t, Unexpected(ExchangeError::Network));
        co_return;
    }
    asio::steady_timer deadline(io_, t.deadline);
    std::vector<std::uint8_t> buffer(config_.max_udp_packet + dnscrypt::query::kHeaderSize);
    for (;;) {
        const auto n = co_await net::before_deadline(
            socket.async_receive(asio::buffer(buffer), net::use_nothrow), deadline);
        if (!n) {
            // A port unreachable from an earlier datagram shows here; anything else ends it.
            if (n.error() == asio::error::connection_refused) continue;
            finish(t, Unexpected(exchange_error(n.error())));
            co_return;
        }
        // Length, magic and nonce half are checked (and counted) by open_answer too.
        const auto msg = open_answer(MutableBytes(buffer.data(), *n), nonce, t.shared(),
                                     q.info->header.id, q.info->question, counters_);
        if (!msg) continue;
        on_udp_answer(t, *msg);
        co_return;
    }
}

void Resolver::begin_tcp(Try& t, bool after_truncation) {
    spawn_for(t, tcp_then_complete(t, after_truncation));
}

net::awaitable<void> Resolver::tcp_then_complete(Try& t, bool after_truncation) {
    std::vector<std::uint8_t> answer;
    const auto r = co_await exchange_tcp(t, answer);
    if (!r) {
        finish(t, Unexpected(r.error()));
        co_return;
    }
    if (after_truncation) {
        const auto payload = t.attempt->udp_payload;
        estimator_.on_truncated(t.padded_len, answer.size(), payload);
        // One truncated round trip teaches every worker.
        share({[padded = t.padded_len, size = answer.size(), payload](ServerTransport& peer) {
                   static_cast<Resolver&>(peer).estimator_.on_truncated(padded, size, payload);
               },
               nullptr});
    }
    finish(t, MutableBytes(answer));
}

net::awaitable<dcp::Result<void, ExchangeError>> Resolver::exchange_tcp(
    const Try& t, std::vector<std::uint8_t>& answer) {
    const Attempt& q = *t.attempt;
    const auto query = q.message;
    const auto& info = *q.info;
    ++counters_.upstream_tcp_queries;
    const auto extra = config_.relay_header_size();
    auto padded =
        dnscrypt::tcp_padded_length(query.size(), rng_.uniform(dnscrypt::kTcpPaddingChoices));
    if (extra != 0) {
        // The relay talks to the server over UDP, where the server truncates any answer larger
        // than the query: through a relay a TCP query is padded to the largest packet (spec
        // 14.4, as dnscrypt-proxy does).
        padded = (config_.max_udp_packet - dnscrypt::query::kHeaderSize - extra) /
                 dnscrypt::kPaddingBlock * dnscrypt::kPaddingBlock;
        if (query.size() + 1 > padded) co_return Unexpected(ExchangeError::TooLarge);
    }
    std::vector<std::uint8_t> packet(extra + dnscrypt::query::kHeaderSize + padded);
    if (extra != 0) std::copy(relay_header_.begin(), relay_header_.end(), packet.begin());
    const auto nonce = fresh_nonce();
    auto len = dnscrypt::encrypt_query(t.query_keys(), query, nonce, padded,
                                       MutableBytes(packet).subspan(extra));
    if (!len) co_return Unexpected(ExchangeError::TooLarge);
    // With ephemeral keys a connection is never reused: it would link the queries it carried.
    auto response = co_await tcp_.exchange(packet, t.deadline, !config_.ephemeral_keys);
    if (!response) co_return Unexpected(response.error());
    const auto msg =
        open_answer(*response, nonce, t.shared(), info.header.id, info.question, counters_);
    if (!msg) co_return Unexpected(ExchangeError::BadAnswer);
    answer.assign(msg->begin(), msg->end());
    co_return dcp::Result<void, ExchangeError>{};
}

}  // namespace dcp::upstream
