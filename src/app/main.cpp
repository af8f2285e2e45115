// dnscrypt-proxy: command line, wiring, process set-up. Everything else lives in the libraries.

#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/catalogue.hpp"
#include "app/cert_test.hpp"
#include "app/logging.hpp"
#include "app/process.hpp"
#include "app/rules_loader.hpp"
#include "app/server_list.hpp"
#include "app/stamp_tool.hpp"
#include "cache/cache.hpp"
#include "common/clock.hpp"
#include "common/counters.hpp"
#include "config/config.hpp"
#include "config/config_file.hpp"
#include "crypto/sodium.hpp"
#include "frontend/tcp_listener.hpp"
#include "frontend/udp_listener.hpp"
#include "net/endpoint.hpp"
#include "net/listen_share.hpp"
#include "net/spill_control.hpp"
#include "proxy/query_processor.hpp"
#include "upstream/doh_transport.hpp"
#include "upstream/lazy_tls.hpp"
#include "upstream/plain_transport.hpp"
#include "upstream/pool.hpp"
#include "upstream/resolver.hpp"

#ifndef DCP_VERSION
#define DCP_VERSION "0.0.0"
#endif

namespace {

using namespace dcp;

constexpr int kExitUsage = 2;
constexpr int kExitStartup = 1;

void add_options(CLI::App& app, config::Options& o, std::string& config_file) {
    app.add_option("-c,--config", config_file,
                   "TOML file whose keys are these switches' long names; switches override it")
        ->type_name("FILE");
    app.add_option("-a,--local-address", o.local_addresses,
                   "Address to listen on, ip[:port] or [ipv6]:port (default 127.0.0.1:53); "
                   "repeat for several")
        ->type_name("ADDR");
    app.add_option("--local-port", o.local_port, "Port to listen on, for every local address")
        ->type_name("PORT");
    app.add_option("-r,--resolver-address", o.resolver_address,
                   "DNSCrypt resolver, ip[:port] (port 443 by default)")
        ->type_name("ADDR");
    app.add_option("-N,--provider-name", o.provider_name,
                   "Provider name of the resolver, e.g. 2.dnscrypt-cert.example.com")
        ->type_name("FQDN");
    app.add_option("--resolver", o.resolver_stamps,
                   "A resolver as a DNS stamp (sdns://...), instead of -r, -N and -k; "
                   "repeatable: every DNSCrypt stamp is used")
        ->type_name("STAMP");
    app.add_option("--lb-strategy", o.lb_strategy,
                   "With several resolvers: wp2 (default), p2, ph, p<n>, first or random, as "
                   "dnscrypt-proxy 2's lb_strategy")
        ->type_name("STRATEGY");
    app.add_flag("--no-hedging", o.no_hedging,
                 "With several resolvers: never ask a second one while the first is slow "
                 "(failover after a failure or a long silence still happens)");
    app.add_option("-k,--provider-key", o.provider_key,
                   "Provider public key: 64 hex digits, or the XXXX:XXXX:... form")
        ->type_name("KEY");
    app.add_flag("-T,--tcp-only", o.tcp_only,
                 "Talk to the resolver over TCP only; UDP clients are told to retry over TCP");
    app.add_option("--tcp-port", o.tcp_port, "Resolver TCP port; implies --tcp-only")
        ->type_name("PORT");
    app.add_option("-e,--edns-payload-size", o.edns_payload_size,
                   "UDP payload size advertised to the resolver when the client sent no EDNS "
                   "(default 1280, at most 4096; 512 or less: add none)")
        ->type_name("BYTES");
    app.add_option("--timeout", o.timeout_ms,
                   "Milliseconds to wait for the resolver before answering SERVFAIL "
                   "(default 3000)")
        ->type_name("MS");
    app.add_option("--cert-refresh", o.cert_refresh_s,
                   "Seconds between certificate checks (default 3600; also before expiry)")
        ->type_name("SECONDS");
    app.add_flag("-E,--ephemeral-keys", o.ephemeral_keys,
                 "Use a new client key pair for every query (costs one key exchange each)");
    app.add_option("-K,--client-key", o.client_key_file,
                   "File holding a fixed client secret key (64 hex digits)")
        ->type_name("FILE");
    app.add_option("--max-tcp-connections", o.max_tcp_connections,
                   "Client TCP connections open at once (default 256)")
        ->type_name("COUNT");
    app.add_option("--tcp-idle-timeout", o.tcp_idle_timeout_ms,
                   "Milliseconds before an idle client TCP connection is closed (default 10000)")
        ->type_name("MS");
    app.add_option("-n,--max-active-requests", o.max_active_requests,
                   "Queries waiting for the resolver at once; beyond, SERVFAIL at once "
                   "(default 250)")
        ->type_name("COUNT");
    app.add_option("--threads", o.threads,
                   "Worker threads, each with its own sockets (default: one per core)")
        ->type_name("N");
    app.add_flag(
        "--no-cache", [&o](std::int64_t) { o.local.cache = false; },
        "Send every query to the resolvers (by default answers are cached)");
    app.add_option("--cache-size", o.local.cache_size, "Answers kept in the cache (default 4096)")
        ->type_name("COUNT");
    app.add_option("--cache-min-ttl", o.local.cache_min_ttl,
                   "Shortest time an answer is kept, raising lower TTLs (default 60)")
        ->type_name("SECONDS");
    app.add_option("--cache-max-ttl", o.local.cache_max_ttl,
                   "Longest time an answer is kept (default 86400)")
        ->type_name("SECONDS");
    app.add_option("--cache-neg-min-ttl", o.local.cache_neg_min_ttl,
                   "Shortest time a negative answer is kept (default 60)")
        ->type_name("SECONDS");
    app.add_option("--cache-neg-max-ttl", o.local.cache_neg_max_ttl,
                   "Longest time a negative answer is kept (default 600)")
        ->type_name("SECONDS");
    app.add_option("--cache-serve-stale", o.local.cache_serve_stale,
                   "Keep expired answers this long and give one (TTL 30) when the resolvers "
                   "fail, RFC 8767 (default 0: off)")
        ->type_name("SECONDS");
    app.add_flag(
        "--no-cache-prefetch", [&o](std::int64_t) { o.local.cache_prefetch = false; },
        "Do not refresh popular cache entries before they expire");
    app.add_option("--blocked-names", o.local.blocked_names_file,
                   "Block names matching the patterns in FILE (dnscrypt-proxy 2's format)")
        ->type_name("FILE");
    app.add_option("--allowed-names", o.local.allowed_names_file,
                   "Never block names matching the patterns in FILE")
        ->type_name("FILE");
    app.add_option("--blocked-ips", o.local.blocked_ips_file,
                   "Block answers carrying an address listed in FILE")
        ->type_name("FILE");
    app.add_option("--allowed-ips", o.local.allowed_ips_file,
                   "Never block answers carrying an address listed in FILE")
        ->type_name("FILE");
    app.add_option("--cloaking-rules", o.local.cloaking_rules,
                   "Answer names from FILE's rules (addresses, or another name's)")
        ->type_name("FILE");
    app.add_option("--forwarding-rules", o.local.forwarding_rules,
                   "Send the domains in FILE to the plain DNS servers it names")
        ->type_name("FILE");
    app.add_option("--captive-portals", o.local.captive_portals_file,
                   "Answer the connectivity-check names in FILE with its addresses")
        ->type_name("FILE");
    app.add_flag("--block-ipv6", o.local.block_ipv6, "Answer AAAA queries here, with no address");
    app.add_flag("--block-unqualified", o.local.block_unqualified,
                 "Answer NXDOMAIN to A and AAAA queries for names without a dot");
    app.add_flag("--block-undelegated", o.local.block_undelegated,
                 "Answer NXDOMAIN for private and local zones no public resolver knows");
    app.add_option("--blocked-query-response", o.local.blocked_query_response,
                   "refused, hinfo (default) or a:<IPv4>,aaaa:<IPv6>")
        ->type_name("RESPONSE");
    app.add_option("--reject-ttl", o.local.reject_ttl, "TTL of blocked answers (default 600)")
        ->type_name("SECONDS");
    app.add_option("--cloak-ttl", o.local.cloak_ttl, "TTL of cloaked answers (default 600)")
        ->type_name("SECONDS");
    app.add_flag("--cloak-ptr", o.local.cloak_ptr,
                 "Answer PTR queries for the addresses of cloaking rules without wildcards");
    app.add_flag("-d,--daemonize", o.daemonize, "Run in the background");
    app.add_option("-p,--pid-file,--pidfile", o.pid_file, "Write the process id to FILE")
        ->type_name("FILE");
    app.add_option("-l,--logfile", o.logfile, "Log to FILE (reopened on SIGHUP)")
        ->type_name("FILE");
    app.add_flag("-S,--syslog", o.syslog, "Log to syslog");
    app.add_option("-m,--loglevel", o.loglevel,
                   "trace, debug, info, warning, error, critical, off, or a syslog number 0-7 "
                   "(default info)")
        ->type_name("LEVEL");
    app.add_option("-u,--user", o.user,
                   "After binding, chroot to USER's home directory and run as USER")
        ->type_name("USER");
    app.add_option("-t,--test", o.test_minutes,
                   "Fetch and print the certificate; exit 0 if it stays valid this many minutes")
        ->type_name("MINUTES");
}

// The --config value, found before the real parse so the file can be read first and the
// command line can then override it.
std::optional<std::string> find_config_file(int argc, char** argv) {
    std::optional<std::string> found;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
            found = argv[++i];
        } else if (arg.rfind("--config=", 0) == 0) {
            found = arg.substr(std::strlen("--config="));
        }
    }
    return found;
}

