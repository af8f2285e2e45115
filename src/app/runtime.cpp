#include "app/runtime.hpp"

#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "app/logging.hpp"
#include "app/process.hpp"
#include "app/report.hpp"
#include "app/rules_loader.hpp"
#include "net/endpoint.hpp"
#include "net/listen_share.hpp"
#include "tls/client.hpp"

namespace dcp::app {

template <class Each, class Last>
void Runtime::on_every_worker(Each each, Last last, const Worker* skip) {
    std::vector<std::pair<Worker*, std::size_t>> targets;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        if (workers_[i].get() != skip) targets.emplace_back(workers_[i].get(), i);
    }
    if (targets.empty()) {
        last();
        return;
    }
    auto remaining = std::make_shared<std::atomic<std::size_t>>(targets.size());
    auto shared_last = std::make_shared<Last>(std::move(last));
    for (const auto& [w, i] : targets) {
        asio::post(w->io(), [w = w, i = i, each, shared_last, remaining] {
            each(*w, i);
            if (remaining->fetch_sub(1) == 1) (*shared_last)();
        });
    }
}

Runtime::Runtime(const config::Settings& settings, const crypto::KeyPair& keys)
    : rules_config_(settings.rules) {
    // One trust store in memory for every DoH connection of every worker.
    std::shared_ptr<asio::ssl::context> tls;
    if (std::any_of(settings.servers.begin(), settings.servers.end(), upstream::needs_tls)) {
        tls = tls::make_client_context();
    }
    if (settings.cache) cache_ = std::make_unique<cache::Cache>(*settings.cache);
    for (const auto& server : settings.servers) server_ids_.push_back(server.id);
    for (unsigned i = 0; i < settings.threads; ++i) {
        workers_.push_back(std::make_unique<Worker>(settings, keys, clock_, limits_, i,
                                                    i == 0 ? nullptr : workers_[0].get(), tls,
                                                    cache_.get()));
    }
    // Read before serving: a rule file that cannot be read stops the start. Without any, the
    // built-in rules still apply (Firefox's canary).
    auto rules = rules_config_.any() ? app::load_rules(rules_config_)
                                     : std::make_shared<const rules::RuleSet>();
    for (auto& w : workers_) w->set_rules(rules);
    signals_.emplace(main().io(), SIGINT, SIGTERM);
    control_signals_.emplace(main().io(), SIGUSR1, SIGHUP);
    if (settings.spill_threads && workers_.size() > 1) {
        load_watcher_.emplace(main().io(), workers_.size(), [this](std::size_t i, bool on) {
            Worker& w = *workers_[i];
            asio::post(w.io(), [&w, on] { w.set_reading(on); });
        });
    }
}

Runtime::~Runtime() {
    if (reload_thread_.joinable()) reload_thread_.join();
}

void Runtime::run() {
    for (const auto& id : server_ids_) wire_server(id);
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        workers_[i]->start(i == 0, i == 0 || !load_watcher_);
    }
    if (load_watcher_) load_watcher_->start();
    log_banner();
    signals_->async_wait([this](const asio::error_code& ec, int sig) {
        if (ec) return;
        // Queries in flight are abandoned at once: the bound on shutdown time is zero.
        spdlog::info("signal {}: stopping", sig);
        stop();
    });
    wait_control_signal();
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers_.size(); ++i) {
        threads.emplace_back([w = workers_[i].get()] { w->run(); });
    }
    main().run();
    for (auto& t : threads) t.join();
    if (reload_thread_.joinable()) reload_thread_.join();
    // Every loop has ended: the counters can be read from here.
    Counters total;
    for (const auto& w : workers_) total += w->counters();
    spdlog::info("stopped; counters: {}", total.to_string());
}

void Runtime::rules_in_jail(const std::string& root) {
    auto& c = rules_config_;
    for (std::string* path : {&c.blocked_names, &c.allowed_names, &c.blocked_ips, &c.allowed_ips,
                              &c.cloaking, &c.forwarding, &c.captive_portals}) {
        if (path->empty()) continue;
        if (auto inside = app::path_in_jail(app::canonical_path(*path), root)) {
            *path = std::move(*inside);
        } else {
            spdlog::warn("{} is outside the chroot {}: SIGHUP cannot read it again", *path, root);
        }
    }
}

