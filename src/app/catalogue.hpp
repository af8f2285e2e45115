#pragma once
// The servers of a dnscrypt-proxy 2 configuration ([sources], [static], server_names and the
// filters) at run time: at start the servers are chosen from local copies only (the verified
// cache or the embedded list; a source with nothing local is downloaded first, since nothing
// else could be served); while the proxy serves, a background thread keeps the caches fresh.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common/noncopyable.hpp"
#include "config/config.hpp"

namespace dcp::app {

struct LoadedSource {
    sources::SourceConfig config;
    std::optional<sources::SourceState> state;
};

// Loads every source (logging where each came from), selects the servers and adds every
// DNSCrypt one to settings.servers (server_names' order when given), logging which. Throws
// ConfigError when no DNSCrypt server can be used.
std::vector<LoadedSource> choose_catalogue_servers(config::Settings& settings);

// The selection of every server the settings' catalogue knows, from local copies (for --list).
sources::Selection catalogue_selection(const config::CatalogueSettings& catalogue);

// Refreshes each source with URLs when it is due: at once when it started from a stale or
// non-cache copy, then every refresh_delay; after a failure, again after a back-off (1 minute,
// doubling, at most refresh_delay). refresh_now() (SIGHUP) makes every source due.
class SourceRefresher : NonCopyable {
  public:
    // Loads the download library when a list has URLs to refresh from: make it before a chroot.
    explicit SourceRefresher(std::vector<LoadedSource> sources);
    ~SourceRefresher();

    void start();
    void refresh_now();
    void stop();

  private:
    void run();

    struct Due {
        LoadedSource source;
        std::chrono::steady_clock::time_point at;
        std::chrono::seconds backoff{60};
    };
    std::vector<Due> due_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::atomic<bool> cancel_{false};  // aborts a download in progress at stop()
    bool now_ = false;
    std::thread thread_;
};

}  // namespace dcp::app
