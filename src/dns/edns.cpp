#include "dns/edns.hpp"

#include <cstring>

namespace dcp::dns {

Result<EdnsDecision> apply_edns_payload_policy(MutableBytes buf, const QueryInfo& info,
                                               std::uint16_t configured_size) noexcept {
    if (info.size > buf.size()) return Unexpected(Error::NoSpace);
    if (configured_size <= kClassicUdpLimit || info.opt) {
        return EdnsDecision{info.size, false, info.client_udp_limit()};
    }
    if (info.header.arcount == 0xffff) return Unexpected(Error::NoSpace);
    ByteWriter w(buf, info.size);
    const bool ok = w.u8(0) &&                                             // root owner
                    w.u16(static_cast<std::uint16_t>(RecordType::OPT)) &&  // type
                    w.u16(configured_size) &&                              // UDP payload size
                    w.u32(0) &&  // extended RCODE, version 0, no DO bit
                    w.u16(0);    // no options
    if (!ok) return Unexpected(Error::NoSpace);
    store_u16_be(buf.data() + kOffsetArCount, static_cast<std::uint16_t>(info.header.arcount + 1));
    return EdnsDecision{w.position(), true, configured_size};
}

bool has_edns_option(Bytes msg, const OptRecord& opt, std::uint16_t code) noexcept {
    // Root owner (1 byte), type, class, TTL, then RDLENGTH and the options.
    std::size_t at = opt.offset + kEmptyOptSize;
    if (opt.end > msg.size() || at > opt.end) return true;
    while (at < opt.end) {
        if (opt.end - at < 4) return true;
        const std::uint16_t option = load_u16_be(msg.data() + at);
        const std::size_t len = load_u16_be(msg.data() + at + 2);
        if (option == code) return true;
        at += 4;
        if (opt.end - at < len) return true;
        at += len;
    }
    return false;
}

void set_opt_udp_payload(MutableBytes msg, const OptRecord& opt, std::uint16_t size) noexcept {
    // owner (1 byte, root) + type (2) precede the class field that carries the payload size.
    store_u16_be(msg.data() + opt.offset + 3, size);
}

Result<std::size_t> remove_opt(MutableBytes msg, std::size_t len) noexcept {
    if (len > msg.size()) return Unexpected(Error::NoSpace);
    const auto layout = parse_layout(msg.first(len));
    if (!layout) return Unexpected(layout.error());
    if (!layout->opt) return len;
    const auto& opt = *layout->opt;
    std::memmove(msg.data() + opt.offset, msg.data() + opt.end, len - opt.end);
    store_u16_be(msg.data() + kOffsetArCount,
                 static_cast<std::uint16_t>(layout->header.arcount - 1));
    return len - (opt.end - opt.offset);
}

}  // namespace dcp::dns