crypto::KeyPair copy_of(const crypto::KeyPair& keys) {
    return crypto::KeyPair::from_secret(keys.secret_key.view()).value();  // valid: it is ours
}

// Limits that hold for the whole process, whichever worker a query or connection lands on.
struct SharedLimits {
    std::atomic<std::size_t> active_queries{0};
    std::atomic<std::size_t> tcp_connections{0};
};

constexpr std::size_t kPreconnectedDohServers = 16;

// One event loop and everything it drives: its listeners (SO_REUSEPORT or shared descriptors,
// see net::listen_share), its upstream sockets and pending-query table, its counters. Workers
// share nothing on the query path but immutable certificate sessions and two atomic limits.
class Worker {
  public:
    Worker(const config::Settings& settings, const crypto::KeyPair& keys, const Clock& clock,
           SharedLimits& limits, unsigned index, Worker* first,
           const std::shared_ptr<asio::ssl::context>& tls, cache::Cache* cache)
        : balancer_settings(settings.balancer),
          timeout(settings.resolver.timeout),
          pool(io, make_members(settings, keys, clock, tls), settings.balancer, counters),
          processor(io, pool, settings.processor, counters, limits.active_queries, cache) {
        const auto count = static_cast<unsigned>(settings.threads);
        // Spill-over: the standby workers share the first one's sockets (a SO_REUSEPORT group
        // would hand them their share of the datagrams whether they read or not).
        auto share_of = [&](int first_descriptor) {
            if (!settings.spill_threads || !first) {
                return net::listen_share(index, count, first_descriptor);
            }
            net::ListenShare share;
            share.duplicate_of = first_descriptor;
            return share;
        };
        for (std::size_t i = 0; i < settings.listen.size(); ++i) {
            const auto& ep = settings.listen[i];
            bind(ep, "UDP", [&] {
                const auto share = share_of(first ? first->udp[i]->native_handle() : -1);
                udp.push_back(
                    std::make_unique<frontend::UdpListener>(io, ep, processor, counters, share));
            });
            const asio::ip::tcp::endpoint tcp_ep(ep.address(), ep.port());
            bind(ep, "TCP", [&] {
                const auto share = share_of(first ? first->tcp[i]->native_handle() : -1);
                tcp.push_back(std::make_unique<frontend::TcpListener>(
                    io, tcp_ep, processor, counters, settings.tcp, limits.tcp_connections, share));
            });
        }
    }

