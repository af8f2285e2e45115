#include "rules/local_reply.hpp"

#include "dns/constants.hpp"
#include "dns/name.hpp"

namespace dcp::rules {
namespace {

constexpr std::uint16_t kTypeHinfo = 13;
constexpr std::uint16_t kTypePtr = 12;
constexpr std::uint16_t kOptionEde = 15;
constexpr std::uint16_t kPointerToQuestion = 0xc000 | dns::kHeaderSize;
// A flattened answer keeps at most this many addresses (dnscrypt-proxy 2 keeps 16 too).
constexpr std::size_t kMaxFlattened = 16;

}  // namespace

ReplyWriter::ReplyWriter(const dns::QueryInfo& query, dns::Rcode rcode, MutableBytes out) noexcept
    : query_(query), out_(out), w_(out) {
    const std::uint16_t qflags = query.header.flags;
    const auto flags = static_cast<std::uint16_t>(
        dns::flags::kQr | dns::flags::kRa | (qflags & (dns::flags::kOpcodeMask | dns::flags::kRd)) |
        static_cast<std::uint16_t>(rcode));
    ok_ = ok_ && (w_.u16(query.header.id) && w_.u16(flags) && w_.u16(1) && w_.u16(0) && w_.u16(0) &&
                  w_.u16(0) && w_.bytes(query.question.name.wire()) &&
                  w_.u16(query.question.qtype) && w_.u16(query.question.qclass));
}

void ReplyWriter::record_header(std::uint16_t type, std::uint32_t ttl,
                                std::size_t rdlength) noexcept {
    ok_ = ok_ && (w_.u16(kPointerToQuestion) && w_.u16(type) &&
                  w_.u16(static_cast<std::uint16_t>(dns::RecordClass::IN)) && w_.u32(ttl) &&
                  w_.u16(static_cast<std::uint16_t>(rdlength)));
}

void ReplyWriter::answer(std::uint16_t type, std::uint32_t ttl, Bytes rdata) noexcept {
    record_header(type, ttl, rdata.size());
    ok_ = ok_ && w_.bytes(rdata);
    ++ancount_;
}

void ReplyWriter::answer_a(std::span<const std::uint8_t, 4> address, std::uint32_t ttl) noexcept {
    answer(static_cast<std::uint16_t>(dns::RecordType::A), ttl, Bytes(address.data(), 4));
}

void ReplyWriter::answer_aaaa(std::span<const std::uint8_t, 16> address,
                              std::uint32_t ttl) noexcept {
    answer(static_cast<std::uint16_t>(dns::RecordType::AAAA), ttl, Bytes(address.data(), 16));
}

void ReplyWriter::answer_hinfo(std::string_view cpu, std::string_view os,
                               std::uint32_t ttl) noexcept {
    const std::size_t cpu_len = std::min<std::size_t>(cpu.size(), 255);
    const std::size_t os_len = std::min<std::size_t>(os.size(), 255);
    record_header(kTypeHinfo, ttl, 2 + cpu_len + os_len);
    ok_ = ok_ && (w_.u8(static_cast<std::uint8_t>(cpu_len)) &&
                  w_.bytes(Bytes(reinterpret_cast<const std::uint8_t*>(cpu.data()), cpu_len)) &&
                  w_.u8(static_cast<std::uint8_t>(os_len)) &&
                  w_.bytes(Bytes(reinterpret_cast<const std::uint8_t*>(os.data()), os_len)));
    ++ancount_;
}

void ReplyWriter::answer_ptr(std::string_view target, std::uint32_t ttl) noexcept {
    const auto name = dns::encode_name(target);
    if (!name) return;
    answer(kTypePtr, ttl, name->wire());
}

void ReplyWriter::authority_soa_of_parent(std::uint32_t ttl, std::uint32_t minimum) noexcept {
    // Owner: the question's name without its first label (the root for a single label),
    // written as a pointer into the question.
    const Bytes qname = query_.question.name.wire();
    std::uint16_t owner = 0;
    bool root = true;
    if (qname.size() > 1 && 1U + qname[0] < qname.size() && qname[1U + qname[0]] != 0) {
        owner = static_cast<std::uint16_t>(kPointerToQuestion + 1 + qname[0]);
        root = false;
    }
    // MNAME and RNAME: the owner itself (a pointer), as dnscrypt-proxy 2 writes "n" and "h"
    // labels before it; serial, refresh, retry, expire, minimum.
    const std::size_t name_len = root ? 1 : 2;
    ok_ = ok_ && ((root ? w_.u8(0) : w_.u16(owner)) &&
                  w_.u16(static_cast<std::uint16_t>(dns::RecordType::SOA)) &&
                  w_.u16(static_cast<std::uint16_t>(dns::RecordClass::IN)) && w_.u32(ttl) &&
                  w_.u16(static_cast<std::uint16_t>(2 * name_len + 20)) &&
                  (root ? w_.u8(0) : w_.u16(owner)) && (root ? w_.u8(0) : w_.u16(owner)) &&
                  w_.u32(1) && w_.u32(10000) && w_.u32(300) && w_.u32(604800) && w_.u32(minimum));
    ++nscount_;
}

dcp::Result<std::size_t, dns::Error> ReplyWriter::finish(ExtendedError ede) noexcept {
    std::uint16_t arcount = 0;
    if (query_.opt) {
        const bool with_ede = ede != ExtendedError::None;
        ok_ = ok_ && (w_.u8(0) && w_.u16(static_cast<std::uint16_t>(dns::RecordType::OPT)) &&
                      w_.u16(1232) && w_.u8(0) && w_.u8(0) &&
                      w_.u16(static_cast<std::uint16_t>(query_.opt->flags & dns::kOptFlagDo)) &&
                      w_.u16(with_ede ? 6 : 0));
        if (with_ede) {
            ok_ =
                ok_ && (w_.u16(kOptionEde) && w_.u16(2) && w_.u16(static_cast<std::uint16_t>(ede)));
        }
        arcount = 1;
    }
    if (!ok_) return Unexpected(dns::Error::NoSpace);
    auto* data = out_.data();
    store_u16_be(data + dns::kOffsetAnCount, ancount_);
    store_u16_be(data + dns::kOffsetNsCount, nscount_);
    store_u16_be(data + dns::kOffsetArCount, arcount);
    return w_.position();
}

dcp::Result<std::size_t, dns::Error> write_flattened(const dns::QueryInfo& query, Bytes answer,
                                                     std::uint32_t max_ttl,
                                                     MutableBytes out) noexcept {
    const auto layout = dns::parse_layout(answer);
    if (!layout) return Unexpected(layout.error());
    ReplyWriter w(query, static_cast<dns::Rcode>(layout->header.rcode()), out);
    std::size_t offset = layout->answer_offset;
    std::size_t kept = 0;
    for (std::uint16_t i = 0; i < layout->header.ancount && kept < kMaxFlattened; ++i) {
        const auto rr = dns::read_record(answer, offset);
        if (!rr) return Unexpected(rr.error());
        offset = rr->end();
        if (rr->type != query.question.qtype || rr->klass != query.question.qclass) continue;
        ++kept;
        w.answer(rr->type, std::min(rr->ttl, max_ttl),
                 answer.subspan(rr->rdata_offset, rr->rdlength));
    }
    return w.finish();
}

}  // namespace dcp::rules
