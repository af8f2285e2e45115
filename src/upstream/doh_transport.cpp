#include "upstream/doh_transport.hpp"

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include <asio/ssl.hpp>

#include "common/clock.hpp"
#include "common/hex.hpp"
#include "common/time_format.hpp"
#include "doh/message.hpp"
#include "net/deadline.hpp"
#include "net/endpoint.hpp"
#include "net/flush_scope.hpp"
#include "stamp/stamp.hpp"

namespace dcp::upstream {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kWriteBatch = 64 * 1024;       // bytes gathered into one TLS write at most
constexpr std::int32_t kConnectionWindow = 1 << 20;  // many answers in flight without stalls
constexpr auto kMaxBackoff = std::chrono::milliseconds(8000);
constexpr auto kFirstBackoff = std::chrono::milliseconds(500);

std::string openssl_reason(SSL* ssl, const asio::error_code& ec) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
        return std::string("certificate verification failed: ") +
               X509_verify_cert_error_string(verify);
    }
    if (ec == asio::error::timed_out) return "TLS handshake timed out";
    return "TLS handshake failed: " + ec.message();
}

// SHA-256 of each certificate's TBSCertificate, as stamps pin them.
std::vector<std::array<std::uint8_t, 32>> chain_hashes(SSL* ssl) {
    std::vector<std::array<std::uint8_t, 32>> out;
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
    if (chain == nullptr) return out;
    std::vector<unsigned char> der;
    for (int i = 0; i < sk_X509_num(chain); ++i) {
        X509* cert = sk_X509_value(chain, i);
        const int len = i2d_re_X509_tbs(cert, nullptr);
        if (len <= 0) continue;
        der.resize(static_cast<std::size_t>(len));
        unsigned char* p = der.data();
        if (i2d_re_X509_tbs(cert, &p) != len) continue;
        std::array<std::uint8_t, 32> h{};
        crypto_hash_sha256(h.data(), der.data(), der.size());
        out.push_back(h);
    }
    return out;
}

nghttp2_nv header(std::string_view name, std::string_view value, bool copy_value = false) {
    // Names and most values live as long as the transport (its configuration) or the program.
    return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
            reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
            value.size(),
            static_cast<std::uint8_t>(NGHTTP2_NV_FLAG_NO_COPY_NAME |
                                      (copy_value ? 0 : NGHTTP2_NV_FLAG_NO_COPY_VALUE))};
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_doh_tls_context() {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    // OpenSSL's default paths, which SSL_CERT_FILE and SSL_CERT_DIR override.
    asio::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (ec) spdlog::warn("DoH: cannot load the system's trust store: {}", ec.message());
    ctx->set_verify_mode(asio::ssl::verify_peer);
    return ctx;
}

// One query on one connection: the request body, what came back, and who waits for it.
struct DohTransport::Stream final : AttemptState {
    Attempt* attempt = nullptr;  // null once taken back (cancel) or completed
    Connection* conn = nullptr;
    std::int32_t id = -1;   // the HTTP/2 stream, once submitted
    std::size_t index = 0;  // in conn->streams_
    std::vector<std::uint8_t> request;
    std::size_t sent = 0;
    std::vector<std::uint8_t> response;
    doh::PreparedQuery prepared;
    int status = 0;
    bool type_ok = false;
    bool headers = false;
    bool overflow = false;
    bool retried = false;
    std::array<char, 8> length{};  // content-length, as text
    std::size_t length_size = 0;
    Clock::time_point submitted{};

    void reset_answer() {
        response.clear();
        status = 0;
        type_ok = false;
        headers = false;
        overflow = false;
        sent = 0;
        id = -1;
        conn = nullptr;
    }
};

