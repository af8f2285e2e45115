#include "rules/ip_matcher.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "rules/text.hpp"

namespace dcp::rules {
namespace {

// The table key of a network: family tag, prefix length, masked address bytes.
std::string_view network_key(std::span<const std::uint8_t> address, std::uint16_t bits,
                             std::array<char, 18>& buf) {
    buf[0] = address.size() == 4 ? '4' : '6';
    buf[1] = static_cast<char>(bits);
    std::size_t n = 2;
    for (std::size_t i = 0; i < address.size(); ++i) {
        const std::size_t bit = i * 8;
        std::uint8_t b = 0;
        if (bit + 8 <= bits) {
            b = address[i];
        } else if (bit < bits) {
            b = static_cast<std::uint8_t>(address[i] & (0xff << (8 - (bits - bit))));
        }
        buf[n++] = static_cast<char>(b);
    }
    return {buf.data(), n};
}

}  // namespace

dcp::Result<void, std::string> IpMatcher::add(std::string_view pattern, std::uint32_t value) {
    if (pattern.empty()) return Unexpected(std::string("empty pattern"));
    if (pattern.back() == '*') {
        const auto prefix = lower(pattern.substr(0, pattern.size() - 1));
        if (prefix.empty() || prefix.find_first_not_of("0123456789abcdef:.") != std::string::npos) {
            return Unexpected(std::string("not an address prefix"));
        }
        text_prefixes_.insert(prefix, value);
        add_length(text_lengths_, static_cast<std::uint16_t>(prefix.size()));
        ++size_;
        return {};
    }
    std::string address(pattern);
    int bits = -1;
    if (const auto slash = address.find('/'); slash != std::string::npos) {
        const char* first = address.data() + slash + 1;
        const char* last = address.data() + address.size();
        const auto [ptr, ec] = std::from_chars(first, last, bits);
        if (ec != std::errc() || ptr != last || first == last) {
            return Unexpected(std::string("bad prefix length"));
        }
        address.resize(slash);
    }
    std::array<std::uint8_t, 16> bytes{};
    std::size_t size = 0;
    if (inet_pton(AF_INET, address.c_str(), bytes.data()) == 1) {
        size = 4;
    } else if (inet_pton(AF_INET6, address.c_str(), bytes.data()) == 1) {
        size = 16;
    } else {
        return Unexpected(std::string("not an IP address, network or prefix"));
    }
    if (bits < 0) bits = static_cast<int>(size * 8);
    if (bits > static_cast<int>(size * 8)) return Unexpected(std::string("bad prefix length"));
    std::array<char, 18> buf{};
    networks_.insert(
        network_key(std::span(bytes.data(), size), static_cast<std::uint16_t>(bits), buf), value);
    add_length(size == 4 ? lengths4_ : lengths6_, static_cast<std::uint16_t>(bits));
    ++size_;
    return {};
}

std::optional<std::uint32_t> IpMatcher::match(std::span<const std::uint8_t> address) const {
    if (address.size() != 4 && address.size() != 16) return std::nullopt;
    std::array<char, 18> buf{};
    for (const auto bits : address.size() == 4 ? lengths4_ : lengths6_) {
        if (const auto* v = networks_.find(network_key(address, bits, buf))) return *v;
    }
    if (!text_lengths_.empty()) {
        char text[INET6_ADDRSTRLEN] = {};
        if (inet_ntop(address.size() == 4 ? AF_INET : AF_INET6, address.data(), text,
                      sizeof text) == nullptr) {
            return std::nullopt;
        }
        const std::string_view t(text);
        for (const auto len : text_lengths_) {
            if (len > t.size()) continue;
            if (const auto* v = text_prefixes_.find(t.substr(0, len))) return *v;
        }
    }
    return std::nullopt;
}

}  // namespace dcp::rules
