#pragma once
// Addresses as users write them: "127.0.0.1", "127.0.0.1:53", "::1", "[::1]:53".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "net/asio.hpp"

namespace dcp::net {

struct HostPort {
    asio::ip::address address;
    std::optional<std::uint16_t> port;  // absent when the text gave none
};

// The address, or why the text is not an IP address with an optional port.
[[nodiscard]] dcp::Result<HostPort, std::string> parse_host_port(std::string_view text);

[[nodiscard]] std::string to_string(const asio::ip::udp::endpoint& ep);
[[nodiscard]] std::string to_string(const asio::ip::tcp::endpoint& ep);

}  // namespace dcp::net
