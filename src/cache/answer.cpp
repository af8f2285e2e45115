#include "cache/answer.hpp"

#include <algorithm>

#include "dns/constants.hpp"
#include "dns/name.hpp"

namespace dcp::cache {
namespace {

constexpr auto kTypeSoa = static_cast<std::uint16_t>(dns::RecordType::SOA);
constexpr auto kTypeOpt = static_cast<std::uint16_t>(dns::RecordType::OPT);

// RFC 2181 8: a TTL with the top bit set is read as zero.
std::uint32_t sane(std::uint32_t ttl) noexcept {
    return ttl > 0x7fffffffU ? 0 : ttl;
}

}  // namespace

std::optional<std::uint32_t> cacheable_ttl(Bytes answer, const TtlLimits& limits) {
    const auto layout = dns::parse_layout(answer);
    if (!layout || layout->header.tc() || layout->header.qdcount != 1) return std::nullopt;
    const auto rcode = static_cast<dns::Rcode>(layout->header.rcode());
    if (rcode != dns::Rcode::NoError && rcode != dns::Rcode::NxDomain) return std::nullopt;
    if (layout->opt && layout->opt->extended_rcode != 0) return std::nullopt;

    const bool negative = rcode == dns::Rcode::NxDomain || layout->header.ancount == 0;
    std::optional<std::uint32_t> lowest;
    std::optional<std::uint32_t> soa;
    std::size_t offset = layout->answer_offset;
    const std::size_t records =
        std::size_t{layout->header.ancount} + layout->header.nscount + layout->header.arcount;
    for (std::size_t i = 0; i < records; ++i) {
        const auto rr = dns::read_record(answer, offset);
        if (!rr) return std::nullopt;
        offset = rr->end();
        if (rr->type == kTypeOpt) continue;
        const std::uint32_t ttl = sane(rr->ttl);
        lowest = std::min(lowest.value_or(ttl), ttl);
        const bool in_authority =
            rr->offset >= layout->authority_offset && rr->offset < layout->additional_offset;
        if (negative && in_authority && rr->type == kTypeSoa && rr->rdlength >= 20 && !soa) {
            const std::uint32_t minimum = sane(load_u32_be(answer.data() + rr->end() - 4));
            soa = std::min(ttl, minimum);
        }
    }
    if (negative) {
        const std::uint32_t ttl = soa.value_or(limits.neg_min_ttl);
        return std::clamp(ttl, limits.neg_min_ttl,
                          std::max(limits.neg_min_ttl, limits.neg_max_ttl));
    }
    return std::clamp(lowest.value_or(limits.min_ttl), limits.min_ttl,
                      std::max(limits.min_ttl, limits.max_ttl));
}

bool set_ttls(MutableBytes message, std::uint32_t ttl) noexcept {
    const auto layout = dns::parse_layout(message);
    if (!layout) return false;
    std::size_t offset = layout->answer_offset;
    const std::size_t records =
        std::size_t{layout->header.ancount} + layout->header.nscount + layout->header.arcount;
    for (std::size_t i = 0; i < records; ++i) {
        const auto rr = dns::read_record(message, offset);
        if (!rr) return false;
        offset = rr->end();
        if (rr->type == kTypeOpt) continue;
        // The TTL is followed by RDLENGTH, then the RDATA.
        store_u32_be(message.data() + rr->rdata_offset - 6, ttl);
    }
    return true;
}

}  // namespace dcp::cache
