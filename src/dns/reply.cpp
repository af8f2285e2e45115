#include "dns/reply.hpp"

#include <array>
#include <cstring>

namespace dcp::dns {
namespace {

bool write_question(ByteWriter& w, const Question& q) noexcept {
    return w.bytes(q.name.wire()) && w.u16(q.qtype) && w.u16(q.qclass);
}

}  // namespace

Result<std::size_t> write_reply(const QueryInfo& info, Rcode rcode, bool truncated,
                                MutableBytes out) noexcept {
    const std::uint16_t qflags = info.header.flags;
    std::uint16_t flags = static_cast<std::uint16_t>(
        flags::kQr | flags::kRa | (qflags & (flags::kOpcodeMask | flags::kRd | flags::kCd)) |
        static_cast<std::uint16_t>(rcode));
    if (truncated) flags |= flags::kTc;

    // The question is written from its decompressed name: a compressed name copied verbatim
    // could point at bytes the reply does not carry.
    ByteWriter w(out);
    bool ok = w.u16(info.header.id) && w.u16(flags) && w.u16(1) && w.u16(0) && w.u16(0) &&
              w.u16(info.opt ? 1 : 0) && write_question(w, info.question);
    if (ok && info.opt) {
        ok = w.u8(0) && w.u16(static_cast<std::uint16_t>(RecordType::OPT)) &&
             w.u16(kSynthesizedOptPayload) && w.u8(0) && w.u8(0) &&
             w.u16(static_cast<std::uint16_t>(info.opt->flags & kOptFlagDo)) && w.u16(0);
    }
    if (!ok) return Unexpected(Error::NoSpace);
    return w.position();
}

Result<std::size_t> truncate_response(MutableBytes msg, std::size_t len,
                                      std::size_t limit) noexcept {
    if (len > msg.size()) return Unexpected(Error::NoSpace);
    if (len <= limit) return len;
    const auto layout = parse_layout(msg.first(len));
    if (!layout) return Unexpected(layout.error());
    if (layout->header.qdcount != 1) return Unexpected(Error::NoQuestion);
    Question question;
    if (const auto r = read_question(msg.first(len), question); !r) return Unexpected(r.error());

    // Rebuilt rather than cut: the question is written decompressed (a pointer in it could lead
    // into the records being dropped), then the OPT record, moved down, if it fits.
    std::array<std::uint8_t, kEmptyOptSize + 512> opt_copy{};
    std::size_t opt_len = 0;
    if (layout->opt) {
        opt_len = layout->opt->end - layout->opt->offset;
        if (opt_len > opt_copy.size()) opt_len = 0;  // options too large to keep: drop the OPT
        std::memcpy(opt_copy.data(), msg.data() + layout->opt->offset, opt_len);
    }
    ByteWriter w(msg.first(limit), kHeaderSize);
    if (!write_question(w, question)) return Unexpected(Error::NoSpace);
    std::uint16_t arcount = 0;
    if (opt_len != 0 && w.bytes(Bytes(opt_copy.data(), opt_len))) arcount = 1;
    const std::uint16_t flags = static_cast<std::uint16_t>(layout->header.flags | flags::kTc);
    store_u16_be(msg.data() + kOffsetFlags, flags);
    store_u16_be(msg.data() + kOffsetAnCount, 0);
    store_u16_be(msg.data() + kOffsetNsCount, 0);
    store_u16_be(msg.data() + kOffsetArCount, arcount);
    return w.position();
}

}  // namespace dcp::dns
