#include "dns/txt.hpp"

#include "dns/message.hpp"

namespace dcp::dns {

Result<std::vector<std::vector<std::uint8_t>>> extract_txt_answers(Bytes msg, const Name& owner) {
    const auto layout = parse_layout(msg);
    if (!layout) return Unexpected(layout.error());
    std::vector<std::vector<std::uint8_t>> out;
    std::size_t pos = layout->answer_offset;
    for (std::uint16_t i = 0; i < layout->header.ancount; ++i) {
        const auto rec = read_record(msg, pos);
        if (!rec) return Unexpected(rec.error());
        pos = rec->end();
        if (rec->type != static_cast<std::uint16_t>(RecordType::TXT) ||
            rec->klass != static_cast<std::uint16_t>(RecordClass::IN)) {
            continue;
        }
        Name name;
        if (const auto r = read_name(msg, rec->offset, name); !r) return Unexpected(r.error());
        if (!(name == owner)) continue;
        std::vector<std::uint8_t> text;
        ByteReader r(msg.subspan(rec->rdata_offset, rec->rdlength));
        while (!r.empty()) {
            const auto len = r.u8();
            const auto chunk = r.bytes(*len);
            if (!chunk) return Unexpected(Error::ShortPacket);
            text.insert(text.end(), chunk->begin(), chunk->end());
        }
        out.push_back(std::move(text));
    }
    return out;
}

}  // namespace dcp::dns
