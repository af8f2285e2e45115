#pragma once
// "HTTPS and local files only, redirects to HTTPS only", told to libcurl in the way the loaded
// libcurl understands: the *_STR options from 7.85, the bitmasks before (an older libcurl
// answers CURLE_UNKNOWN_OPTION to the strings and would otherwise follow http:// and
// https-to-http redirects). Every answer is checked. A header of its own so that a test can
// hand it a libcurl that is older than the one installed.

#define CURL_DISABLE_TYPECHECK    // calls go through function pointers
#define CURL_DISABLE_DEPRECATION  // the bitmask options are the fallback, on purpose
#include <curl/curl.h>

#include <optional>
#include <string>

namespace dcp::sources {

// `set(option, value)` calls curl_easy_setopt on the transfer. Returns what could not be set.
template <typename SetOpt>
std::optional<std::string> restrict_protocols(SetOpt&& set) {
    const CURLcode by_name = set(CURLOPT_PROTOCOLS_STR, "https,file");
    if (by_name == CURLE_OK) {
        if (set(CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK) {
            return std::string("libcurl refused to limit redirects to HTTPS");
        }
        return std::nullopt;
    }
    if (by_name != CURLE_UNKNOWN_OPTION) {
        return std::string("libcurl refused to limit the protocols to HTTPS");
    }
    if (set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTPS | CURLPROTO_FILE)) != CURLE_OK ||
        set(CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTPS)) != CURLE_OK) {
        return std::string("libcurl refused to limit the protocols to HTTPS");
    }
    return std::nullopt;
}

}  // namespace dcp::sources
