#pragma once
// One resolver-list source as dnscrypt-proxy 2 configures it ([sources.NAME]: urls, cache_file,
// minisign_key, refresh_delay, prefix) and how it is kept: at start-up only local copies are
// read (the cache, or the copy compiled into the binary for the official lists), never the
// network; refresh() downloads, verifies and replaces the cache atomically, and a download that
// fails or does not verify never replaces a good cache.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "sources/fetch.hpp"
#include "sources/list.hpp"

namespace dcp::sources {

struct SourceConfig {
    std::string name;
    std::vector<std::string> urls;  // mirrors, tried in turn; the signature is URL + ".minisig"
    std::string cache_file;         // its signature: cache_file + ".minisig"
    std::string minisign_key;       // base64, as in dnscrypt-proxy 2's configuration
    std::chrono::hours refresh_delay{72};
    std::string prefix;  // prepended to every server name
    FetchLimits limits;
};

struct SourceState {
    ParsedList list;
    std::string origin;           // for the log: "cache FILE", "embedded copy", "URL"
    std::string trusted_comment;  // of the signature that verified
    std::optional<std::chrono::system_clock::time_point> cached_at;  // the cache's mtime
    bool stale = true;  // older than refresh_delay, or not from the cache: refresh wanted
};

// The verified local copy to start with: the cache (fresh or stale), or, for an official list
// signed with the official key, the embedded copy when it is newer than the cache or there is
// no usable cache. Never touches the network. The error says why nothing could be used.
[[nodiscard]] dcp::Result<SourceState, std::string> load_at_start(
    const SourceConfig& config, std::chrono::system_clock::time_point now);

// Downloads the list and its signature from each URL in turn until one verifies, then writes
// both to the cache (temporary files renamed over the old ones). The error lists every URL's
// failure. Blocking: run it off the event loop.
[[nodiscard]] dcp::Result<SourceState, std::string> refresh(const SourceConfig& config);

// Which embedded list a source is, if any: the official key and a list file named
// public-resolvers.md or relays.md in its URLs or cache file.
[[nodiscard]] std::optional<std::string> embedded_name_for(const SourceConfig& config);

}  // namespace dcp::sources
