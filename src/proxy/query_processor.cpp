#include "proxy/query_processor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "dns/edns.hpp"
#include "dns/reply.hpp"

namespace dcp::proxy {
namespace {

std::size_t synthesize(const dns::QueryInfo& info, dns::Rcode rcode, bool truncated,
                       MutableBytes reply) {
    // Always fits: a question that parsed is at most kMaxNameWireSize long.
    return dns::write_reply(info, rcode, truncated, reply).value_or(0);
}

constexpr auto kLimitLogInterval = std::chrono::seconds(10);

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

Step QueryProcessor::prepare(MutableBytes buffer, std::size_t len, ClientTransport transport,
                             Prepared& out, MutableBytes reply, std::size_t& reply_len) {
    if (len > kMaxQuerySize) {
        ++counters_.dropped_oversized;
        return Step::Drop;
    }
    auto info = dns::parse_query(Bytes(buffer.data(), len));
    if (!info) {
        ++counters_.dropped_malformed;
        return Step::Drop;
    }
    if (transport == ClientTransport::Udp && settings_.tcp_only) {
        ++counters_.tc_tcp_only;
        reply_len = synthesize(*info, dns::Rcode::NoError, true, reply);
        return Step::Reply;
    }
    if (!upstream_.ready()) {
        ++counters_.servfail_no_certificate;
        reply_len = synthesize(*info, dns::Rcode::ServFail, false, reply);
        return Step::Reply;
    }
    const auto edns = dns::apply_edns_payload_policy(buffer.first(kQueryBufferSize), *info,
                                                     settings_.edns_payload_size);
    if (!edns) {
        ++counters_.dropped_malformed;
        return Step::Drop;
    }
    if (active_.fetch_add(1, std::memory_order_relaxed) >= settings_.max_active_requests) {
        active_.fetch_sub(1, std::memory_order_relaxed);
        note_limit_hit();
        reply_len = synthesize(*info, dns::Rcode::ServFail, false, reply);
        return Step::Reply;
    }
    out.info = *info;
    out.edns = *edns;
    return Step::Forward;
}

std::size_t QueryProcessor::finish(const Prepared& prepared,
                                   dcp::Result<MutableBytes, upstream::ExchangeError> answer,
                                   ClientTransport transport, MutableBytes reply) {
    active_.fetch_sub(1, std::memory_order_relaxed);
    const auto& info = prepared.info;
    if (!answer) {
        if (answer.error() == upstream::ExchangeError::Timeout) {
            ++counters_.servfail_timeout;
        } else {
            ++counters_.servfail_upstream_error;
        }
        return synthesize(info, dns::Rcode::ServFail, false, reply);
    }
    std::size_t len = answer->size();
    if (answer->data() != reply.data()) std::memmove(reply.data(), answer->data(), len);
    if (prepared.edns.opt_added) {
        // The client did not ask for EDNS: it gets no OPT record back.
        const auto without = dns::remove_opt(reply, len);
        if (!without) {
            ++counters_.servfail_upstream_error;
            return synthesize(info, dns::Rcode::ServFail, false, reply);
        }
        len = *without;
    }
    if (transport == ClientTransport::Udp) {
        const auto fitted = dns::truncate_response(reply, len, info.client_udp_limit());
        if (!fitted) {
            ++counters_.servfail_upstream_error;
            return synthesize(info, dns::Rcode::ServFail, false, reply);
        }
        if (*fitted != len) ++counters_.truncated_for_client;
        len = *fitted;
    }
    ++counters_.answered;
    return len;
}

net::awaitable<bool> QueryProcessor::process(Bytes query, ClientTransport transport,
                                             std::vector<std::uint8_t>& reply) {
    if (query.size() > kMaxQuerySize) {
        ++counters_.dropped_oversized;
        co_return false;
    }
    // One allocation, not cleared: the query is copied in and prepare() reads only that.
    struct Work {
        Prepared prepared;
        std::array<std::uint8_t, kQueryBufferSize> buffer;
    };
    const std::unique_ptr<Work> work(new Work);
    auto& buffer = work->buffer;
    auto& prepared = work->prepared;
    std::copy(query.begin(), query.end(), buffer.begin());
    reply.resize(kMaxSynthesizedReply);
    std::size_t reply_len = 0;
    switch (prepare(buffer, query.size(), transport, prepared, reply, reply_len)) {
        case Step::Drop:
            co_return false;
        case Step::Reply:
            reply.resize(reply_len);
            co_return true;
        case Step::Forward:
            break;
    }
    std::vector<std::uint8_t> answer;
    dcp::Result<void, upstream::ExchangeError> result{};
    try {
        result = co_await upstream_.exchange(io_, prepared.info,
                                             Bytes(buffer.data(), prepared.edns.size),
                                             prepared.edns.advertised_payload, answer);
    } catch (...) {
        active_.fetch_sub(1, std::memory_order_relaxed);
        throw;
    }
    reply.resize(std::max(answer.size(), kMaxSynthesizedReply));
    const auto len = result ? finish(prepared, MutableBytes(answer), transport, reply)
                            : finish(prepared, Unexpected(result.error()), transport, reply);
    reply.resize(len);
    co_return len != 0;
}

}  // namespace dcp::proxy
