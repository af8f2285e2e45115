#include "upstream/doh_transport.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include <asio/ssl/error.hpp>

#include "common/time_format.hpp"
#include "doh/message.hpp"
#include "http2/client_session.hpp"
#include "net/endpoint.hpp"
#include "net/flush_scope.hpp"
#include "tls/client.hpp"

namespace dcp::upstream {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kWriteBatch = 64 * 1024;       // bytes gathered into one TLS write at most
constexpr std::int32_t kConnectionWindow = 1 << 20;  // many answers in flight without stalls
constexpr auto kMaxBackoff = std::chrono::milliseconds(8000);
constexpr auto kFirstBackoff = std::chrono::milliseconds(500);

}  // namespace

// One query on one connection: the HTTP/2 exchange, and who waits for it.
struct DohTransport::Stream final : AttemptState, http2::Exchange {
    Attempt* attempt = nullptr;  // null once taken back (cancel) or completed
    Connection* conn = nullptr;
    std::size_t index = 0;  // in conn->streams_ or conn->waiting_
    doh::PreparedQuery prepared;
    bool retried = false;
    Clock::time_point submitted_at{};

    void reset_answer() {
        reset_response();
        conn = nullptr;
    }
};

// One TLS connection (tls::connect) carrying an HTTP/2 session (http2::ClientSession): moves
// the bytes between them, and hands each closed stream back to the transport.
class DohTransport::Connection final : public std::enable_shared_from_this<Connection>,
                                       public net::Flushable,
                                       private http2::ClientSession::Events {
  public:
    enum class State : std::uint8_t { Connecting, Open, Draining, Closed };

    Connection(DohTransport& owner, asio::ssl::context& tls)
        : owner_(&owner),
          io_(owner.io_),
          tls_(owner.io_, tls),
          timer_(owner.io_),
          h2_(*this, http2::Target{owner.config_.authority, owner.config_.path, doh::kContentType,
                                   doh::kMaxMessage, &doh::is_dns_message_type}) {}

    [[nodiscard]] State state() const { return state_; }

    void open() {
        asio::co_spawn(io_, setup(shared_from_this()),
                       [self = shared_from_this()](const std::exception_ptr& e) {
                           if (!e) return;
                           try {
                               std::rethrow_exception(e);
                           } catch (const std::exception& x) {
                               self->close(std::string("set-up failed: ") + x.what());
                           }
                       });
    }

    void add(Stream& s) {
        s.conn = this;
        if (state_ == State::Connecting) {
            s.index = waiting_.size();
            waiting_.push_back(&s);
            return;
        }
        submit(s);
        request_flush();
    }

    // Takes back a stream whose answer is no longer wanted.
    void cancel(Stream& s) {
        if (!s.submitted()) {  // still waiting for the connection
            remove(waiting_, s);
            owner_->recycle(s);
            return;
        }
        s.attempt = nullptr;  // recycled when its stream closes
        // A connection that has carried nothing back since this query went out, for as long
        // as a query may take, is dead without having said so (a NAT forgot it, a server
        // hangs): give it up now rather than after every query on it has timed out.
        const auto timeout = owner_->config_.timeout;
        const bool silent = last_read_ < s.submitted_at && Clock::now() - s.submitted_at >= timeout;
        h2_.cancel(s);
        request_flush();
        if (silent) close("no data from the server for " + std::to_string(timeout.count()) + " ms");
    }

    // Ends the connection; its unanswered streams go back to the transport.
    void close(const std::string& reason) {
        if (state_ == State::Closed) return;
        auto keep = shared_from_this();
        const State was = state_;
        state_ = State::Closed;
        timer_.cancel();
        asio::error_code ignored;
        tls_.lowest_layer().close(ignored);
        auto lost = std::move(streams_);
        auto waiting = std::move(waiting_);
        streams_.clear();
        waiting_.clear();
        if (owner_ == nullptr) return;
        DohTransport& owner = *owner_;
        if (was == State::Connecting) {
            owner.on_setup_failed(*this, reason);
            for (Stream* s : waiting) owner.fail(*s, ExchangeError::Network);
            return;
        }
        if (!lost.empty() || was != State::Draining) {
            spdlog::debug("DoH server {}: connection closed ({}), {} quer{} unanswered",
                          owner.config_.name, reason, lost.size(), lost.size() == 1 ? "y" : "ies");
        }
        owner.on_closed(*this);
        for (Stream* s : lost) owner.on_lost(*s);
        for (Stream* s : waiting) owner.on_lost(*s);
    }

    // The transport is going away: nothing may reach it any more.
    void detach() {
        owner_ = nullptr;
        streams_.clear();
        waiting_.clear();
        close("stopped");
    }

  private:
    // The parameter (unnamed) keeps the connection alive while the coroutine runs.
    net::awaitable<void> setup(std::shared_ptr<Connection> /*self*/) {
        const auto started = Clock::now();
        const DohConfig& cfg = owner_->config_;
        timer_.expires_after(cfg.timeout);
        const tls::Peer peer{cfg.host, cfg.port, cfg.address, cfg.hashes, "h2", "HTTP/2"};
        auto connected = co_await tls::connect(tls_, timer_, peer);
        if (owner_ == nullptr || state_ == State::Closed) co_return;
        if (!connected) {
            close(connected.error());
            co_return;
        }
        peer_ = *connected;
        if (auto started_h2 = h2_.start(kConnectionWindow); !started_h2) {
            close(started_h2.error());
            co_return;
        }
        timer_.cancel();
        state_ = State::Open;
        owner_->on_open(
            *this, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started));
        if (state_ != State::Open) co_return;
        auto waiting = std::move(waiting_);
        waiting_.clear();
        for (Stream* s : waiting) submit(*s);
        flush();
        read();
    }

    void submit(Stream& s) {
        if (!h2_.submit(s)) {
            s.conn = nullptr;
            owner_->fail(s, ExchangeError::Network);
            return;
        }
        s.submitted_at = Clock::now();
        s.index = streams_.size();
        streams_.push_back(&s);
        ++owner_->counters_.doh_queries;
    }

    static void remove(std::vector<Stream*>& list, Stream& s) {
        if (s.index >= list.size() || list[s.index] != &s) return;
        list[s.index] = list.back();
        list[s.index]->index = s.index;
        list.pop_back();
    }

    void read() {
        tls_.async_read_some(asio::buffer(in_),
                             [self = shared_from_this()](const asio::error_code& ec,
                                                         std::size_t n) { self->on_read(ec, n); });
    }

    void on_read(const asio::error_code& ec, std::size_t n) {
        if (state_ == State::Closed || owner_ == nullptr) return;
        if (ec) {
            const bool closed = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
            close(closed ? "closed by the server" : ec.message());
            return;
        }
        last_read_ = Clock::now();
        net::FlushScope scope;  // answers to clients leave together, after this read
        const auto received = h2_.receive(std::span(in_.data(), n));
        if (state_ == State::Closed) return;
        if (!received) {
            close(received.error());
            return;
        }
        request_flush();
        if (h2_.finished()) {
            close("finished");
            return;
        }
        read();
    }

    void flush() override {
        if ((state_ != State::Open && state_ != State::Draining) || writing_) return;
        if (auto sent = h2_.send_into(out_, kWriteBatch); !sent) {
            close(sent.error());
            return;
        }
        if (out_.empty()) {
            if (state_ == State::Draining && streams_.empty()) close("drained");
            return;
        }
        writing_ = true;
        asio::async_write(tls_, asio::buffer(out_),
                          [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                              self->writing_ = false;
                              self->out_.clear();
                              if (self->state_ == State::Closed) return;
                              if (ec) {
                                  self->close("cannot send: " + ec.message());
                                  return;
                              }
                              self->flush();
                          });
    }

    // http2::ClientSession::Events
    void on_closed(http2::Exchange& exchange, std::uint32_t error) override {
        // Every exchange on this session is a Stream (submit()).
        auto& s = static_cast<Stream&>(exchange);
        if (owner_ == nullptr || state_ == State::Closed) return;
        remove(streams_, s);
        owner_->finish(s, error);
    }

    void on_goaway(std::int32_t last_stream) override {
        if (state_ != State::Open) return;
        // No new streams here; the next query opens a new connection. Streams the server did
        // not take are closed with REFUSED_STREAM and sent again.
        state_ = State::Draining;
        spdlog::debug("DoH server {}: GOAWAY (last stream {})",
                      owner_ != nullptr ? owner_->config_.name : "", last_stream);
    }

    DohTransport* owner_;
    asio::io_context& io_;
    tls::Stream tls_;
    asio::steady_timer timer_;
    asio::ip::tcp::endpoint peer_;
    http2::ClientSession h2_;
    State state_ = State::Connecting;
    std::vector<Stream*> waiting_;  // before the connection is open
    std::vector<Stream*> streams_;  // submitted, not closed yet
    std::array<std::uint8_t, 16 * 1024> in_{};
    std::vector<std::uint8_t> out_;
    bool writing_ = false;
    Clock::time_point last_read_{};

    friend class DohTransport;
};

