#include "app/runtime.hpp"

#include <spdlog/spdlog.h>

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
    if (!settings.doh_servers.empty()) tls = upstream::make_doh_tls_context();
    if (settings.cache) cache_ = std::make_unique<cache::Cache>(*settings.cache);
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
    for (std::size_t r = 0; r < main().dnscrypt_count(); ++r) wire_server(r);
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
    const std::size_t servers = main().dnscrypt_count();
    const std::size_t doh = main().doh_count();
    std::string transport = "DoH";
    if (servers > 0) {
        const auto& rc = main().dnscrypt(0).config();
        transport = rc.tcp_only ? "TCP only, port " + std::to_string(rc.tcp_port)
                                : std::string("UDP and TCP");
        if (doh > 0) transport += "; DoH";
    }
    const std::size_t n = workers_.size();
    if (servers == 1 && doh == 0) {
        const auto& rc = main().dnscrypt(0).config();
        spdlog::info("resolver {} ({}), {}; {} worker thread{}{}", rc.provider_name_text,
                     net::to_string(rc.udp_endpoint()), transport, n, n == 1 ? "" : "s",
                     threading());
    } else if (servers == 0 && doh == 1) {
        const auto& dc = main().doh_config(0);
        spdlog::info("DoH resolver {} ({}); {} worker thread{}{}", dc.name, dc.url(), n,
                     n == 1 ? "" : "s", threading());
    } else {
        const auto& b = main().balancer_settings();
        spdlog::info("{} resolvers, strategy {}{}, hedging {}, {}; {} worker thread{}{}",
                     servers + doh, upstream::to_string(b.strategy),
                     b.estimator ? "" : " (no estimator)", b.hedging ? "on" : "off", transport, n,
                     n == 1 ? "" : "s", threading());
    }
}

std::string Runtime::threading() const {
    if (workers_.size() == 1) return "";
    if (load_watcher_) return " (one reading, the others when it is saturated)";
    return net::reuse_port_balances() ? " (SO_REUSEPORT)" : " (shared sockets)";
}

// DNSCrypt server `r`: worker 0 fetches its certificates; every other worker adopts each new
// session on its own thread, and once the last has, worker 0 announces it ("using certificate"
// then means every worker can use it). Certificate round trips seed every worker's latency
// estimate; truncation lessons are shared.
void Runtime::wire_server(std::size_t r) {
    main().dnscrypt(r).on_new_session([this, r](std::shared_ptr<const dnscrypt::Session> session) {
        auto announce = [this, r, session] { main().dnscrypt(r).announce(*session); };
        if (workers_.size() == 1) {
            announce();
            return;
        }
        on_every_worker([r, session](Worker& w, std::size_t) { w.dnscrypt(r).adopt(session); },
                        [this, announce] { asio::post(main().io(), announce); }, &main());
    });
    main().dnscrypt(r).on_certificate_rtt([this, r](std::chrono::microseconds rtt) {
        main().seed_dnscrypt_latency(r, rtt);
        on_every_worker([r, rtt](Worker& w, std::size_t) { w.seed_dnscrypt_latency(r, rtt); },
                        [] {}, &main());
    });
    for (auto& from : workers_) {
        from->dnscrypt(r).on_truncation([this, r, from = from.get()](std::size_t padded,
                                                                     std::size_t answer,
                                                                     std::uint16_t payload) {
            on_every_worker(
                [r, padded, answer, payload](Worker& w, std::size_t) {
                    w.dnscrypt(r).learn_truncation(padded, answer, payload);
                },
                [] {}, from);
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
            for (std::size_t r = 0; r < main().dnscrypt_count(); ++r) {
                main().dnscrypt(r).refresh_now();
            }
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
