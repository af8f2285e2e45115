#include "dns/reply.hpp"

#include <cstring>

namespace dcp::dns {

Result<std::size_t> write_reply(Bytes query, const QueryInfo& info, Rcode rcode, bool truncated,
                                MutableBytes out) noexcept {
    if (info.question_end > query.size() || info.question_end < kHeaderSize) {
        return Unexpected(Error::ShortPacket);
    }
    const std::uint16_t qflags = info.header.flags;
    std::uint16_t flags = static_cast<std::uint16_t>(
        flags::kQr | flags::kRa | (qflags & (flags::kOpcodeMask | flags::kRd | flags::kCd)) |
        static_cast<std::uint16_t>(rcode));
    if (truncated) flags |= flags::kTc;

    ByteWriter w(out);
    bool ok = w.u16(info.header.id) && w.u16(flags) && w.u16(1) && w.u16(0) && w.u16(0) &&
              w.u16(info.opt ? 1 : 0) &&
              w.bytes(query.subspan(kHeaderSize, info.question_end - kHeaderSize));
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
    std::size_t out = layout->answer_offset;
    if (out > limit) return Unexpected(Error::NoSpace);
    std::uint16_t arcount = 0;
    if (layout->opt) {
        const auto& opt = *layout->opt;
        const std::size_t opt_len = opt.end - opt.offset;
        if (out + opt_len <= limit) {
            std::memmove(msg.data() + out, msg.data() + opt.offset, opt_len);
            out += opt_len;
            arcount = 1;
        }
    }
    const std::uint16_t flags = static_cast<std::uint16_t>(layout->header.flags | flags::kTc);
    store_u16_be(msg.data() + kOffsetFlags, flags);
    store_u16_be(msg.data() + kOffsetAnCount, 0);
    store_u16_be(msg.data() + kOffsetNsCount, 0);
    store_u16_be(msg.data() + kOffsetArCount, arcount);
    return out;
}

}  // namespace dcp::dns