    // `reading` false: a standby worker (spill-over), its listeners ready but idle.
    void start(bool fetch_certificates, bool reading) {
        for (auto& r : resolvers) r->start(fetch_certificates);
        // A connection to each DoH server now, so that the first queries do not wait for a
        // handshake; with many (a resolver list without server_names selects dozens), each
        // connects when first chosen instead: idle connections to servers never asked cost
        // memory, and servers close them anyway.
        if (doh.size() <= kPreconnectedDohServers) {
            for (auto& d : doh) d->start();
        }
        for (auto& l : udp) l->start(reading);
        for (auto& l : tcp) l->start(reading);
    }

    // On the worker's own thread: a standby worker starts or stops reading the shared sockets.
    void set_reading(bool on) {
        for (auto& l : udp) l->set_reading(on);
        for (auto& l : tcp) l->set_accepting(on);
    }

    // New rules, on the worker's own thread (or before it runs). Each forwarding rule's
    // servers become a pool of plain DNS transports; pools are kept for the life of the
    // process (a reload naming the same servers finds them again; queries in flight on a
    // rule that went away still have theirs).
    void set_rules(const std::shared_ptr<const rules::RuleSet>& rules) {
        std::vector<upstream::Upstream*> forwarders;
        if (rules && rules->forwarding) {
            for (const auto& rule : rules->forwarding->rules) {
                forwarders.push_back(&forward_pool(rule.servers));
            }
        }
        processor.set_rules(rules, std::move(forwarders));
    }

    // On the worker's own thread: closes its sockets and ends its loop.
    void stop() {
        pool.stop();
        for (auto& [key, p] : forward_pools) p->stop();
        for (auto& t : plain) t->stop();
        for (auto& r : resolvers) r->stop();
        for (auto& d : doh) d->stop();
        for (auto& l : udp) l->stop();
        for (auto& l : tcp) l->stop();
        keep_running.reset();
        io.stop();
    }