class DohTransport::Connection final : public std::enable_shared_from_this<Connection>,
                                       public net::Flushable {
  public:
    enum class State : std::uint8_t { Connecting, Open, Draining, Closed };

    Connection(DohTransport& owner, asio::ssl::context& tls)
        : owner_(&owner), io_(owner.io_), tls_(owner.io_, tls), timer_(owner.io_) {}
    ~Connection() override {
        if (h2_ != nullptr) nghttp2_session_del(h2_);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

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
        if (s.id < 0) {  // still waiting for the connection
            remove(waiting_, s);
            owner_->recycle(s);
            return;
        }
        s.attempt = nullptr;  // recycled when nghttp2 closes it
        // A connection that has carried nothing back since this query went out, for as long
        // as a query may take, is dead without having said so (a NAT forgot it, a server
        // hangs): give it up now rather than after every query on it has timed out.
        const bool silent =
            last_read_ < s.submitted && Clock::now() - s.submitted >= owner_->config_.timeout;
        nghttp2_submit_rst_stream(h2_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_CANCEL);
        request_flush();
        if (silent)
            close("no data from the server for " + std::to_string(owner_->config_.timeout.count()) +
                  " ms");
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
        std::vector<asio::ip::tcp::endpoint> targets;
        if (cfg.address) {
            targets.emplace_back(*cfg.address, cfg.port);
        } else {
            asio::ip::tcp::resolver resolver(io_);
            using namespace net::ops;
            auto r = co_await (
                resolver.async_resolve(cfg.host, std::to_string(cfg.port), net::use_nothrow) ||
                timer_.async_wait(net::use_nothrow));
            if (owner_ == nullptr || state_ == State::Closed) co_return;
            if (r.index() == 1) {
                close("resolving " + cfg.host + " timed out");
                co_return;
            }
            const auto& [ec, results] = std::get<0>(r);
            if (ec) {
                close("cannot resolve " + cfg.host + ": " + ec.message());
                co_return;
            }
            for (const auto& e : results) targets.push_back(e.endpoint());
        }
        asio::error_code last = asio::error::host_not_found;
        bool connected = false;
        for (const auto& ep : targets) {
            auto& socket = tls_.lowest_layer();
            asio::error_code ignored;
            socket.close(ignored);
            auto r =
                co_await net::before_deadline(socket.async_connect(ep, net::use_nothrow), timer_);
            if (owner_ == nullptr || state_ == State::Closed) co_return;
            if (r) {
                connected = true;
                peer_ = ep;
                break;
            }
            last = r.error();
            if (last == asio::error::timed_out) break;
        }
        if (!connected) {
            close("cannot connect to " +
                  (targets.empty() ? cfg.host : net::to_string(targets.back())) + ": " +
                  (last == asio::error::timed_out ? "timed out" : last.message()));
            co_return;
        }
        asio::error_code ignored;
        tls_.lowest_layer().set_option(asio::ip::tcp::no_delay(true), ignored);

        SSL* ssl = tls_.native_handle();
        // asio sets SSL_MODE_RELEASE_BUFFERS: OpenSSL would free its 16 KiB record buffers
        // whenever they are empty and allocate them again for the next record, i.e. twice per
        // query on a connection that carries one at a time. Keep them (32 KiB per connection).
        SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
        // The identity the certificate must prove. Not setting it would leave only the chain
        // checked (any publicly trusted certificate would do), so a failure here is fatal to
        // the connection, never ignored.
        bool identity_set = false;
        if (stamp::is_ip_literal(cfg.host)) {
            // fe80::1%eth0: the zone says where to reach it; the certificate names fe80::1
            // (OpenSSL's parser rejects a zone).
            const std::string ip = cfg.host.substr(0, cfg.host.find('%'));
            identity_set = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip.c_str()) == 1;
        } else {
            // SNI (SSL_set_tlsext_host_name, without its C-style cast)
            identity_set = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                    const_cast<char*>(cfg.host.c_str())) == 1 &&
                           SSL_set1_host(ssl, cfg.host.c_str()) == 1;
        }
        if (!identity_set) {
            close("cannot check the server's identity '" + cfg.host +
                  "' (OpenSSL refused it): not connecting");
            co_return;
        }
        static constexpr unsigned char kAlpn[] = {2, 'h', '2'};
        SSL_set_alpn_protos(ssl, kAlpn, sizeof kAlpn);
        auto hs = co_await net::before_deadline(
            tls_.async_handshake(asio::ssl::stream_base::client, net::use_nothrow), timer_);
        if (owner_ == nullptr || state_ == State::Closed) co_return;
        if (!hs) {
            close(openssl_reason(ssl, hs.error()));
            co_return;
        }
        const unsigned char* alpn = nullptr;
        unsigned alpn_len = 0;
        SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
        if (alpn_len != 2 || std::memcmp(alpn, "h2", 2) != 0) {
            close("the server does not speak HTTP/2 (ALPN: " +
                  (alpn_len == 0 ? std::string("none")
                                 : std::string(reinterpret_cast<const char*>(alpn), alpn_len)) +
                  ")");
            co_return;
        }
        if (!cfg.hashes.empty()) {
            const auto chain = chain_hashes(ssl);
            const bool pinned = std::any_of(chain.begin(), chain.end(), [&](const auto& h) {
                return std::find(cfg.hashes.begin(), cfg.hashes.end(), h) != cfg.hashes.end();
            });
            if (!pinned) {
                std::string seen;
                for (const auto& h : chain) {
                    seen += seen.empty() ? "" : ", ";
                    seen += hex_encode(Bytes(h.data(), h.size()));
                }
                close("no certificate of the chain has a hash the stamp pins (the chain's: " +
                      seen + ")");
                co_return;
            }
        }
        if (!start_http2()) co_return;
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

    bool start_http2() {
        nghttp2_session_callbacks* cbs = nullptr;
        if (nghttp2_session_callbacks_new(&cbs) != 0) {
            close("out of memory");
            return false;
        }
        nghttp2_session_callbacks_set_on_header_callback(cbs, &Connection::on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Connection::on_data);
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Connection::on_stream_close);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Connection::on_frame);
        const int rv = nghttp2_session_client_new(&h2_, cbs, this);
        nghttp2_session_callbacks_del(cbs);
        if (rv != 0) {
            close("cannot start HTTP/2: " + std::string(nghttp2_strerror(rv)));
            return false;
        }
        const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
        nghttp2_submit_settings(h2_, NGHTTP2_FLAG_NONE, settings, 1);
        nghttp2_session_set_local_window_size(h2_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
        return true;
    }

    void submit(Stream& s) {
        const DohConfig& cfg = owner_->config_;
        const auto [end, ec] =
            std::to_chars(s.length.data(), s.length.data() + s.length.size(), s.request.size());
        s.length_size = ec == std::errc() ? static_cast<std::size_t>(end - s.length.data()) : 0;
        const nghttp2_nv nva[] = {
            header(":method", "POST"),
            header(":scheme", "https"),
            header(":authority", cfg.authority),
            header(":path", cfg.path),
            header("accept", doh::kContentType),
            header("content-type", doh::kContentType),
            header("content-length", std::string_view(s.length.data(), s.length_size), true),
        };
        nghttp2_data_provider body{};
        body.source.ptr = &s;
        body.read_callback = &Connection::read_body;
        s.sent = 0;
        const std::int32_t id =
            nghttp2_submit_request(h2_, nullptr, nva, std::size(nva), &body, &s);
        if (id < 0) {
            s.conn = nullptr;
            owner_->fail(s, ExchangeError::Network);
            return;
        }
        s.id = id;
        s.submitted = Clock::now();
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
        const auto rv = nghttp2_session_mem_recv(h2_, in_.data(), n);
        if (state_ == State::Closed) return;
        if (rv < 0) {
            close("HTTP/2 error: " + std::string(nghttp2_strerror(static_cast<int>(rv))));
            return;
        }
        request_flush();
        if (nghttp2_session_want_read(h2_) == 0 && nghttp2_session_want_write(h2_) == 0) {
            close("finished");
            return;
        }
        read();
    }

    void flush() override {
        if ((state_ != State::Open && state_ != State::Draining) || writing_) return;
        while (out_.size() < kWriteBatch) {
            const std::uint8_t* data = nullptr;
            const auto n = nghttp2_session_mem_send(h2_, &data);
            if (n < 0) {
                close("HTTP/2 error: " + std::string(nghttp2_strerror(static_cast<int>(n))));
                return;
            }
            if (n == 0) break;
            out_.insert(out_.end(), data, data + n);
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

    // -- nghttp2 callbacks ----------------------------------------------------------------
    static Stream* stream_of(nghttp2_session* session, std::int32_t id) {
        return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, id));
    }

    static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                             std::uint32_t* flags, nghttp2_data_source* source, void*) {
        auto* s = static_cast<Stream*>(source->ptr);
        const std::size_t n = std::min(length, s->request.size() - s->sent);
        std::memcpy(buf, s->request.data() + s->sent, n);
        s->sent += n;
        if (s->sent == s->request.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
    }

    static int on_header(nghttp2_session* session, const nghttp2_frame* frame,
                         const std::uint8_t* name, std::size_t namelen, const std::uint8_t* value,
                         std::size_t valuelen, std::uint8_t, void*) {
        if (frame->hd.type != NGHTTP2_HEADERS) return 0;
        Stream* s = stream_of(session, frame->hd.stream_id);
        if (s == nullptr) return 0;
        const std::string_view n(reinterpret_cast<const char*>(name), namelen);
        const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
        s->headers = true;
        if (n == ":status") {
            int status = 0;
            std::from_chars(v.data(), v.data() + v.size(), status);
            s->status = status;
        } else if (n == "content-type") {
            s->type_ok = doh::is_dns_message_type(v);
        }
        return 0;
    }

    static int on_data(nghttp2_session* session, std::uint8_t, std::int32_t id,
                       const std::uint8_t* data, std::size_t len, void*) {
        Stream* s = stream_of(session, id);
        if (s == nullptr) return 0;
        if (s->response.size() + len > doh::kMaxMessage) {
            s->overflow = true;
            return 0;
        }
        s->response.insert(s->response.end(), data, data + len);
        return 0;
    }

    static int on_stream_close(nghttp2_session* session, std::int32_t id, std::uint32_t error,
                               void* user) {
        auto* self = static_cast<Connection*>(user);
        Stream* s = stream_of(session, id);
        if (s == nullptr || self->owner_ == nullptr || self->state_ == State::Closed) return 0;
        remove(self->streams_, *s);
        self->owner_->finish(*s, static_cast<int>(error));
        return 0;
    }

    static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
        auto* self = static_cast<Connection*>(user);
        if (frame->hd.type == NGHTTP2_GOAWAY && self->state_ == State::Open) {
            // No new streams here; the next query opens a new connection. Streams the server
            // did not take are closed by nghttp2 with REFUSED_STREAM and sent again.
            self->state_ = State::Draining;
            spdlog::debug("DoH server {}: GOAWAY (last stream {})",
                          self->owner_ != nullptr ? self->owner_->config_.name : "",
                          frame->goaway.last_stream_id);
        }
        return 0;
    }

    DohTransport* owner_;
    asio::io_context& io_;
    asio::ssl::stream<asio::ip::tcp::socket> tls_;
    asio::steady_timer timer_;
    asio::ip::tcp::endpoint peer_;
    nghttp2_session* h2_ = nullptr;
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

void DohTransport::start() {
    if (!stopped_) current();
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
    const auto prepared = doh::prepare_query(attempt.message, *attempt.info, s.request);
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
    SSL* ssl = c.tls_.native_handle();
    if (first) {
        spdlog::info("DoH server {}: connected to {} ({}, {}, HTTP/2) in {}", config_.name,
                     net::to_string(c.peer_), config_.url(), SSL_get_version(ssl),
                     format_ms(setup));
    } else {
        spdlog::debug("DoH server {}: new connection to {} in {}", config_.name,
                      net::to_string(c.peer_), format_ms(setup));
    }
    if (on_connected_) on_connected_(setup);
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

void DohTransport::finish(Stream& s, int http2_error) {
    if (s.attempt == nullptr) {
        recycle(s);
        return;
    }
    if (http2_error == NGHTTP2_REFUSED_STREAM && !s.headers) {
        on_lost(s);  // the server did not take it (GOAWAY, or its stream limit)
        return;
    }
    if (http2_error != NGHTTP2_NO_ERROR) {
        spdlog::debug("DoH server {}: stream reset ({})", config_.name,
                      nghttp2_http2_strerror(static_cast<std::uint32_t>(http2_error)));
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