DohTransport::DohTransport(asio::io_context& io, DohConfig config,
                           std::shared_ptr<asio::ssl::context> tls, Counters& counters)
    : io_(io), config_(std::move(config)), tls_(std::move(tls)), counters_(counters) {}

DohTransport::~DohTransport() {
    stop();
}

void DohTransport::start(bool /*lead*/) {
    if (!stopped_ && config_.connect_at_start) current();
}

std::string DohTransport::describe() const {
    return "DoH resolver " + config_.name + " (" + config_.url() + ")";
}

void DohTransport::stop() {
    stopped_ = true;
    auto connections = std::move(connections_);
    connections_.clear();
    for (auto& c : connections) c->detach();
}

bool DohTransport::ready() const {
    return !stopped_ && Clock::now() >= retry_at_;
}

DohTransport::Stream& DohTransport::take_stream() {
    if (free_streams_.empty()) {
        streams_.push_back(std::make_unique<Stream>());
        return *streams_.back();
    }
    Stream* s = free_streams_.back();
    free_streams_.pop_back();
    return *s;
}

void DohTransport::recycle(Stream& s) {
    s.attempt = nullptr;
    s.reset_answer();
    s.retried = false;
    free_streams_.push_back(&s);
}

DohTransport::Connection& DohTransport::current() {
    if (!connections_.empty()) {
        auto& c = *connections_.back();
        if (c.state() == Connection::State::Connecting || c.state() == Connection::State::Open) {
            return c;
        }
    }
    connections_.push_back(std::make_shared<Connection>(*this, *tls_));
    auto& c = *connections_.back();
    c.open();
    return c;
}