    // One thread runs this loop, and only it touches the worker's sockets and timers (other
    // threads post to it): the reactor's per-descriptor locking is left out, the scheduler's
    // kept for those posts. ~600 instructions per query of mutex calls (bench/README.md).
    asio::io_context io{ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    // A standby worker may have nothing pending (no socket read, TCP-only upstream): its loop
    // must still run, for the sessions and the reading turns posted to it.
    asio::executor_work_guard<asio::io_context::executor_type> keep_running{io.get_executor()};
    Counters counters;
    upstream::BalancerSettings balancer_settings;
    std::chrono::milliseconds timeout;
    std::vector<std::unique_ptr<upstream::PlainTransport>> plain;  // forwarding rules' servers
    std::map<std::string, std::unique_ptr<upstream::Pool>> forward_pools;
    std::vector<std::unique_ptr<upstream::Resolver>> resolvers;  // one per DNSCrypt server
    std::vector<std::unique_ptr<upstream::DohTransport>> doh;    // one per DoH server
    upstream::Pool pool;  // members: the DNSCrypt servers, then the DoH servers
    proxy::QueryProcessor processor;
    std::vector<std::unique_ptr<frontend::UdpListener>> udp;
    std::vector<std::unique_ptr<frontend::TcpListener>> tcp;

  private:
    upstream::Pool& forward_pool(const std::vector<rules::ForwardServer>& servers) {
        std::string key;
        for (const auto& server : servers) {
            key += server.host + "#" + std::to_string(server.port) + ",";
        }
        auto& slot = forward_pools[key];
        if (!slot) {
            std::vector<upstream::PoolMember> members;
            for (const auto& server : servers) {
                const asio::ip::udp::endpoint ep(asio::ip::make_address(server.host), server.port);
                plain.push_back(
                    std::make_unique<upstream::PlainTransport>(io, ep, timeout, counters));
                members.push_back({plain.back().get(), net::to_string(ep)});
            }
            slot = std::make_unique<upstream::Pool>(io, std::move(members), balancer_settings,
                                                    counters);
        }
        return *slot;
    }

    std::vector<upstream::PoolMember> make_members(const config::Settings& settings,
                                                   const crypto::KeyPair& keys, const Clock& clock,
                                                   const std::shared_ptr<asio::ssl::context>& tls) {
        // Long-lived UDP sockets per server: four for one server, fewer when there are many.
        const std::size_t n = settings.servers.size();
        const std::size_t sockets = n <= 1 ? 4 : n <= 4 ? 2 : 1;
        std::vector<upstream::PoolMember> members;
        for (const auto& server : settings.servers) {
            auto config = server;
            config.udp_sockets = std::min(config.udp_sockets, sockets);
            resolvers.push_back(std::make_unique<upstream::Resolver>(
                io, std::move(config), copy_of(keys), counters, clock));
            members.push_back({resolvers.back().get(), server.name});
        }
        for (const auto& server : settings.doh_servers) {
            doh.push_back(std::make_unique<upstream::DohTransport>(io, server, tls, counters));
            members.push_back({doh.back().get(), server.name});
        }
        return members;
    }

    template <class F>
    static void bind(const asio::ip::udp::endpoint& ep, const char* what, F&& make) {
        try {
            make();
        } catch (const asio::system_error& e) {
            std::string hint;
            if (e.code() == asio::error::address_in_use) {
                hint =
                    ": another DNS server (systemd-resolved, dnsmasq, unbound, another proxy) "
                    "already listens there; stop it or choose --local-address";
            } else if (e.code() == asio::error::access_denied) {
                hint = ": ports below 1024 need root or CAP_NET_BIND_SERVICE";
            } else if (e.code() == std::errc::address_not_available) {
                hint = ": no interface has this address";
            }
            throw config::ConfigError("cannot listen on " + net::to_string(ep) + " (" + what +
                                      "): " + e.code().message() + hint);
        }
    }
};

// Owns the workers. Worker 0 runs on the main thread, handles signals and fetches the
// certificates; every new session it makes is posted to the other workers.
class Proxy {
  public:
    Proxy(const config::Settings& settings, const crypto::KeyPair& keys)
        : rules_config_(settings.rules) {
        // One trust store in memory for every DoH connection of every worker.
        std::shared_ptr<asio::ssl::context> tls;
        if (!settings.doh_servers.empty()) {
            // Now, before a chroot hides the libraries (lazy_tls.hpp).
            if (auto loaded = upstream::load_tls_libraries(); !loaded) {
                throw config::ConfigError("DoH servers need OpenSSL and nghttp2: " +
                                          loaded.error());
            }
            tls = upstream::make_doh_tls_context();
        }
        if (settings.cache) cache_ = std::make_unique<cache::Cache>(*settings.cache);
        for (unsigned i = 0; i < settings.threads; ++i) {
            workers_.push_back(std::make_unique<Worker>(settings, keys, clock_, limits_, i,
                                                        i == 0 ? nullptr : workers_[0].get(), tls,
                                                        cache_.get()));
        }
        // Read before serving: a rule file that cannot be read stops the start. Without any,
        // the built-in rules still apply (Firefox's canary).
        {
            auto rules = rules_config_.any() ? app::load_rules(rules_config_)
                                             : std::make_shared<const rules::RuleSet>();
            for (auto& w : workers_) w->set_rules(rules);
        }
        signals_.emplace(main().io, SIGINT, SIGTERM);
        control_signals_.emplace(main().io, SIGUSR1, SIGHUP);
        if (settings.spill_threads && workers_.size() > 1) spill_.emplace(workers_.size());
    }

