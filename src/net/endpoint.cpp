#include "net/endpoint.hpp"

#include <charconv>
#include <initializer_list>

namespace dcp::net {
namespace {

// Concatenation by appending into one reserved string: g++ 12 at -O3 reports a false
// -Wrestrict inside `"'" + std::string(x) + "'"` (GCC bug 105329), which would break a user's
// plain Release build wherever warnings are errors.
std::string join(std::initializer_list<std::string_view> parts) {
    std::size_t size = 0;
    for (const auto part : parts) size += part.size();
    std::string out;
    out.reserve(size);
    for (const auto part : parts) out.append(part);
    return out;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty() || value == 0 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

std::optional<asio::ip::address> parse_address(std::string_view text) {
    asio::error_code ec;
    const auto a = asio::ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    return a;
}

}  // namespace

dcp::Result<HostPort, std::string> parse_host_port(std::string_view text) {
    HostPort hp;
    std::string_view host = text;
    std::optional<std::string_view> port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return Unexpected(join({"missing ']' in '", text, "'"}));
        }
        host = text.substr(1, close - 1);
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return Unexpected(join({"expected ':port' after ']' in '", text, "'"}));
            }
            port_text = rest.substr(1);
        }
    } else if (const auto colon = text.rfind(':');
               colon != std::string_view::npos && text.find(':') == colon) {
        // Exactly one colon: IPv4 with a port. Several colons without brackets: bare IPv6.
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    const auto address = parse_address(host);
    if (!address) {
        return Unexpected(join({"'", host, "' is not an IP address"}));
    }
    hp.address = *address;
    if (port_text) {
        hp.port = parse_port(*port_text);
        if (!hp.port) {
            return Unexpected(join({"'", *port_text, "' is not a port (1-65535)"}));
        }
    }
    return hp;
}

template <class Endpoint>
std::string endpoint_text(const Endpoint& ep) {
    const auto a = ep.address();
    const std::string address = a.to_string();
    const std::string port = std::to_string(ep.port());
    if (a.is_v6()) return join({"[", address, "]:", port});
    return join({address, ":", port});
}

std::string to_string(const asio::ip::udp::endpoint& ep) {
    return endpoint_text(ep);
}
std::string to_string(const asio::ip::tcp::endpoint& ep) {
    return endpoint_text(ep);
}

}  // namespace dcp::net
