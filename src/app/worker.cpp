#include "app/worker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>
#include <utility>

#include "net/endpoint.hpp"
#include "net/listen_share.hpp"

namespace dcp::app {
Worker::Worker(const config::Settings& settings, const crypto::KeyPair& keys, const Clock& clock,
               SharedLimits& limits, unsigned index, Worker* first,
               const std::shared_ptr<asio::ssl::context>& tls, cache::Cache* cache)
    : balancer_settings_(settings.balancer),
      timeout_(settings.transport.timeout),
      pool_(io_,
            make_members(settings, {io_, counters_, clock, keys, tls, settings.servers.size()}),
            settings.balancer, counters_),
      processor_(io_, pool_, settings.processor, counters_, limits.active_queries, cache) {
    const auto count = static_cast<unsigned>(settings.threads);
    // How the listener being made joins the first worker's in the same position. Spill-over:
    // the standby workers share the first one's sockets (a SO_REUSEPORT group would hand them
    // their share of the datagrams whether they read or not).
    auto share = [&] {
        const int first_descriptor =
            first ? first->listeners_[listeners_.size()]->native_handle() : -1;
        if (!settings.spill_threads || !first) {
            return net::listen_share(index, count, first_descriptor);
        }
        net::ListenShare spill;
        spill.duplicate_of = first_descriptor;
        return spill;
    };
    for (const auto& ep : settings.listen) {
        bind(ep, "UDP", [&] {
            listeners_.push_back(
                std::make_unique<frontend::UdpListener>(io_, ep, processor_, counters_, share()));
        });
        const asio::ip::tcp::endpoint tcp_ep(ep.address(), ep.port());
        bind(ep, "TCP", [&] {
            listeners_.push_back(std::make_unique<frontend::TcpListener>(
                io_, tcp_ep, processor_, counters_, settings.tcp, limits.tcp_connections, share()));
        });
    }
}

void Worker::start(bool lead, bool reading) {
    for (auto& server : servers_) server->start(lead);
    for (auto& l : listeners_) l->start(reading);
}

void Worker::run() {
    try {
        io_.run();
    } catch (const std::exception& e) {
        // Handlers catch what they can; anything else ends the process cleanly.
        spdlog::critical("worker stopped by an internal error: {}", e.what());
        std::raise(SIGTERM);
        io_.run();
    }
}

void Worker::set_reading(bool on) {
    for (auto& l : listeners_) l->set_active(on);
}

// Each forwarding rule's servers become a pool of plain DNS transports; pools are kept for the
// life of the process (a reload naming the same servers finds them again; queries in flight on
// a rule that went away still have theirs).
void Worker::set_rules(const std::shared_ptr<const rules::RuleSet>& rules) {
    std::vector<upstream::Upstream*> forwarders;
    if (rules && rules->forwarding) {
        for (const auto& rule : rules->forwarding->rules) {
            forwarders.push_back(&forward_pool(rule.servers));
        }
    }
    processor_.set_rules(rules, std::move(forwarders));
}

void Worker::stop() {
    pool_.stop();
    for (auto& [key, p] : forward_pools_) p->stop();
    for (auto& t : plain_) t->stop();
    for (auto& server : servers_) server->stop();
    for (auto& l : listeners_) l->stop();
    keep_running_.reset();
    io_.stop();
}

void Worker::log_listening() const {
    for (const auto& l : listeners_) spdlog::info("listening on {}", l->describe());
}

upstream::Pool& Worker::forward_pool(const std::vector<rules::ForwardServer>& servers) {
    std::string key;
    for (const auto& server : servers) {
        key += server.host + "#" + std::to_string(server.port) + ",";
    }
    auto& slot = forward_pools_[key];
    if (!slot) {
        std::vector<upstream::PoolMember> members;
        for (const auto& server : servers) {
            const asio::ip::udp::endpoint ep(asio::ip::make_address(server.host), server.port);
            plain_.push_back(
                std::make_unique<upstream::PlainTransport>(io_, ep, timeout_, counters_));
            members.push_back({plain_.back().get(), net::to_string(ep), net::to_string(ep)});
        }
        slot = std::make_unique<upstream::Pool>(io_, std::move(members), balancer_settings_,
                                                counters_);
    }
    return *slot;
}

std::vector<upstream::PoolMember> Worker::make_members(const config::Settings& settings,
                                                       const upstream::WorkerContext& context) {
    std::vector<upstream::PoolMember> members;
    for (const auto& spec : settings.servers) {
        servers_.push_back(upstream::make_transport(spec, settings.transport, context));
        auto& server = *servers_.back();
        servers_by_id_.emplace(spec.id, &server);
        // A first latency estimate (a certificate fetch, a connection set-up) for the pool.
        server.on_latency_estimate([this, member = members.size()](std::chrono::microseconds rtt) {
            pool_.seed(member, rtt);
        });
        members.push_back({&server, spec.label(), spec.id});
    }
    return members;
}

template <class F>
void Worker::bind(const asio::ip::udp::endpoint& ep, const char* what, F&& make) {
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
        // A start-up failure (exit status 1), not a configuration error: the same settings
        // work once the port is free.
        throw std::runtime_error("cannot listen on " + net::to_string(ep) + " (" + what +
                                 "): " + e.code().message() + hint);
    }
}

}  // namespace dcp::app