    // Every event loop, for fork() notifications.
    template <class F>
    void for_each_io(F&& f) {
        for (auto& w : workers_) f(w->io);
    }

    void run() {
        const std::size_t servers = main().resolvers.size();
        for (std::size_t r = 0; r < servers; ++r) wire_server(r);
        // A DoH server's first latency estimate: each worker's own connection set-up time.
        for (auto& w : workers_) {
            for (std::size_t d = 0; d < w->doh.size(); ++d) {
                // Connect and TLS handshake: two round trips; a query takes one.
                w->doh[d]->on_connected(
                    [w = w.get(), i = servers + d](std::chrono::microseconds t) {
                        w->pool.seed(i, t / 2);
                    });
            }
        }
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            workers_[i]->start(i == 0, i == 0 || !spill_);
        }
        watch_load();
        for (auto& l : main().udp) {
            spdlog::info("listening on {} (UDP)", net::to_string(l->local_endpoint()));
        }
        for (auto& l : main().tcp) {
            spdlog::info("listening on {} (TCP)", net::to_string(l->local_endpoint()));
        }
        const std::size_t doh = main().doh.size();
        std::string transport = "DoH";
        if (servers > 0) {
            const auto& rc = main().resolvers.front()->config();
            transport = rc.tcp_only ? "TCP only, port " + std::to_string(rc.tcp_port)
                                    : std::string("UDP and TCP");
            if (doh > 0) transport += "; DoH";
        }
        if (servers == 1 && doh == 0) {
            const auto& rc = main().resolvers.front()->config();
            spdlog::info("resolver {} ({}), {}; {} worker thread{}{}", rc.provider_name_text,
                         net::to_string(rc.udp_endpoint()), transport, workers_.size(),
                         workers_.size() == 1 ? "" : "s", threading());
        } else if (servers == 0 && doh == 1) {
            const auto& dc = main().doh.front()->config();
            spdlog::info("DoH resolver {} ({}); {} worker thread{}{}", dc.name, dc.url(),
                         workers_.size(), workers_.size() == 1 ? "" : "s", threading());
        } else {
            const auto& b = main().pool.balancer().settings();
            spdlog::info("{} resolvers, strategy {}{}, hedging {}, {}; {} worker thread{}{}",
                         servers + doh, upstream::to_string(b.strategy),
                         b.estimator ? "" : " (no estimator)", b.hedging ? "on" : "off", transport,
                         workers_.size(), workers_.size() == 1 ? "" : "s", threading());
        }
        signals_->async_wait([this](const asio::error_code& ec, int sig) {
            if (ec) return;
            // Queries in flight are abandoned at once: the bound on shutdown time is zero.
            spdlog::info("signal {}: stopping", sig);
            stop();
        });
        wait_control_signal();
        std::vector<std::thread> threads;
        for (std::size_t i = 1; i < workers_.size(); ++i) {
            threads.emplace_back([w = workers_[i].get()] { run_loop(*w); });
        }
        run_loop(main());
        for (auto& t : threads) t.join();
        if (reload_thread_.joinable()) reload_thread_.join();
        // Every loop has ended: the counters can be read from here.
        spdlog::info("stopped; counters: {}", total_counters().to_string());
    }

    // Under --user's chroot, SIGHUP reads the rule files through their paths inside the jail
    // (found now, before the chroot, like the log file's); a file outside it cannot be read
    // again, which is said once here rather than at every SIGHUP.
    void rules_in_jail(const std::string& root) {
        auto& c = rules_config_;
        for (std::string* path : {&c.blocked_names, &c.allowed_names, &c.blocked_ips,
                                  &c.allowed_ips, &c.cloaking, &c.forwarding, &c.captive_portals}) {
            if (path->empty()) continue;
            if (auto inside = app::path_in_jail(app::canonical_path(*path), root)) {
                *path = std::move(*inside);
            } else {
                spdlog::warn("{} is outside the chroot {}: SIGHUP cannot read it again", *path,
                             root);
            }
        }
    }

