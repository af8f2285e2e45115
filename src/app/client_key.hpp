#pragma once
// The client's DNSCrypt key pair (what the original dnscrypt-proxy's --client-key reads).

#include <optional>
#include <string>

#include "crypto/x25519.hpp"

namespace dcp::app {

// From --client-key (64 hex digits, optionally colon-grouped like the provider key), or a
// fresh random one. Throws config::ConfigError when the file cannot be read or used.
[[nodiscard]] crypto::KeyPair load_client_keys(const std::optional<std::string>& file);

}  // namespace dcp::app
