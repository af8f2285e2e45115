#include "dns/name.hpp"

#include <cstring>

namespace dcp::dns {
namespace {

constexpr std::uint8_t kPointerMask = 0xc0;

constexpr std::uint8_t ascii_lower(std::uint8_t c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c + ('a' - 'A')) : c;
}

// What starts at msg[pos]: a label of `length` bytes, or a compression pointer to `target`.
struct NamePart {
    bool pointer = false;
    std::uint8_t length = 0;
    std::size_t target = 0;
};

inline Result<NamePart> name_part_at(Bytes msg, std::size_t pos) noexcept {
    if (pos >= msg.size()) return Unexpected(Error::ShortPacket);
    const std::uint8_t len = msg[pos];
    if ((len & kPointerMask) == kPointerMask) {
        if (pos + 1 >= msg.size()) return Unexpected(Error::ShortPacket);
        const std::size_t target = ((len & 0x3fu) << 8) | msg[pos + 1];
        // Strictly backwards: every jump lowers pos, so a walk always terminates.
        if (target < kHeaderSize || target >= pos) return Unexpected(Error::BadPointer);
        return NamePart{true, 0, target};
    }
    if ((len & kPointerMask) != 0) return Unexpected(Error::BadLabelType);
    return NamePart{false, len, 0};
}

}  // namespace

bool operator==(const Name& a, const Name& b) noexcept {
    if (a.size_ != b.size_) return false;
    // Length bytes are <= 63, below 'A', so lowering the whole wire form only touches letters.
    for (std::size_t i = 0; i < a.size_; ++i) {
        if (ascii_lower(a.wire_[i]) != ascii_lower(b.wire_[i])) return false;
    }
    return true;
}

std::string Name::to_text() const {
    std::string out;
    std::size_t pos = 0;
    while (pos < size_ && wire_[pos] != 0) {
        const std::size_t len = wire_[pos++];
        for (std::size_t i = 0; i < len && pos < size_; ++i, ++pos) {
            const auto c = wire_[pos];
            if (c == '.' || c == '\\') {
                out.push_back('\\');
                out.push_back(static_cast<char>(c));
            } else if (c < 0x21 || c > 0x7e) {
                char esc[5];
                esc[0] = '\\';
                esc[1] = static_cast<char>('0' + c / 100);
                esc[2] = static_cast<char>('0' + (c / 10) % 10);
                esc[3] = static_cast<char>('0' + c % 10);
                esc[4] = 0;
                out += esc;
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
        out.push_back('.');
    }
    if (out.empty()) out.push_back('.');
    return out;
}

Result<std::size_t> skip_name(Bytes msg, std::size_t offset) noexcept {
    std::size_t pos = offset;
    std::size_t wire_len = 0;
    for (;;) {
        const auto part = name_part_at(msg, pos);
        if (!part) return Unexpected(part.error());
        if (part->pointer) return pos + 2;
        const std::uint8_t len = part->length;
        wire_len += 1u + len;
        if (wire_len > kMaxNameWireSize) return Unexpected(Error::NameTooLong);
        if (len == 0) return pos + 1;
        pos += 1u + len;
    }
}

Result<std::size_t> read_name(Bytes msg, std::size_t offset, Name& out) noexcept {
    std::size_t pos = offset;
    std::size_t end = 0;  // offset just past the name as stored at `offset`; set at first pointer
    std::size_t out_len = 0;
    for (;;) {
        const auto part = name_part_at(msg, pos);
        if (!part) return Unexpected(part.error());
        if (part->pointer) {
            if (end == 0) end = pos + 2;
            pos = part->target;
            continue;
        }
        const std::uint8_t len = part->length;
        if (out_len + 1u + len > kMaxNameWireSize) return Unexpected(Error::NameTooLong);
        if (pos + 1u + len > msg.size()) return Unexpected(Error::ShortPacket);
        std::memcpy(out.wire_.data() + out_len, msg.data() + pos, 1u + len);
        out_len += 1u + len;
        if (len == 0) {
            out.size_ = out_len;
            return end != 0 ? end : pos + 1;
        }
        pos += 1u + len;
    }
}

Result<Name> encode_name(std::string_view text) noexcept {
    Name name;
    if (text == ".") return name;
    if (!text.empty() && text.back() == '.') text.remove_suffix(1);
    if (text.empty()) return Unexpected(Error::BadName);
    std::size_t out = 0;
    while (true) {
        const auto dot = text.find('.');
        const auto label = text.substr(0, dot);
        if (label.empty() || label.size() > kMaxLabelSize) return Unexpected(Error::BadName);
        if (out + 1 + label.size() + 1 > kMaxNameWireSize) return Unexpected(Error::BadName);
        name.wire_[out++] = static_cast<std::uint8_t>(label.size());
        std::memcpy(name.wire_.data() + out, label.data(), label.size());
        out += label.size();
        if (dot == std::string_view::npos) break;
        text.remove_prefix(dot + 1);
    }
    name.wire_[out++] = 0;
    name.size_ = out;
    return name;
}

}  // namespace dcp::dns