  private:
    Worker& main() { return *workers_[0]; }

    [[nodiscard]] std::string threading() const {
        if (workers_.size() == 1) return "";
        if (spill_) return " (one reading, the others when it is saturated)";
        return net::reuse_port_balances() ? " (SO_REUSEPORT)" : " (shared sockets)";
    }

    // Spill-over (no --threads): every 100 ms, the process's CPU time says whether the workers
    // reading are saturated (one more reads) or have long had room to spare (one fewer).
    static constexpr auto kLoadInterval = std::chrono::milliseconds(100);

    static std::chrono::microseconds process_cpu_time() {
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        return std::chrono::seconds(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
               std::chrono::microseconds(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
    }

    void watch_load() {
        if (!spill_) return;
        load_timer_.emplace(main().io);
        last_cpu_ = process_cpu_time();
        last_tick_ = std::chrono::steady_clock::now();
        next_load_tick();
    }

    void next_load_tick() {
        load_timer_->expires_after(kLoadInterval);
        load_timer_->async_wait([this](const asio::error_code& ec) {
            if (ec) return;
            const auto cpu = process_cpu_time();
            const auto now = std::chrono::steady_clock::now();
            const double busy = std::chrono::duration<double>(cpu - last_cpu_).count() /
                                std::chrono::duration<double>(now - last_tick_).count();
            last_cpu_ = cpu;
            last_tick_ = now;
            const std::size_t before = spill_->reading();
            const std::size_t after = spill_->update(busy);
            if (after != before) {
                spdlog::debug("load {:.2f} cores: {} of {} workers reading", busy, after,
                              workers_.size());
                Worker& w = *workers_[std::max(before, after) - 1];
                asio::post(w.io, [&w, on = after > before] { w.set_reading(on); });
            }
            next_load_tick();
        });
    }

    // Server `r`: worker 0 fetches its certificates; every other worker adopts each new session
    // on its own thread, and once the last has, worker 0 announces it ("using certificate"
    // then means every worker can use it). Certificate round trips seed every worker's latency
    // estimate; truncation lessons are shared.
    void wire_server(std::size_t r) {
        auto& first = *main().resolvers[r];
        first.on_new_session([this, r](std::shared_ptr<const dnscrypt::Session> session) {
            auto remaining = std::make_shared<std::atomic<std::size_t>>(workers_.size() - 1);
            if (*remaining == 0) {
                main().resolvers[r]->announce(*session);
                return;
            }
            for (std::size_t i = 1; i < workers_.size(); ++i) {
                Worker* w = workers_[i].get();
                asio::post(w->io, [this, w, r, session, remaining] {
                    w->resolvers[r]->adopt(session);
                    if (remaining->fetch_sub(1) != 1) return;
                    asio::post(main().io,
                               [this, r, session] { main().resolvers[r]->announce(*session); });
                });
            }
        });
        first.on_certificate_rtt([this, r](std::chrono::microseconds rtt) {
            main().pool.seed(r, rtt);
            for (std::size_t i = 1; i < workers_.size(); ++i) {
                Worker* w = workers_[i].get();
                asio::post(w->io, [w, r, rtt] { w->pool.seed(r, rtt); });
            }
        });
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            workers_[i]->resolvers[r]->on_truncation(
                [this, i, r](std::size_t padded, std::size_t answer, std::uint16_t payload) {
                    for (std::size_t k = 0; k < workers_.size(); ++k) {
                        if (k == i) continue;
                        Worker* w = workers_[k].get();
                        asio::post(w->io, [w, r, padded, answer, payload] {
                            w->resolvers[r]->learn_truncation(padded, answer, payload);
                        });
                    }
                });
        }
    }

    static void run_loop(Worker& w) {
        try {
            w.io.run();
        } catch (const std::exception& e) {
            // Handlers catch what they can; anything else ends the process cleanly.
            spdlog::critical("worker stopped by an internal error: {}", e.what());
            std::raise(SIGTERM);
            w.io.run();
        }
    }

    [[nodiscard]] Counters total_counters() const {
        Counters total;
        for (const auto& w : workers_) total += w->counters;
        return total;
    }

    // SIGUSR1: counters to the log. SIGHUP: reopen the log file and fetch certificates now.
    void wait_control_signal() {
        control_signals_->async_wait([this](const asio::error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGUSR1) {
                log_counters();
            } else {
                const auto problem = app::reopen_log_file();
                if (problem) spdlog::warn("SIGHUP: {}", *problem);
                spdlog::info("SIGHUP: {}refreshing certificates",
                             app::has_log_file() && !problem ? "log file reopened, " : "");
                for (auto& r : main().resolvers) r->refresh_now();
                reload_rules();
                if (on_hangup) on_hangup();
            }
            wait_control_signal();
        });
    }

