#pragma once
// The one place that knows which protocols have a transport: it checks a server's spec (what a
// transport would refuse), names the server (its identity), and makes a worker's transport for
// it. A new protocol is a new case here and a folder of its own; configuration and the app
// only handle ServerSpecs.

#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/counters.hpp"
#include "common/result.hpp"
#include "crypto/x25519.hpp"
#include "net/asio.hpp"
#include "upstream/server.hpp"

namespace asio::ssl {
class context;
}

namespace dcp::upstream {

// Whether servers of this protocol can be used.
[[nodiscard]] bool has_transport(stamp::Protocol protocol);

// A spec for the server of `stamp`, checked, its id set; or why it cannot be used.
[[nodiscard]] dcp::Result<ServerSpec, std::string> make_spec(
    const stamp::Stamp& stamp, std::string name, std::optional<RelaySpec> relay = std::nullopt);

// The DNSCrypt server of the original dnscrypt-proxy's switches, as a stamp: its address
// (with a port), provider name and provider key (hex, maybe colon-grouped).
enum class StampPart : std::uint8_t { ProviderName, ProviderKey };
struct StampPartError {
    StampPart part;
    std::string what;
};
[[nodiscard]] dcp::Result<stamp::Stamp, StampPartError> dnscrypt_stamp(
    const std::string& address, const std::string& provider_name, const std::string& provider_key);

// Where a server is reached, for the log ("192.0.2.1:443", "https://doh.example/dns-query").
[[nodiscard]] std::string where(const ServerSpec& spec);

// What one worker's transports are made with.
struct WorkerContext {
    asio::io_context& io;
    Counters& counters;
    const Clock& clock;
    const crypto::KeyPair& client_keys;
    std::shared_ptr<asio::ssl::context> tls;  // for the servers that need it (needs_tls)
    std::size_t servers = 1;                  // how many in all (sockets are shared out)
};

// Whether the server's transport needs the process's TLS client context.
[[nodiscard]] bool needs_tls(const ServerSpec& spec);

// The transport of one worker for `spec` (made by make_spec).
[[nodiscard]] std::unique_ptr<ServerTransport> make_transport(const ServerSpec& spec,
                                                              const TransportSettings& settings,
                                                              const WorkerContext& context);

}  // namespace dcp::upstream
