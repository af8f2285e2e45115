#include "doh/message.hpp"

#include <algorithm>
#include <cctype>

#include "dns/constants.hpp"
#include "dns/edns.hpp"

namespace dcp::doh {
namespace {

constexpr std::uint16_t kOptionPadding = 12;  // RFC 7830
constexpr std::size_t kOptionHeader = 4;      // code, length
// Offset of RDLENGTH in an OPT record (root owner name, type, class, TTL).
constexpr std::size_t kOptRdLength = 1 + 2 + 2 + 4;

std::size_t padding_for(std::size_t length) {
    // The option's own header counts: pad the whole message to the next block.
    const std::size_t with_header = length + kOptionHeader;
    return (kPaddingBlock - with_header % kPaddingBlock) % kPaddingBlock;
}

bool has_padding_option(Bytes msg, const dns::OptRecord& opt) {
    std::size_t at = opt.offset + dns::kEmptyOptSize;
    while (at + kOptionHeader <= opt.end) {
        const auto code = load_u16_be(msg.data() + at);
        const auto len = load_u16_be(msg.data() + at + 2);
        if (code == kOptionPadding) return true;
        at += kOptionHeader + len;
    }
    return false;
}

void append_padding(std::vector<std::uint8_t>& out, std::size_t pad) {
    out.push_back(static_cast<std::uint8_t>(kOptionPadding >> 8));
    out.push_back(static_cast<std::uint8_t>(kOptionPadding & 0xff));
    out.push_back(static_cast<std::uint8_t>(pad >> 8));
    out.push_back(static_cast<std::uint8_t>(pad & 0xff));
    out.insert(out.end(), pad, std::uint8_t{0});
}

}  // namespace

dcp::Result<PreparedQuery, dns::Error> prepare_query(Bytes query, const dns::QueryInfo& info,
                                                     std::vector<std::uint8_t>& out) {
    if (info.size > query.size() || info.size < dns::kHeaderSize) {
        return Unexpected(dns::Error::ShortPacket);
    }
    const Bytes msg = query.first(info.size);
    out.clear();
    PreparedQuery prepared;
    if (!info.opt) {
        if (info.header.arcount == 0xffff) return Unexpected(dns::Error::NoSpace);
        const std::size_t pad = padding_for(msg.size() + dns::kEmptyOptSize);
        out.reserve(msg.size() + dns::kEmptyOptSize + kOptionHeader + pad);
        out.assign(msg.begin(), msg.end());
        const std::size_t rdlength = kOptionHeader + pad;
        const std::uint8_t opt[dns::kEmptyOptSize] = {
            0,  // root owner
            0, static_cast<std::uint8_t>(dns::RecordType::OPT),
            // The payload size a UDP server could use; over HTTP it means nothing, but an OPT
            // record must carry one (RFC 6891 6.2.5: at least 512).
            static_cast<std::uint8_t>(dns::kDefaultEdnsPayloadSize >> 8),
            static_cast<std::uint8_t>(dns::kDefaultEdnsPayloadSize & 0xff), 0, 0, 0,
            0,  // extended RCODE, version 0, no DO bit
            static_cast<std::uint8_t>(rdlength >> 8), static_cast<std::uint8_t>(rdlength & 0xff)};
        out.insert(out.end(), std::begin(opt), std::end(opt));
        append_padding(out, pad);
        store_u16_be(out.data() + dns::kOffsetArCount,
                     static_cast<std::uint16_t>(info.header.arcount + 1));
        prepared.opt_added = true;
    } else if (has_padding_option(msg, *info.opt)) {
        out.assign(msg.begin(), msg.end());  // the client chose its padding
    } else {
        const auto& opt = *info.opt;
        const std::size_t rdlength = opt.end - (opt.offset + dns::kEmptyOptSize);
        const std::size_t pad = padding_for(msg.size());
        if (rdlength + kOptionHeader + pad > 0xffff) return Unexpected(dns::Error::TooLarge);
        out.reserve(msg.size() + kOptionHeader + pad);
        out.assign(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(opt.end));
        append_padding(out, pad);
        out.insert(out.end(), msg.begin() + static_cast<std::ptrdiff_t>(opt.end), msg.end());
        store_u16_be(out.data() + opt.offset + kOptRdLength,
                     static_cast<std::uint16_t>(rdlength + kOptionHeader + pad));
    }
    if (out.size() > kMaxMessage) return Unexpected(dns::Error::TooLarge);
    store_u16_be(out.data() + dns::kOffsetId, 0);
    return prepared;
}

std::string_view to_string(AnswerError e) noexcept {
    switch (e) {
        case AnswerError::Malformed:
            return "not a DNS message";
        case AnswerError::NotAnAnswer:
            return "not an answer to our query (QR clear or ID not 0)";
        case AnswerError::WrongQuestion:
            return "an answer to another question";
    }
    return "unknown";
}

dcp::Result<std::size_t, AnswerError> finish_answer(MutableBytes answer, const dns::QueryInfo& info,
                                                    PreparedQuery prepared) {
    const auto matches = dns::check_response_matches(answer, 0, info.question);
    if (!matches) {
        switch (matches.error()) {
            case dns::Error::NotAResponse:
            case dns::Error::IdMismatch:
                return Unexpected(AnswerError::NotAnAnswer);
            case dns::Error::QuestionMismatch:
            case dns::Error::NoQuestion:
            case dns::Error::TooManyQuestions:
                return Unexpected(AnswerError::WrongQuestion);
            default:
                return Unexpected(AnswerError::Malformed);
        }
    }
    std::size_t len = answer.size();
    if (prepared.opt_added) {
        const auto removed = dns::remove_opt(answer, len);
        if (!removed) return Unexpected(AnswerError::Malformed);
        len = *removed;
    }
    store_u16_be(answer.data() + dns::kOffsetId, info.header.id);
    return len;
}

bool is_dns_message_type(std::string_view content_type) noexcept {
    const auto semicolon = content_type.find(';');
    auto type = content_type.substr(0, semicolon);
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
    return std::equal(type.begin(), type.end(), kContentType.begin(), kContentType.end(),
                      [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                      });
}

}  // namespace dcp::doh
