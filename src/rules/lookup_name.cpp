#include "rules/lookup_name.hpp"

namespace dcp::rules {
namespace {

bool plain(std::uint8_t c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
}

}  // namespace

LookupName LookupName::from_wire(Bytes wire) noexcept {
    LookupName out;
    std::size_t pos = 0;
    std::size_t len = 0;
    while (pos < wire.size() && wire[pos] != 0 && out.labels_ < out.starts_.size()) {
        const std::size_t label = wire[pos++];
        if (out.labels_ != 0) out.text_[len++] = '.';
        out.starts_[out.labels_++] = static_cast<std::uint16_t>(len);
        for (std::size_t i = 0; i < label && pos < wire.size(); ++i, ++pos) {
            std::uint8_t c = wire[pos];
            if (c >= 'A' && c <= 'Z') c = static_cast<std::uint8_t>(c + ('a' - 'A'));
            if (plain(c)) {
                out.text_[len++] = static_cast<char>(c);
            } else {
                out.text_[len++] = '\\';
                out.text_[len++] = static_cast<char>('0' + c / 100);
                out.text_[len++] = static_cast<char>('0' + (c / 10) % 10);
                out.text_[len++] = static_cast<char>('0' + c % 10);
            }
        }
    }
    if (out.labels_ == 0) {
        out.text_[len++] = '.';
        out.starts_[out.labels_++] = 0;
    }
    out.len_ = static_cast<std::uint16_t>(len);
    return out;
}

LookupName LookupName::from_text(std::string_view text) noexcept {
    LookupName out;
    if (!text.empty() && text.back() == '.' && text.size() > 1) text.remove_suffix(1);
    std::size_t len = 0;
    out.starts_[out.labels_++] = 0;
    for (const char ch : text) {
        if (len == out.text_.size()) break;
        char c = ch;
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
        if (c == '.' && len != 0 && out.labels_ < out.starts_.size()) {
            out.starts_[out.labels_++] = static_cast<std::uint16_t>(len + 1);
        }
        out.text_[len++] = c;
    }
    out.len_ = static_cast<std::uint16_t>(len);
    return out;
}

}  // namespace dcp::rules
