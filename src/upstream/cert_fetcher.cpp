#include "upstream/cert_fetcher.hpp"

#include <algorithm>
#include <array>

#include "common/bytes.hpp"
#include "common/time_format.hpp"
#include "crypto/sodium.hpp"
#include "net/deadline.hpp"
#include "upstream/tcp_exchange.hpp"

namespace dcp::upstream {
namespace {

using Answer = dcp::Result<dnscrypt::CertificateChoice, std::string>;

std::uint16_t random_id() {
    return static_cast<std::uint16_t>(crypto::random_uniform(65536));
}

// Through a relay the certificate query is padded to this (relay header included): a relay
// forwards no answer larger than the query (spec 14.4), and two certificates take ~330 bytes.
constexpr std::size_t kRelayedCertQuery = 1024;
using QueryBuffer = std::array<std::uint8_t, kRelayedCertQuery>;

// The certificate query, after the relay header when there is one (then padded with an EDNS(0)
// Padding option, RFC 7830). Returns the packet's length.
dcp::Result<std::size_t, std::string> write_query(const ResolverConfig& config, std::uint16_t id,
                                                  QueryBuffer& out) {
    const auto extra = config.relay_header_size();
    const auto len =
        dnscrypt::write_cert_query(config.provider_name, id, MutableBytes(out).subspan(extra, 512));
    if (!len) return Unexpected(std::string("provider name does not fit a query"));
    if (extra == 0) return *len;
    const auto header = config.relay_header();
    std::copy(header.begin(), header.end(), out.begin());
    constexpr std::size_t kOptFixed = 11;  // root name, type, class, TTL, RDLENGTH
    constexpr std::size_t kOptionHeader = 4;
    const std::size_t at = extra + *len;
    const std::size_t pad = kRelayedCertQuery - at - kOptFixed - kOptionHeader;
    std::uint8_t* p = out.data() + at;
    p[0] = 0;                                  // owner: the root
    store_u16_be(p + 1, 41);                   // OPT
    store_u16_be(p + 3, 4096);                 // UDP payload size
    std::fill(p + 5, p + 9, std::uint8_t{0});  // extended RCODE, version, flags
    store_u16_be(p + 9, static_cast<std::uint16_t>(kOptionHeader + pad));
    store_u16_be(p + 11, 12);  // option: Padding
    store_u16_be(p + 13, static_cast<std::uint16_t>(pad));
    std::fill(p + 15, p + 15 + pad, std::uint8_t{0});
    store_u16_be(out.data() + extra + 10, 1);  // ARCOUNT
    return kRelayedCertQuery;
}

dcp::Result<dnscrypt::CertificateChoice, dnscrypt::CertAnswerError> read_answer(
    Bytes answer, std::uint16_t id, const ResolverConfig& config, const Clock& clock) {
    return dnscrypt::read_cert_answer(answer, id, config.provider_name, config.provider_key,
                                      clock.now());
}

net::awaitable<Answer> over_udp(const ResolverConfig& config, const Clock& clock) {
    auto executor = co_await asio::this_coro::executor;
    QueryBuffer query{};
    const auto id = random_id();
    const auto len = write_query(config, id, query);
    if (!len) co_return Unexpected(len.error());

    asio::ip::udp::socket socket(executor);
    asio::error_code ec;
    socket.open(config.udp_endpoint().protocol(), ec);
    if (!ec) socket.connect(config.udp_endpoint(), ec);
    if (ec) co_return Unexpected("UDP: " + ec.message());

    const auto deadline = std::chrono::steady_clock::now() + config.timeout;
    asio::steady_timer timer(executor, deadline);
    std::vector<std::uint8_t> answer(65536);
    auto [send_ec, sent] =
        co_await socket.async_send(asio::buffer(query.data(), *len), net::use_nothrow);
    if (send_ec) co_return Unexpected("UDP: " + send_ec.message());
    for (;;) {
        const auto n = co_await net::before_deadline(
            socket.async_receive(asio::buffer(answer), net::use_nothrow), timer);
        if (!n && n.error() == asio::error::timed_out) {
            co_return Unexpected(std::string("UDP: timeout"));
        }
        if (!n) co_return Unexpected("UDP: " + n.error().message());
        auto choice = read_answer(Bytes(answer.data(), *n), id, config, clock);
        // A stray datagram that is not our answer: keep waiting for the real one.
        if (!choice && choice.error() == dnscrypt::CertAnswerError::Malformed) continue;
        if (!choice) co_return Unexpected("UDP: " + std::string(to_string(choice.error())));
        co_return std::move(*choice);
    }
}

net::awaitable<Answer> over_tcp(const ResolverConfig& config, const Clock& clock) {
    QueryBuffer query{};
    const auto id = random_id();
    const auto len = write_query(config, id, query);
    if (!len) co_return Unexpected(len.error());
    const auto answer = co_await tcp_exchange(config.tcp_endpoint(), Bytes(query.data(), *len),
                                              std::chrono::steady_clock::now() + config.timeout);
    if (!answer) co_return Unexpected("TCP: " + std::string(to_string(answer.error())));
    if (answer->empty()) co_return Unexpected(std::string("TCP: empty answer"));
    auto choice = read_answer(*answer, id, config, clock);
    if (!choice) co_return Unexpected("TCP: " + std::string(to_string(choice.error())));
    co_return std::move(*choice);
}

}  // namespace

net::awaitable<dcp::Result<dnscrypt::CertificateChoice, FetchFailure>> fetch_certificates(
    const ResolverConfig& config, const Clock& clock) {
    std::string reasons;
    std::optional<dnscrypt::Certificate> out_of_time;  // signed, but not valid at our time
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool tcp = config.tcp_only ? attempt == 0 : attempt == 1;
        // Not a conditional expression: g++ 12 destroys temporaries of co_await inside ?: twice.
        Answer r = Unexpected(std::string());
        if (tcp) {
            r = co_await over_tcp(config, clock);
        } else {
            r = co_await over_udp(config, clock);
        }
        if (r && r->chosen) co_return std::move(*r);
        if (!reasons.empty()) reasons += "; ";
        if (r) {
            reasons += std::string(tcp ? "TCP" : "UDP") + ": no usable certificate (" +
                       std::to_string(r->rejected.size()) + " rejected";
            for (const auto& rej : r->rejected) {
                reasons += ", " + std::string(dnscrypt::to_string(rej.reason));
                if (rej.signed_certificate) out_of_time = rej.signed_certificate;
            }
            reasons += ")";
        } else {
            reasons += r.error();
        }
    }
    if (out_of_time) {
        // The resolver signed it, so its dates are what the resolver means: when they and our
        // clock disagree by far, the clock is the likely culprit (dnscrypt-proxy 2's users ask
        // about this more than about anything else).
        const auto now = clock.now().time_since_epoch().count();
        reasons += "; the resolver's certificate is valid from " +
                   format_utc(out_of_time->ts_start) + " to " + format_utc(out_of_time->ts_end) +
                   ", but this machine's clock says " +
                   format_utc(static_cast<std::uint32_t>(std::max<std::int64_t>(now, 0))) +
                   ": if that is not the time, set the system clock (NTP)";
    }
    co_return Unexpected(FetchFailure{reasons});
}

}  // namespace dcp::upstream
