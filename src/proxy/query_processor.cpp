#include "proxy/query_processor.hpp"

#include <spdlog/spdlog.h>

#include <array>

#include "dns/edns.hpp"
#include "dns/reply.hpp"

namespace dcp::proxy {
namespace {

// Room for our own replies: header + the longest question + an OPT record.
constexpr std::size_t kSynthesizedMax =
    dns::kHeaderSize + dns::kMaxNameWireSize + 4 + dns::kEmptyOptSize;

bool synthesize(const dns::QueryInfo& info, dns::Rcode rcode, bool truncated,
                std::vector<std::uint8_t>& reply) {
    reply.resize(kSynthesizedMax);
    const auto len = dns::write_reply(info, rcode, truncated, reply);
    if (!len) return false;
    reply.resize(*len);
    return true;
}

constexpr auto kLimitLogInterval = std::chrono::seconds(10);

// Counts a query as active for as long as it lives.
class ActiveGuard {
  public:
    explicit ActiveGuard(std::size_t& active) : active_(active) { ++active_; }
    ~ActiveGuard() { --active_; }
    ActiveGuard(const ActiveGuard&) = delete;
    ActiveGuard& operator=(const ActiveGuard&) = delete;

  private:
    std::size_t& active_;
};

}  // namespace

void QueryProcessor::note_limit_hit() {
    ++counters_.refused_active_limit;
    ++limit_hits_since_log_;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_limit_log_ >= kLimitLogInterval) {
        spdlog::warn(
            "{} queries answered SERVFAIL at once: {} were already waiting for the resolver "
            "(--max-active-requests)",
            limit_hits_since_log_, settings_.max_active_requests);
        last_limit_log_ = now;
        limit_hits_since_log_ = 0;
    }
}

net::awaitable<bool> QueryProcessor::process(Bytes query, ClientTransport transport,
                                             std::vector<std::uint8_t>& reply) {
    if (query.size() > kMaxQuerySize) {
        ++counters_.dropped_oversized;
        co_return false;
    }
    const auto info = dns::parse_query(query);
    if (!info) {
        ++counters_.dropped_malformed;
        co_return false;
    }
    if (transport == ClientTransport::Udp && settings_.tcp_only) {
        ++counters_.tc_tcp_only;
        co_return synthesize(*info, dns::Rcode::NoError, true, reply);
    }
    auto session = resolver_.session();
    if (!session) {
        ++counters_.servfail_no_certificate;
        co_return synthesize(*info, dns::Rcode::ServFail, false, reply);
    }

    if (active_ >= settings_.max_active_requests) {
        note_limit_hit();
        co_return synthesize(*info, dns::Rcode::ServFail, false, reply);
    }
    const ActiveGuard active(active_);

    std::array<std::uint8_t, kMaxQuerySize + dns::kEmptyOptSize> upstream_query;
    std::copy(query.begin(), query.end(), upstream_query.begin());
    const auto edns =
        dns::apply_edns_payload_policy(upstream_query, *info, settings_.edns_payload_size);
    if (!edns) {
        ++counters_.dropped_malformed;
        co_return false;
    }
    const auto result = co_await resolver_.exchange(std::move(session), *info,
                                                    Bytes(upstream_query.data(), edns->size),
                                                    edns->advertised_payload, reply);
    if (!result) {
        if (result.error() == upstream::ExchangeError::Timeout) {
            ++counters_.servfail_timeout;
        } else {
            ++counters_.servfail_upstream_error;
        }
        co_return synthesize(*info, dns::Rcode::ServFail, false, reply);
    }

    std::size_t len = reply.size();
    if (edns->opt_added) {
        // The client did not ask for EDNS: it gets no OPT record back.
        const auto without = dns::remove_opt(reply, len);
        if (!without) {
            ++counters_.servfail_upstream_error;
            co_return synthesize(*info, dns::Rcode::ServFail, false, reply);
        }
        len = *without;
    }
    if (transport == ClientTransport::Udp) {
        const auto fitted = dns::truncate_response(reply, len, info->client_udp_limit());
        if (!fitted) {
            ++counters_.servfail_upstream_error;
            co_return synthesize(*info, dns::Rcode::ServFail, false, reply);
        }
        if (*fitted != len) ++counters_.truncated_for_client;
        len = *fitted;
    }
    reply.resize(len);
    ++counters_.answered;
    co_return true;
}

}  // namespace dcp::proxy