void Runtime::log_banner() {
    main().log_listening();
    const auto& servers = main().servers();
    const std::size_t n = workers_.size();
    const auto workers = fmt::format("{} worker thread{}{}", n, n == 1 ? "" : "s", threading());
    if (servers.size() == 1) {
        spdlog::info("{}; {}", servers.front()->describe(), workers);
        return;
    }
    // How the servers are reached, each way once ("UDP and TCP; DoH").
    std::vector<std::string> ways;
    for (const auto& server : servers) {
        auto way = server->way();
        if (std::find(ways.begin(), ways.end(), way) == ways.end()) ways.push_back(std::move(way));
    }
    const auto& b = main().balancer_settings();
    spdlog::info("{} resolvers, strategy {}{}, hedging {}, {}; {}", servers.size(),
                 upstream::to_string(b.strategy), b.estimator ? "" : " (no estimator)",
                 b.hedging ? "on" : "off", fmt::join(ways, "; "), workers);
}

std::string Runtime::threading() const {
    if (workers_.size() == 1) return "";
    if (load_watcher_) return " (one reading, the others when it is saturated)";
    return net::reuse_port_balances() ? " (SO_REUSEPORT)" : " (shared sockets)";
}

// What a server's transport in one worker learns (DNSCrypt: a new certificate session, a
// truncation lesson, the certificate round trip) reaches the same server's transport in every
// other worker, found by the server's id; then the lesson's `done` runs on the sender's thread
// (DNSCrypt's "using certificate" then means every worker can use it).
void Runtime::wire_server(const std::string& id) {
    if (workers_.size() == 1) return;  // nothing to share: a lesson's `done` runs at once
    for (auto& w : workers_) {
        w->server(id).on_share([this, id, from = w.get()](upstream::ServerTransport::Lesson l) {
            on_every_worker([id, apply = std::move(l.apply)](
                                Worker& peer, std::size_t) { apply(peer.server(id)); },
                            [from, done = std::move(l.done)] {
                                if (done) asio::post(from->io(), done);
                            },
                            from);
        });
    }
}

// SIGUSR1: the report to the log. SIGHUP: reopen the log file, fetch certificates now, read
// the rule files again, and whatever on_hangup adds (the resolver lists).
void Runtime::wait_control_signal() {
    control_signals_->async_wait([this](const asio::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGUSR1) {
            log_report();
        } else {
            const auto problem = app::reopen_log_file();
            if (problem) spdlog::warn("SIGHUP: {}", *problem);
            spdlog::info("SIGHUP: {}refreshing certificates",
                         app::has_log_file() && !problem ? "log file reopened, " : "");
            for (const auto& server : main().servers()) server->refresh_now();
            reload_rules();
            if (on_hangup) on_hangup();
        }
        wait_control_signal();
    });
}

// Each worker adds its own figures on its own thread; the last one logs the sum.
void Runtime::log_report() {
    struct Tally {
        explicit Tally(std::size_t workers) : report(workers) {}
        std::mutex mutex;
        Report report;
    };
    auto tally = std::make_shared<Tally>(workers_.size());
    on_every_worker(
        [tally](Worker& w, std::size_t i) {
            const std::lock_guard lock(tally->mutex);
            tally->report.add(i, w.counters(), w.server_report());
        },
        [tally] {
            // Asked for explicitly: shown even when --loglevel hides info lines.
            const auto logger = spdlog::default_logger();
            const auto level = std::max(spdlog::level::info, logger->level());
            if (level == spdlog::level::off) return;
            const std::lock_guard lock(tally->mutex);
            for (const auto& line : tally->report.lines()) logger->log(level, "{}", line);
        });
}

// SIGHUP: the rule files again, read on a thread of their own so that no worker stops
// answering meanwhile (a 200,000-line list takes ~0.1 s); then each worker swaps its rules
// between two events. A file that cannot be read now keeps the rules in use.
void Runtime::reload_rules() {
    if (!rules_config_.any()) return;
    if (reload_thread_.joinable()) reload_thread_.join();  // one reload at a time
    reload_thread_ = std::thread([this] {
        std::shared_ptr<const rules::RuleSet> rules;
        try {
            rules = app::load_rules(rules_config_);
        } catch (const std::exception& e) {
            spdlog::warn("SIGHUP: {}; the rules in use are kept", e.what());
            return;
        }
        // Said once the last worker has swapped: a test (or an operator) that sees the line
        // knows every query from then on meets the new rules.
        on_every_worker([rules](Worker& w, std::size_t) { w.set_rules(rules); },
                        [] { spdlog::info("SIGHUP: the new rules are in use by every worker"); });
    });
}

void Runtime::stop() {
    control_signals_->cancel();
    if (load_watcher_) load_watcher_->stop();
    for (auto& w : workers_) {
        asio::post(w->io(), [w = w.get()] { w->stop(); });
    }
}

}  // namespace dcp::app
