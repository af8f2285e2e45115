// Untrusted input: an address as a user or a configuration file writes it ("127.0.0.1:53",
// "[::1]:53", "::1"). Any text gives an address or a reason, never a crash; an address that
// parses prints back as text that parses to the same address and port.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/endpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp;
    if (size > 256) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto hp = net::parse_host_port(text);
    if (!hp) {
        if (hp.error().empty()) std::abort();  // every refusal says why
        return 0;
    }
    const asio::ip::udp::endpoint ep(hp->address, hp->port.value_or(53));
    const auto again = net::parse_host_port(net::to_string(ep));
    if (!again || again->address != ep.address() || again->port != ep.port()) std::abort();
    return 0;
}
