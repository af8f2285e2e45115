// Untrusted input: what a local client sends to the proxy's listeners. Exercises query parsing,
// the EDNS payload policy, synthesized replies, truncation and OPT removal on whatever parses.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dns/edns.hpp"
#include "dns/message.hpp"
#include "dns/reply.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp;
    fuzz::init_once();
    if (size > dns::kMaxMessageSize) return 0;
    const Bytes input(data, size);
    const auto info = dns::parse_query(input);
    if (!info) return 0;

    // Every byte of the client's OPT options is read (the cache decision), never past it.
    if (info->opt) (void)dns::has_edns_option(input, *info->opt, dns::kEdnsOptionClientSubnet);
    if (info->client_udp_limit() > dns::kMaxClientUdpLimit) std::abort();

    static std::array<std::uint8_t, dns::kMaxMessageSize + 64> buf;
    std::memcpy(buf.data(), data, size);
    const std::uint16_t configured = size > 2 ? static_cast<std::uint16_t>(data[0] << 4) : 1280;
    const auto edns = dns::apply_edns_payload_policy(buf, *info, configured);
    if (edns) {
        const auto again = dns::parse_query(Bytes(buf.data(), edns->size));
        if (!again) std::abort();  // what we add must still parse
        if (edns->opt_added) {
            const auto removed = dns::remove_opt(buf, edns->size);
            if (!removed || *removed != size) std::abort();  // removal undoes the addition
        }
    }

    static std::array<std::uint8_t, 1024> reply;
    for (const auto rcode : {dns::Rcode::ServFail, dns::Rcode::Refused}) {
        const auto len = dns::write_reply(*info, rcode, rcode == dns::Rcode::Refused, reply);
        if (len) {
            const Bytes r(reply.data(), *len);
            if (!dns::parse_layout(r)) std::abort();
            if (!dns::check_response_matches(r, info->header.id, info->question)) std::abort();
        }
    }

    // Treat the query as a response too: truncation must always leave a valid message.
    std::memcpy(buf.data(), data, size);
    const std::size_t limit = 12 + (size > 1 ? data[1] : 0);
    const auto truncated = dns::truncate_response(buf, size, limit);
    if (truncated &&
        (*truncated > std::max(limit, size) || !dns::parse_layout(Bytes(buf.data(), *truncated)))) {
        std::abort();
    }
    return 0;
}
