#include "sources/fetch.hpp"

#include <curl/curl.h>

#include <cstdlib>
#include <memory>

namespace dcp::sources {
namespace {

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

void init_fetching() {
    static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
    (void)done;
}

dcp::Result<std::string, std::string> fetch_url(const std::string& url, const FetchLimits& limits) {
    init_fetching();
    const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                                   &curl_easy_cleanup);
    if (!curl) return Unexpected(std::string("cannot start a transfer"));
    Body body;
    body.limit = limits.max_bytes;
    char error[CURL_ERROR_SIZE] = "";
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    // Only HTTPS and local files, redirects included: a list never comes in clear or from
    // elsewhere than the user said (its signature is checked anyway; this keeps it private).
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (const char* ca = std::getenv("SSL_CERT_FILE"); ca != nullptr && *ca != '\0') {
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    }
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(limits.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(limits.total_timeout.count()));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_bytes));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we have threads
    curl_easy_setopt(c, CURLOPT_USERAGENT, "dnscrypt-proxy");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    if (limits.cancel != nullptr) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, limits.cancel);
    }
    const CURLcode rc = curl_easy_perform(c);
    if (body.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        return Unexpected("larger than " + std::to_string(limits.max_bytes) + " bytes");
    }
    if (rc != CURLE_OK) {
        return Unexpected(std::string(*error != '\0' ? error : curl_easy_strerror(rc)));
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (url.rfind("https:", 0) == 0 && status != 200) {
        return Unexpected("HTTP status " + std::to_string(status));
    }
    return std::move(body.data);
}

}  // namespace dcp::sources