    // Each worker adds its own counters on its own thread; the last one logs the sum.
    void log_counters() {
        struct Tally {
            std::mutex mutex;
            Counters sum;
            std::vector<upstream::ServerReport> servers;
            // Queries received, by worker (--threads is at most 64; a fixed array also spares
            // GCC 12 -O3 a false null-dereference warning on a vector's resize here).
            std::array<std::uint64_t, 64> per_worker{};
            std::size_t remaining;
            std::size_t workers;
        };
        auto tally = std::make_shared<Tally>();
        tally->remaining = workers_.size();
        tally->workers = workers_.size();
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            asio::post(workers_[i]->io, [tally, w = workers_[i].get(), i] {
                const std::lock_guard lock(tally->mutex);
                tally->sum += w->counters;
                if (i < tally->per_worker.size()) {
                    tally->per_worker[i] = w->counters.queries_udp + w->counters.queries_tcp;
                }
                auto mine = w->pool.report();
                if (tally->servers.empty()) {
                    tally->servers = std::move(mine);
                } else {
                    for (std::size_t s = 0; s < mine.size(); ++s) tally->servers[s] += mine[s];
                }
                if (--tally->remaining != 0) return;
                // Asked for explicitly: shown even when --loglevel hides info lines.
                const auto logger = spdlog::default_logger();
                const auto level = std::max(spdlog::level::info, logger->level());
                if (level == spdlog::level::off) return;
                logger->log(level, "counters: {}", tally->sum.to_string());
                const auto n =
                    static_cast<std::ptrdiff_t>(std::min(tally->workers, tally->per_worker.size()));
                if (n > 1) {
                    logger->log(
                        level, "queries by worker: {}",
                        fmt::join(tally->per_worker.begin(), tally->per_worker.begin() + n, " "));
                }
                if (tally->servers.size() < 2) return;
                std::uint64_t total = 0;
                for (const auto& r : tally->servers) total += r.queries;
                for (const auto& r : tally->servers) {
                    logger->log(
                        level,
                        "server {}: {}, rtt {:.1f} ms (p95 {:.1f} ms), {} queries ({:.1f} %), "
                        "{} answers, {} failures, {} hedges ({} won)",
                        r.name, r.up ? "up" : "down", static_cast<double>(r.srtt.count()) / 1e3,
                        static_cast<double>(r.p95.count()) / 1e3, r.queries,
                        total == 0
                            ? 0.0
                            : 100.0 * static_cast<double>(r.queries) / static_cast<double>(total),
                        r.answers, r.failures, r.hedges, r.hedges_won);
                }
            });
        }
    }

    // SIGHUP: the rule files again, read on a thread of their own so that no worker stops
    // answering meanwhile (a 200,000-line list takes ~0.1 s); then each worker swaps its rules
    // between two events. A file that cannot be read now keeps the rules in use.
    void reload_rules() {
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
            auto remaining = std::make_shared<std::atomic<std::size_t>>(workers_.size());
            for (auto& w : workers_) {
                asio::post(w->io, [w = w.get(), rules, remaining] {
                    w->set_rules(rules);
                    if (remaining->fetch_sub(1) == 1) {
                        spdlog::info("SIGHUP: the new rules are in use by every worker");
                    }
                });
            }
        });
    }

    void stop() {
        control_signals_->cancel();
        if (load_timer_) load_timer_->cancel();
        for (auto& w : workers_) {
            asio::post(w->io, [w = w.get()] { w->stop(); });
        }
    }

    SystemClock clock_;
    config::RulesConfig rules_config_;
    std::unique_ptr<cache::Cache> cache_;  // shared by every worker
    std::thread reload_thread_;            // SIGHUP's rule reading

  public:
    std::function<void()> on_hangup;  // SIGHUP, besides the log file and certificates

  private:
    SharedLimits limits_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::optional<asio::signal_set> signals_;
    std::optional<asio::signal_set> control_signals_;
    std::optional<net::SpillControl> spill_;  // no --threads: who reads (spill-over)
    std::optional<asio::steady_timer> load_timer_;
    std::chrono::microseconds last_cpu_{0};
    std::chrono::steady_clock::time_point last_tick_;
};

