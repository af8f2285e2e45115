#pragma once
// OpenSSL (libssl, libcrypto) and nghttp2 are needed by DNS-over-HTTPS only. Mapped at start-up
// they cost ~1.8 MiB of resident memory (~0.5 MiB of it private: the dynamic linker relocates
// libcrypto's data) in every proxy, DoH or not. In our lean builds (DCP_LAZY_TLS) the daemon does
// not link them: lazy_tls.cpp defines each function we call as a forwarder to the real one,
// resolved with dlopen()/dlsym() on first use, so a proxy without DoH servers never maps them.

#include <string>

#include "common/result.hpp"

namespace dcp::upstream {

// Loads the TLS and HTTP/2 libraries now (once per process; later calls return the first
// result). Called at start-up when DoH servers are configured, before a chroot hides the
// libraries. An error says what could not be loaded. Without DCP_LAZY_TLS the libraries are
// linked and this always succeeds.
[[nodiscard]] dcp::Result<void, std::string> load_tls_libraries();

}  // namespace dcp::upstream
