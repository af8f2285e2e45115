#include "upstream/plain_transport.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <cstring>

#include "dns/message.hpp"
#include "dns/query.hpp"
#include "net/endpoint.hpp"
#include "upstream/tcp_exchange.hpp"

namespace dcp::upstream {
namespace {

// Queries in flight to one server at once, each with its own socket: a bound on descriptors.
constexpr std::size_t kMaxInFlight = 4096;

}  // namespace

struct PlainTransport::Query final : AttemptState {
    Query(asio::io_context& io, Attempt& a) : socket(io), attempt(&a) {}
    asio::ip::udp::socket socket;
    Attempt* attempt;
    std::uint16_t client_id = 0;
    std::uint16_t id = 0;
    std::vector<std::uint8_t> sent;  // as sent: the ID and the name's case to match
};

PlainTransport::PlainTransport(asio::io_context& io, asio::ip::udp::endpoint server,
                               std::chrono::milliseconds timeout, Counters& counters)
    : io_(io),
      server_(server),
      timeout_(timeout),
      counters_(counters),
      receive_buffer_(dns::kMaxMessageSize) {}

PlainTransport::~PlainTransport() {
    stop();
}

void PlainTransport::stop() {
    alive_.end();
    for (auto& [key, q] : live_) bind<Query>(*q->attempt, nullptr);
    live_.clear();  // closes their sockets
}

void PlainTransport::begin(Attempt& attempt) {
    if (!alive_.alive() || attempt.message.size() < dns::kHeaderSize ||
        attempt.message.size() > dns::kMaxMessageSize || live_.size() >= kMaxInFlight) {
        complete(attempt, Unexpected(ExchangeError::Network));
        return;
    }
    auto q = std::make_unique<Query>(io_, attempt);
    asio::error_code ec;
    q->socket.open(server_.protocol(), ec);
    // connect: the kernel picks a random source port, and only the server's datagrams arrive.
    if (!ec) q->socket.connect(server_, ec);
    if (!ec) q->socket.non_blocking(true, ec);
    if (ec) {
        spdlog::debug("forwarding to {}: {}", net::to_string(server_), ec.message());
        complete(attempt, Unexpected(ExchangeError::Network));
        return;
    }
    q->sent.assign(attempt.message.begin(), attempt.message.end());
    q->client_id = load_u16_be(q->sent.data());
    q->id = static_cast<std::uint16_t>(rng_.uniform(65536));
    store_u16_be(q->sent.data(), q->id);
    std::array<std::uint8_t, 32> case_bits{};
    rng_.fill(case_bits);
    (void)dns::randomize_question_case(q->sent, case_bits);
    q->socket.send(asio::buffer(q->sent), 0, ec);
    if (ec) {
        complete(attempt, Unexpected(ExchangeError::Network));
        return;
    }
    Query& ref = *q;
    bind(attempt, &ref);
    live_.emplace(&ref, std::move(q));
    wait_readable(ref);
}

bool PlainTransport::cancel(Attempt& attempt) {
    auto* q = bound<Query>(attempt);
    if (q == nullptr)
        return false;  // over TCP: it completes when that ends (bounded by the timeout)
    finish_udp(*q);
    return true;
}

void PlainTransport::finish_udp(Query& q) {
    bind<Query>(*q.attempt, nullptr);
    const auto it = live_.find(&q);
    if (it == live_.end()) return;
    // Freed after the handler it has queued ran (it sees the attempt gone); closed now.
    asio::error_code ignored;
    q.socket.close(ignored);
    asio::post(io_, [owned = std::move(it->second)] {});
    live_.erase(it);
}

void PlainTransport::wait_readable(Query& q) {
    q.socket.async_wait(asio::socket_base::wait_read,
                        [this, &q, alive = alive_.token()](const asio::error_code& ec) {
                            if (!alive || ec == asio::error::operation_aborted) return;
                            if (!live_.contains(&q) || bound<Query>(*q.attempt) != &q) return;
                            read_available(q);
                        });
}

void PlainTransport::read_available(Query& q) {
    Attempt& attempt = *q.attempt;
    for (int i = 0; i < 16; ++i) {
        asio::error_code ec;
        const std::size_t n = q.socket.receive(asio::buffer(receive_buffer_), 0, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) break;
        if (ec) {
            // The server refused (ICMP port unreachable on this query's own socket): no answer
            // will come, so the pool may ask another server now rather than at the timeout.
            finish_udp(q);
            complete(attempt, Unexpected(ExchangeError::Network));
            return;
        }
        const MutableBytes datagram(receive_buffer_.data(), n);
        if (n < dns::kHeaderSize ||
            !dns::check_response_matches(datagram, q.id, attempt.info->question)) {
            ++counters_.reply_mismatch;
            continue;  // not the answer: the query keeps waiting
        }
        const bool echoed = dns::same_question_spelling(datagram, q.sent);
        if (!keeps_case_) keeps_case_ = echoed;  // learnt from the first answer
        if (*keeps_case_ && !echoed) {
            ++counters_.reply_mismatch;  // a forger who guessed port and ID, but not the case
            continue;
        }
        // The client's ID and spelling back.
        dns::copy_question_spelling(datagram, attempt.message);
        const std::uint16_t client_id = q.client_id;
        finish_udp(q);
        const auto header = dns::parse_header(datagram);
        if (header && header->tc()) {
            ++counters_.upstream_truncated;
            // Not cancellable (state cleared) until the TCP exchange ends.
            asio::co_spawn(
                io_, over_tcp(&attempt, client_id),
                fail_on_exception(attempt, alive_.token(), counters_.handler_exceptions));
            return;
        }
        store_u16_be(datagram.data(), client_id);
        complete(attempt, datagram);
        return;
    }
    wait_readable(q);
}

net::awaitable<void> PlainTransport::over_tcp(Attempt* attempt, std::uint16_t client_id) {
    ++counters_.upstream_tcp_retries;
    const auto alive = alive_.token();
    const asio::ip::tcp::endpoint server(server_.address(), server_.port());
    auto answer = co_await tcp_exchange(server, attempt->message,
                                        std::chrono::steady_clock::now() + timeout_);
    if (!alive) co_return;  // stopped meanwhile: the attempt's owner is gone too
    if (!answer) {
        complete(*attempt, Unexpected(answer.error()));
        co_return;
    }
    if (answer->size() < dns::kHeaderSize ||
        !dns::check_response_matches(*answer, client_id, attempt->info->question)) {
        ++counters_.reply_mismatch;
        complete(*attempt, Unexpected(ExchangeError::BadAnswer));
        co_return;
    }
    complete(*attempt, MutableBytes(*answer));
}

}  // namespace dcp::upstream
