#include "dns/message.hpp"

#include <algorithm>

namespace dcp::dns {

Result<Header> parse_header(Bytes msg) noexcept {
    if (msg.size() < kHeaderSize) return Unexpected(Error::ShortPacket);
    if (msg.size() > kMaxMessageSize) return Unexpected(Error::TooLarge);
    const auto* p = msg.data();
    Header h;
    h.id = load_u16_be(p + kOffsetId);
    h.flags = load_u16_be(p + kOffsetFlags);
    h.qdcount = load_u16_be(p + kOffsetQdCount);
    h.ancount = load_u16_be(p + kOffsetAnCount);
    h.nscount = load_u16_be(p + kOffsetNsCount);
    h.arcount = load_u16_be(p + kOffsetArCount);
    return h;
}

Result<Record> read_record(Bytes msg, std::size_t offset) noexcept {
    const auto after_name = skip_name(msg, offset);
    if (!after_name) return Unexpected(after_name.error());
    ByteReader r(msg, *after_name);
    const auto type = r.u16();
    const auto klass = r.u16();
    const auto ttl = r.u32();
    const auto rdlength = r.u16();
    if (!type || !klass || !ttl || !rdlength) return Unexpected(Error::ShortPacket);
    Record rec;
    rec.offset = offset;
    rec.type = *type;
    rec.klass = *klass;
    rec.ttl = *ttl;
    rec.rdata_offset = r.position();
    rec.rdlength = *rdlength;
    if (!r.skip(*rdlength)) return Unexpected(Error::ShortPacket);
    return rec;
}

Result<Layout> parse_layout(Bytes msg) noexcept {
    const auto header = parse_header(msg);
    if (!header) return Unexpected(header.error());
    Layout layout;
    layout.header = *header;

    std::size_t pos = kHeaderSize;
    for (std::uint16_t i = 0; i < header->qdcount; ++i) {
        const auto after = skip_name(msg, pos);
        if (!after) return Unexpected(after.error());
        pos = *after + 4;
        if (pos > msg.size()) return Unexpected(Error::ShortPacket);
    }
    layout.answer_offset = pos;

    const std::uint32_t an = header->ancount;
    const std::uint32_t ns = header->nscount;
    const std::uint32_t total = an + ns + header->arcount;
    for (std::uint32_t i = 0; i < total; ++i) {
        if (i == an) layout.authority_offset = pos;
        if (i == an + ns) layout.additional_offset = pos;
        const auto rec = read_record(msg, pos);
        if (!rec) return Unexpected(rec.error());
        if (rec->type == static_cast<std::uint16_t>(RecordType::OPT)) {
            if (i < an + ns || msg[rec->offset] != 0) return Unexpected(Error::BadOpt);
            if (layout.opt) return Unexpected(Error::MultipleOpt);
            OptRecord opt;
            opt.offset = rec->offset;
            opt.end = rec->end();
            opt.udp_payload = rec->klass;
            opt.extended_rcode = static_cast<std::uint8_t>(rec->ttl >> 24);
            opt.version = static_cast<std::uint8_t>(rec->ttl >> 16);
            opt.flags = static_cast<std::uint16_t>(rec->ttl);
            layout.opt = opt;
        }
        pos = rec->end();
    }
    if (total <= an) layout.authority_offset = pos;
    if (total <= an + ns) layout.additional_offset = pos;
    if (pos != msg.size()) return Unexpected(Error::TrailingData);
    layout.end = pos;
    return layout;
}

Result<std::size_t> read_question(Bytes msg, Question& out) noexcept {
    const auto after_name = read_name(msg, kHeaderSize, out.name);
    if (!after_name) return Unexpected(after_name.error());
    ByteReader r(msg, *after_name);
    const auto qtype = r.u16();
    const auto qclass = r.u16();
    if (!qtype || !qclass) return Unexpected(Error::ShortPacket);
    out.qtype = *qtype;
    out.qclass = *qclass;
    return r.position();
}

std::uint16_t QueryInfo::client_udp_limit() const noexcept {
    if (!opt) return kClassicUdpLimit;
    return std::clamp(opt->udp_payload, kClassicUdpLimit, kMaxClientUdpLimit);
}

Result<void> parse_query(Bytes msg, QueryInfo& out) noexcept {
    const auto layout = parse_layout(msg);
    if (!layout) return Unexpected(layout.error());
    const Header& h = layout->header;
    if (h.qr()) return Unexpected(Error::NotAQuery);
    if (h.qdcount == 0) return Unexpected(Error::NoQuestion);
    if (h.qdcount > 1) return Unexpected(Error::TooManyQuestions);
    out.header = h;
    const auto question_end = read_question(msg, out.question);
    if (!question_end) return Unexpected(question_end.error());
    out.question_end = *question_end;
    out.opt = layout->opt;
    out.size = msg.size();
    return {};
}

Result<QueryInfo> parse_query(Bytes msg) noexcept {
    QueryInfo info;
    if (auto parsed = parse_query(msg, info); !parsed) return Unexpected(parsed.error());
    return info;
}

dcp::Result<void, Error> check_response_matches(Bytes response, std::uint16_t id,
                                                const Question& question) noexcept {
    const auto h = parse_header(response);
    if (!h) return Unexpected(h.error());
    if (!h->qr()) return Unexpected(Error::NotAResponse);
    if (h->id != id) return Unexpected(Error::IdMismatch);
    if (h->qdcount != 1) return Unexpected(Error::QuestionMismatch);
    Question got;
    const auto end = read_question(response, got);
    if (!end) return Unexpected(end.error());
    if (got.qtype != question.qtype || got.qclass != question.qclass ||
        !(got.name == question.name)) {
        return Unexpected(Error::QuestionMismatch);
    }
    return {};
}

}  // namespace dcp::dns
