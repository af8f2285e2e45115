#pragma once
// Downloading a resolver list or its signature: HTTPS (certificate and host name verified) or
// file://, nothing else; a size limit, connect and total timeouts. Blocking: call it off the
// event loop. The trust store is the system's, or SSL_CERT_FILE when set (as Go programs such as
// dnscrypt-proxy 2 honour it).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>

#include "common/result.hpp"

namespace dcp::sources {

struct FetchLimits {
    std::size_t max_bytes = 4 * 1024 * 1024;  // public-resolvers.md is ~370 KB
    std::chrono::seconds connect_timeout{10};
    std::chrono::seconds total_timeout{30};
    // Set from another thread to abandon the transfer (the process is stopping).
    const std::atomic<bool>* cancel = nullptr;
};

// The body, or why not (for the log).
[[nodiscard]] dcp::Result<std::string, std::string> fetch_url(const std::string& url,
                                                              const FetchLimits& limits = {});

// Loads libcurl (dlopen: a proxy that never downloads a list, the default, never maps its ~30
// libraries, ~3.4 MiB of resident memory) and initialises it. Once per process, before any
// thread fetches and before a chroot hides the libraries; later calls return the first result.
// An error says why downloads cannot work; fetch_url then fails with the same words.
[[nodiscard]] dcp::Result<void, std::string> init_fetching();

}  // namespace dcp::sources
