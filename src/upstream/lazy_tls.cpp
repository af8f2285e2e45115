#include "upstream/lazy_tls.hpp"

#if DCP_LAZY_TLS

#include <dlfcn.h>
#include <nghttp2/nghttp2.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <type_traits>

#include "common/shared_library.hpp"

namespace dcp::upstream {
namespace {

// The ABIs these headers describe first (SONAMEs on Linux and the BSDs, then macOS names), then
// the unversioned development names.
#define DCP_STRINGIFY_(x) #x
#define DCP_STRINGIFY(x) DCP_STRINGIFY_(x)
constexpr std::initializer_list<const char*> kSslNames = {
    "libssl.so." DCP_STRINGIFY(OPENSSL_SHLIB_VERSION),
    "libssl." DCP_STRINGIFY(OPENSSL_SHLIB_VERSION) ".dylib", "libssl.so", "libssl.dylib"};
constexpr std::initializer_list<const char*> kNghttp2Names = {
    "libnghttp2.so.14", "libnghttp2.14.dylib", "libnghttp2.so", "libnghttp2.dylib"};

struct Libraries {
    void* ssl = nullptr;  // libcrypto comes with it (a dependency: dlsym finds its functions)
    void* nghttp2 = nullptr;
    std::string error;
};

std::atomic<bool> loaded{false};

const Libraries& libraries() {
    static const Libraries libs = [] {
        // Opened RTLD_LOCAL: their symbols stay out of the global scope, where our forwarders are.
        Libraries l;
        const auto ssl = open_first_library(kSslNames);
        if (!ssl) {
            l.error = "cannot load libssl: " + ssl.error();
            return l;
        }
        l.ssl = *ssl;
        const auto nghttp2 = open_first_library(kNghttp2Names);
        if (!nghttp2) {
            l.error = "cannot load libnghttp2: " + nghttp2.error();
            return l;
        }
        l.nghttp2 = *nghttp2;
        loaded.store(true, std::memory_order_release);
        return l;  // never unloaded: OpenSSL's global state lives until exit
    }();
    return libs;
}

// A forwarder's first call. Every function is checked by load_tls_libraries() before any DoH
// code runs, so failing here means a caller skipped it: say which function and stop.
void* resolve(void* Libraries::*lib, const char* name) noexcept {
    const Libraries& libs = libraries();
    void* fn = libs.*lib != nullptr ? dlsym(libs.*lib, name) : nullptr;
    if (fn == nullptr) {
        std::fprintf(stderr, "dnscrypt-proxy: cannot call %s: %s\n", name,
                     libs.error.empty() ? "missing from the library" : libs.error.c_str());
        std::abort();
    }
    return fn;
}

// Every forwarder's name, for load_tls_libraries() to check.
struct Function {
    void* Libraries::*lib;
    const char* name;
};
#define DCP_TLS_FUNCTION(lib, ret, name, params, args) {&Libraries::lib, #name},
#define DCP_TLS_CLEANUP DCP_TLS_FUNCTION
constexpr Function kFunctions[] = {
#include "upstream/lazy_tls_functions.inc"
};
#undef DCP_TLS_FUNCTION
#undef DCP_TLS_CLEANUP

}  // namespace

dcp::Result<void, std::string> load_tls_libraries() {
    const Libraries& libs = libraries();
    if (!libs.error.empty()) return Unexpected(libs.error);
    for (const Function& f : kFunctions) {
        if (dlsym(libs.*f.lib, f.name) == nullptr) {
            return Unexpected(std::string("the TLS libraries lack ") + f.name);
        }
    }
    return {};
}

}  // namespace dcp::upstream

// The forwarders: the signatures are the headers' own (a mismatch would not compile), the real
// function is looked up once (a thread-safe static) and called.
#define DCP_TLS_FUNCTION(lib, ret, name, params, args)                      \
    extern "C" ret name params {                                            \
        static const auto fn = reinterpret_cast<decltype(&name)>(           \
            dcp::upstream::resolve(&dcp::upstream::Libraries::lib, #name)); \
        return fn args;                                                     \
    }
// Called by asio::ssl's global clean-up at exit in every process: nothing to clean up when the
// library was never loaded, and no reason to load it then.
#define DCP_TLS_CLEANUP(lib, ret, name, params, args)                       \
    extern "C" ret name params {                                            \
        if (!dcp::upstream::loaded.load(std::memory_order_acquire)) return; \
        static const auto fn = reinterpret_cast<decltype(&name)>(           \
            dcp::upstream::resolve(&dcp::upstream::Libraries::lib, #name)); \
        return fn args;                                                     \
    }
#include "upstream/lazy_tls_functions.inc"

#else

namespace dcp::upstream {

dcp::Result<void, std::string> load_tls_libraries() {
    return {};
}

}  // namespace dcp::upstream

#endif
