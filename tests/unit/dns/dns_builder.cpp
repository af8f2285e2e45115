#include "unit/dns/dns_builder.hpp"

namespace dcp::test {

MsgBuilder& MsgBuilder::header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd,
                               std::uint16_t an, std::uint16_t ns, std::uint16_t ar) {
    return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
}

MsgBuilder& MsgBuilder::name(const std::string& dotted) {
    if (dotted != ".") {
        std::size_t start = 0;
        while (start <= dotted.size()) {
            auto dot = dotted.find('.', start);
            if (dot == std::string::npos) dot = dotted.size();
            if (dot > start) {
                bytes_.push_back(static_cast<std::uint8_t>(dot - start));
                bytes_.insert(bytes_.end(), dotted.begin() + static_cast<long>(start),
                              dotted.begin() + static_cast<long>(dot));
            }
            start = dot + 1;
        }
    }
    bytes_.push_back(0);
    return *this;
}

MsgBuilder& MsgBuilder::pointer(std::uint16_t offset) {
    return u16(static_cast<std::uint16_t>(0xc000 | offset));
}

MsgBuilder& MsgBuilder::raw(std::initializer_list<std::uint8_t> bytes) {
    bytes_.insert(bytes_.end(), bytes);
    return *this;
}

MsgBuilder& MsgBuilder::raw(const std::vector<std::uint8_t>& bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    return *this;
}

MsgBuilder& MsgBuilder::u16(std::uint16_t v) {
    bytes_.push_back(static_cast<std::uint8_t>(v >> 8));
    bytes_.push_back(static_cast<std::uint8_t>(v));
    return *this;
}

MsgBuilder& MsgBuilder::u32(std::uint32_t v) {
    return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v));
}

MsgBuilder& MsgBuilder::question(const std::string& dotted, std::uint16_t type,
                                 std::uint16_t klass) {
    return name(dotted).u16(type).u16(klass);
}

MsgBuilder& MsgBuilder::record(const std::string& dotted, std::uint16_t type, std::uint32_t ttl,
                               const std::vector<std::uint8_t>& rdata, std::uint16_t klass) {
    name(dotted).u16(type).u16(klass).u32(ttl).u16(static_cast<std::uint16_t>(rdata.size()));
    return raw(rdata);
}

MsgBuilder& MsgBuilder::record_at(std::uint16_t name_offset, std::uint16_t type, std::uint32_t ttl,
                                  const std::vector<std::uint8_t>& rdata, std::uint16_t klass) {
    pointer(name_offset)
        .u16(type)
        .u16(klass)
        .u32(ttl)
        .u16(static_cast<std::uint16_t>(rdata.size()));
    return raw(rdata);
}

MsgBuilder& MsgBuilder::opt(std::uint16_t payload, std::uint16_t flags,
                            const std::vector<std::uint8_t>& options) {
    name(".").u16(41).u16(payload).u16(0).u16(flags).u16(
        static_cast<std::uint16_t>(options.size()));
    return raw(options);
}

std::vector<std::uint8_t> make_query(const std::string& name, std::uint16_t type, std::uint16_t id,
                                     int opt_payload) {
    MsgBuilder b;
    b.header(id, 0x0100, 1, 0, 0, opt_payload >= 0 ? 1 : 0).question(name, type);
    if (opt_payload >= 0) b.opt(static_cast<std::uint16_t>(opt_payload));
    return b.build();
}

std::vector<std::uint8_t> txt_rdata(const std::vector<std::string>& strings) {
    std::vector<std::uint8_t> out;
    for (const auto& s : strings) {
        out.push_back(static_cast<std::uint8_t>(s.size()));
        out.insert(out.end(), s.begin(), s.end());
    }
    return out;
}

}  // namespace dcp::test