void DohTransport::begin(Attempt& attempt) {
    if (stopped_) {
        complete(attempt, Unexpected(ExchangeError::Network));
        return;
    }
    Stream& s = take_stream();
    const auto prepared = doh::prepare_query(attempt.message, *attempt.info, s.body);
    if (!prepared) {
        recycle(s);
        complete(attempt, Unexpected(ExchangeError::TooLarge));
        return;
    }
    s.prepared = *prepared;
    s.attempt = &attempt;
    bind(attempt, &s);
    current().add(s);
}

bool DohTransport::cancel(Attempt& attempt) {
    auto* s = bound<Stream>(attempt);
    bind<Stream>(attempt, nullptr);
    if (s == nullptr || s->attempt != &attempt) return true;
    s->attempt = nullptr;
    if (s->conn == nullptr) {
        recycle(*s);
        return true;
    }
    s->conn->cancel(*s);
    return true;
}

void DohTransport::on_open(Connection& c, std::chrono::microseconds setup) {
    ++counters_.doh_connections;
    backoff_ = std::chrono::milliseconds(0);
    retry_at_ = {};
    const bool first = !announced_ || warnings_.active();
    announced_ = true;
    warnings_.clear();
    if (first) {
        spdlog::info("DoH server {}: connected to {} ({}, {}, HTTP/2) in {}", config_.name,
                     net::to_string(c.peer_), config_.url(), tls::version(c.tls_),
                     format_ms(setup));
    } else {
        spdlog::debug("DoH server {}: new connection to {} in {}", config_.name,
                      net::to_string(c.peer_), format_ms(setup));
    }
    estimate_latency(setup / 2);
}

void DohTransport::on_setup_failed(Connection& c, const std::string& reason) {
    backoff_ = backoff_.count() == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
    retry_at_ = Clock::now() + backoff_;
    warn(reason);
    on_closed(c);
}

void DohTransport::on_closed(Connection& c) {
    std::erase_if(connections_, [&](const auto& p) { return p.get() == &c; });
}

void DohTransport::on_lost(Stream& s) {
    if (s.attempt == nullptr) {
        recycle(s);
        return;
    }
    if (s.retried || stopped_) {
        fail(s, ExchangeError::Network);
        return;
    }
    s.retried = true;
    ++counters_.doh_retries;
    s.reset_answer();
    current().add(s);
}

void DohTransport::fail(Stream& s, ExchangeError error) {
    Attempt* attempt = s.attempt;
    recycle(s);
    if (attempt == nullptr) return;
    bind<Stream>(*attempt, nullptr);
    complete(*attempt, Unexpected(error));
}

void DohTransport::finish(Stream& s, std::uint32_t http2_error) {
    if (s.attempt == nullptr) {
        recycle(s);
        return;
    }
    if (http2_error == http2::kRefusedStream && !s.headers) {
        on_lost(s);  // the server did not take it (GOAWAY, or its stream limit)
        return;
    }
    if (http2_error != http2::kNoError) {
        spdlog::debug("DoH server {}: stream reset ({})", config_.name,
                      http2::error_name(http2_error));
        fail(s, ExchangeError::Network);
        return;
    }
    std::string refused;
    if (s.status != 200) {
        refused = "HTTP status " + std::to_string(s.status);
    } else if (!s.type_ok) {
        refused = "the answer is not application/dns-message";
    } else if (s.overflow) {
        refused = "the answer is larger than a DNS message can be";
    }
    dcp::Result<std::size_t, doh::AnswerError> len = Unexpected(doh::AnswerError::Malformed);
    if (refused.empty()) {
        len = doh::finish_answer(MutableBytes(s.response.data(), s.response.size()),
                                 *s.attempt->info, s.prepared);
        if (!len) refused = std::string(doh::to_string(len.error()));
    }
    if (!refused.empty()) {
        ++counters_.doh_errors;
        warn("answer refused: " + refused);
        fail(s, ExchangeError::BadAnswer);
        return;
    }
    Attempt* attempt = s.attempt;
    bind<Stream>(*attempt, nullptr);
    s.attempt = nullptr;
    complete(*attempt, MutableBytes(s.response.data(), *len));
    recycle(s);
}

void DohTransport::warn(const std::string& what) {
    // The same trouble again (a server down is retried every few seconds): once a minute at
    // most, until something changes.
    const bool say = warnings_.occur(what, std::chrono::steady_clock::now()) != 0;
    spdlog::log(say ? spdlog::level::warn : spdlog::level::debug, "DoH server {} ({}): {}",
                config_.name, config_.url(), what);
}

}  // namespace dcp::upstream
