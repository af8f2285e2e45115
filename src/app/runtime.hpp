#pragma once
// The running proxy: its workers (one event loop and thread each; worker 0 on the main
// thread, which also fetches certificates and takes signals), the wiring between them, the
// spill-over watcher, SIGUSR1's report and SIGHUP's reloads. The service (app/service.hpp)
// builds it once the settings are valid and hands it the process.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/load_watcher.hpp"
#include "app/worker.hpp"
#include "cache/cache.hpp"
#include "common/clock.hpp"
#include "common/noncopyable.hpp"
#include "config/config.hpp"
#include "crypto/x25519.hpp"
#include "net/asio.hpp"

namespace dcp::app {

class Runtime : NonCopyable {
  public:
    // Builds every worker, binds every socket (port 53 included) and reads the rule files:
    // std::runtime_error when a socket cannot be bound or the TLS libraries cannot be loaded,
    // config::ConfigError when a rule file cannot be read.
    Runtime(const config::Settings& settings, const crypto::KeyPair& keys);
    ~Runtime();

    // Every event loop, for fork() notifications.
    template <class F>
    void for_each_io(F&& f) {
        for (auto& w : workers_) f(w->io());
    }

    // Under --user's chroot, SIGHUP reads the rule files through their paths inside the jail
    // (found now, before the chroot, like the log file's); a file outside it cannot be read
    // again, which is said once here rather than at every SIGHUP.
    void rules_in_jail(const std::string& root);

    // Serves until SIGINT or SIGTERM; every worker's loop has ended when it returns.
    void run();

    std::function<void()> on_hangup;  // SIGHUP, besides the log file, certificates and rules

  private:
    Worker& main() { return *workers_[0]; }

    // Runs `each(worker, index)` on every worker's own thread (but `skip`'s), then `last()`
    // once, on the thread of the worker that ran `each` last. The one shape of "tell every
    // worker, act once all have heard": new sessions, SIGUSR1's report, rule reloads.
    template <class Each, class Last>
    void on_every_worker(Each each, Last last, const Worker* skip = nullptr);

    void log_banner();
    [[nodiscard]] std::string threading() const;
    void wire_server(const std::string& id);
    void wait_control_signal();
    void log_report();
    void reload_rules();
    void stop();

    SystemClock clock_;
    std::vector<std::string> server_ids_;  // upstream::ServerSpec::id of each server
    config::RulesConfig rules_config_;
    std::unique_ptr<cache::Cache> cache_;  // shared by every worker
    std::thread reload_thread_;            // SIGHUP's rule reading
    SharedLimits limits_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::optional<asio::signal_set> signals_;
    std::optional<asio::signal_set> control_signals_;
    std::optional<LoadWatcher> load_watcher_;  // no --threads: who reads (spill-over)
};

}  // namespace dcp::app