int serve(config::Settings settings) {
    const auto& svc = settings.service;
    // Everything that can fail for a reason the user must fix fails here, before serving and
    // while errors still reach the terminal.
    std::optional<app::UserInfo> user;
    if (svc.user) user = app::lookup_user(*svc.user, svc.user_chroot);
    app::setup_logging({svc.loglevel, svc.logfile, svc.syslog,
                        user ? std::optional<uid_t>(user->uid) : std::nullopt},
                       svc.daemonize);
    for (const auto& note : settings.notes) spdlog::warn("{}", note);
    std::vector<app::LoadedSource> sources;
    if (settings.catalogue) sources = app::choose_catalogue_servers(settings);
    // The time zone, for time-restricted rules, read now: a chroot hides /etc/localtime.
    tzset();
    auto keys = config::load_client_keys(settings.client_key_file);
    Proxy proxy(settings, keys);  // binds every socket, port 53 included
    // Before the chroot (it loads libcurl); its thread starts after fork() and the privilege drop.
    app::SourceRefresher refresher(std::move(sources));

    if (svc.daemonize) {
        // Before any worker thread exists: fork() keeps only the calling thread.
        proxy.for_each_io(
            [](asio::io_context& io) { io.notify_fork(asio::execution_context::fork_prepare); });
        app::daemonize();
        proxy.for_each_io(
            [](asio::io_context& io) { io.notify_fork(asio::execution_context::fork_child); });
    }
    std::optional<app::PidFile> pid_file;
    if (svc.pid_file) pid_file.emplace(*svc.pid_file);
    if (user) {
        if (user->chroot) proxy.rules_in_jail(user->home);
        app::drop_privileges(*user);
        if (user->chroot) {
            app::note_chroot(user->home);
            if (pid_file) pid_file->note_chroot(user->home);
            spdlog::info("running as {} (uid {}, gid {}), chrooted to {}", user->name, user->uid,
                         user->gid, user->home);
        } else {
            spdlog::info("running as {} (uid {}, gid {}; user_name: no chroot)", user->name,
                         user->uid, user->gid);
        }
    }
    // After fork() and the privilege drop: downloads run as the user, in the jail if any.
    refresher.start();
    proxy.on_hangup = [&refresher] { refresher.refresh_now(); };
    proxy.run();
    refresher.stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "stamp") == 0) return app::run_stamp_tool(argc, argv);
    CLI::App app{
        "dnscrypt-proxy: forwards DNS queries to a DNSCrypt resolver, authenticated and "
        "encrypted",
        "dnscrypt-proxy"};
    config::Options options;
    std::string config_file;
    add_options(app, options, config_file);
    bool list = false, list_all = false, json = false;
    app.add_flag("--list", list,
                 "Print the servers the resolver list knows that pass the filters, and exit");
    app.add_flag("--list-all", list_all, "Print every server the resolver list knows, and exit");
    app.add_flag("--json", json, "With --list or --list-all: JSON, as dnscrypt-proxy 2 prints it");
    app.set_version_flag("-V,--version", std::string("dnscrypt-proxy ") + DCP_VERSION);
    // A switch given twice: the last one wins, as with most Unix tools (and so a wrapper script
    // can append overrides).
    for (auto* opt : app.get_options()) {
        if (opt->get_expected_max() <= 1) {
            opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
        }
    }
    try {
        // The file first; the command line, parsed into the same options, overrides it.
        if (const auto file = find_config_file(argc, argv)) {
            config::load_config_file(*file, options);
        }
        app.parse(argc, argv);
        if (app.count("--user") > 0) options.user_chroot = true;  // the switch always chroots
    } catch (const CLI::Success& e) {
        return app.exit(e);  // --help
    } catch (const CLI::ParseError& e) {
        // A usage error like any other: exit status 2, one line (CLI11's own status and its
        // "Run with --help" line would make scripts tell it apart from a bad value in the file).
        std::fprintf(stderr, "dnscrypt-proxy: %s (see --help)\n", e.what());
        return kExitUsage;
    } catch (const config::ConfigError& e) {
        std::fprintf(stderr, "dnscrypt-proxy: %s\n", e.what());
        return kExitUsage;
    }

    if (!crypto::initialize()) {
        std::fputs("dnscrypt-proxy: libsodium could not be initialised\n", stderr);
        return kExitStartup;
    }
    try {
        auto settings = config::validate(options);
        if (list || list_all) return app::print_server_list(settings, list_all, json);
        if (settings.service.test_minutes) {
            if (settings.catalogue) app::choose_catalogue_servers(settings);
            // --test checks the whole configuration: a client key file that would stop the
            // service is an error here too.
            (void)config::load_client_keys(settings.client_key_file);
            return app::run_certificate_test(settings.resolver, *settings.service.test_minutes);
        }
        return serve(settings);
    } catch (const config::ConfigError& e) {
        std::fprintf(stderr, "dnscrypt-proxy: %s\n", e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dnscrypt-proxy: %s\n", e.what());
        spdlog::critical("fatal: {}", e.what());
        return kExitStartup;
    }
}
