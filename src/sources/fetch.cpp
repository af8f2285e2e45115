#include "sources/fetch.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>

#include "common/shared_library.hpp"
#include "sources/curl_protocols.hpp"

namespace dcp::sources {
namespace {

// The libcurl functions used here, looked up once. Names tried in order: the ABI this code was
// written against (SONAME 4 on Linux and the BSDs, 4.dylib on macOS), then the unversioned name.
struct CurlApi {
    decltype(&curl_global_init) global_init = nullptr;
    decltype(&curl_easy_init) easy_init = nullptr;
    decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
    decltype(&curl_easy_perform) easy_perform = nullptr;
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
    decltype(&curl_easy_strerror) easy_strerror = nullptr;
};

template <typename F>
bool find_symbol(void* lib, const char* name, F& out) {
    out = reinterpret_cast<F>(dlsym(lib, name));
    return out != nullptr;
}

dcp::Result<CurlApi, std::string> load_curl() {
    const auto opened =
        open_first_library({"libcurl.so.4", "libcurl.4.dylib", "libcurl.so", "libcurl.dylib"});
    if (!opened) return Unexpected("cannot load libcurl: " + opened.error());
    void* lib = *opened;
    CurlApi api;
    if (!find_symbol(lib, "curl_global_init", api.global_init) ||
        !find_symbol(lib, "curl_easy_init", api.easy_init) ||
        !find_symbol(lib, "curl_easy_cleanup", api.easy_cleanup) ||
        !find_symbol(lib, "curl_easy_setopt", api.easy_setopt) ||
        !find_symbol(lib, "curl_easy_perform", api.easy_perform) ||
        !find_symbol(lib, "curl_easy_getinfo", api.easy_getinfo) ||
        !find_symbol(lib, "curl_easy_strerror", api.easy_strerror)) {
        return Unexpected(std::string("libcurl lacks a function we call"));
    }
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return Unexpected(std::string("libcurl failed to initialise"));
    }
    return api;  // never unloaded: libcurl's global state lives until exit
}

const dcp::Result<CurlApi, std::string>& curl_api() {
    static const dcp::Result<CurlApi, std::string> api = load_curl();
    return api;
}

struct Body {
    std::string data;
    std::size_t limit = 0;
    bool too_large = false;
};

std::size_t on_data(char* ptr, std::size_t size, std::size_t nmemb, void* user) {
    auto* body = static_cast<Body*>(user);
    const std::size_t n = size * nmemb;
    if (body->data.size() + n > body->limit) {
        body->too_large = true;
        return 0;  // aborts the transfer
    }
    body->data.append(ptr, n);
    return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    const auto* cancel = static_cast<const std::atomic<bool>*>(user);
    return cancel != nullptr && cancel->load() ? 1 : 0;  // non-zero aborts the transfer
}

}  // namespace

dcp::Result<void, std::string> init_fetching() {
    if (const auto& api = curl_api(); !api) return Unexpected(api.error());
    return {};
}

dcp::Result<std::string, std::string> fetch_url(const std::string& url, const FetchLimits& limits) {
    const auto& loaded = curl_api();
    if (!loaded) return Unexpected(loaded.error());
    const CurlApi& api = *loaded;
    const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(api.easy_init(),
                                                                   api.easy_cleanup);
    if (!curl) return Unexpected(std::string("cannot start a transfer"));
    Body body;
    body.limit = limits.max_bytes;
    char error[CURL_ERROR_SIZE] = "";
    CURL* c = curl.get();
    // Only HTTPS and local files, redirects included: a list never comes in clear or from
    // elsewhere than the user said (its signature is checked anyway; this keeps it private).
    // Every option is checked: one libcurl does not know is a transfer we did not ask for.
    const auto set = [&](CURLoption option, auto value) {
        return api.easy_setopt(c, option, value);
    };
    if (auto refused = restrict_protocols(set)) return Unexpected(std::move(*refused));
    bool ok =
        set(CURLOPT_URL, url.c_str()) == CURLE_OK && set(CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK &&
        set(CURLOPT_MAXREDIRS, 5L) == CURLE_OK && set(CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
        set(CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
        set(CURLOPT_CONNECTTIMEOUT, static_cast<long>(limits.connect_timeout.count())) ==
            CURLE_OK &&
        set(CURLOPT_TIMEOUT, static_cast<long>(limits.total_timeout.count())) == CURLE_OK &&
        set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_bytes)) == CURLE_OK &&
        set(CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&  // timeouts without SIGALRM: threads
        set(CURLOPT_USERAGENT, "dnscrypt-proxy") == CURLE_OK &&
        set(CURLOPT_WRITEFUNCTION, &on_data) == CURLE_OK &&
        set(CURLOPT_WRITEDATA, &body) == CURLE_OK && set(CURLOPT_ERRORBUFFER, error) == CURLE_OK;
    if (const char* ca = std::getenv("SSL_CERT_FILE"); ok && ca != nullptr && *ca != '\0') {
        ok = set(CURLOPT_CAINFO, ca) == CURLE_OK;
    }
    if (ok && limits.cancel != nullptr) {
        ok = set(CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
             set(CURLOPT_XFERINFOFUNCTION, &on_progress) == CURLE_OK &&
             set(CURLOPT_XFERINFODATA, limits.cancel) == CURLE_OK;
    }
    if (!ok) return Unexpected(std::string("libcurl refused an option of the transfer"));
    const CURLcode rc = api.easy_perform(c);
    if (body.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        return Unexpected("larger than " + std::to_string(limits.max_bytes) + " bytes");
    }
    if (rc != CURLE_OK) {
        return Unexpected(std::string(*error != '\0' ? error : api.easy_strerror(rc)));
    }
    long status = 0;
    api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (url.rfind("https:", 0) == 0 && status != 200) {
        return Unexpected("HTTP status " + std::to_string(status));
    }
    return std::move(body.data);
}

}  // namespace dcp::sources
