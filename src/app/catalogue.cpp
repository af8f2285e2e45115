#include "app/catalogue.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "net/endpoint.hpp"
#include "sources/embedded.hpp"
#include "upstream/factory.hpp"

namespace dcp::app {
namespace {

std::string describe(const sources::SourceState& s, std::chrono::system_clock::time_point now) {
    std::string out = std::to_string(s.list.entries.size()) + " servers from " + s.origin;
    if (s.cached_at) {
        const auto hours =
            std::chrono::duration_cast<std::chrono::hours>(now - *s.cached_at).count();
        out += " (" + std::to_string(hours) + " h old)";
    }
    if (!s.trusted_comment.empty()) out += ", signed '" + s.trusted_comment + "'";
    for (auto& c : out) {
        if (c == '\t') c = ' ';
    }
    return out;
}

// dnscrypt-proxy 2: without server_names, the static servers are the names; a static server
// is used only when named.
std::vector<std::string> wanted_names(const config::CatalogueSettings& c) {
    if (!c.filters.server_names.empty() || c.statics.empty()) return c.filters.server_names;
    std::vector<std::string> names;
    for (const auto& s : c.statics) names.push_back(s.name);
    return names;
}

bool usable(const stamp::Stamp& s) {
    return s.protocol == stamp::Protocol::DnsCrypt || s.protocol == stamp::Protocol::DoH;
}

// The statics, then each loaded source's servers, as the filters and names select them.
sources::Selection select_from(const config::CatalogueSettings& c,
                               const std::vector<LoadedSource>& loaded) {
    auto filters = c.filters;
    filters.server_names = wanted_names(c);
    std::vector<sources::ListEntry> statics;
    for (const auto& s : c.statics) statics.push_back({s.name, s.description, {s.stamp}});
    auto out = sources::select_servers(statics, filters);
    for (const auto& l : loaded) {
        if (!l.state) continue;
        auto more = sources::select_servers(l.state->list.entries, filters);
        for (auto& m : more.servers) out.servers.push_back(std::move(m));
        for (auto& m : more.relays) out.relays.push_back(std::move(m));
    }
    return out;
}

std::optional<upstream::RelaySpec> relay_from_stamp(const std::string& name,
                                                    const stamp::Stamp& st) {
    if (st.protocol != stamp::Protocol::DnsCryptRelay && st.protocol != stamp::Protocol::DnsCrypt) {
        return std::nullopt;
    }
    const auto where = stamp::server_address(st);
    if (!where) return std::nullopt;
    asio::error_code ec;
    const auto address = asio::ip::make_address(where->host, ec);
    if (ec) return std::nullopt;  // relays are reached by address, never by name
    return upstream::RelaySpec{name, address, where->port};
}

// [anonymized_dns] routes: the relays `server` is reached through; nullopt when no route names
// it (nor '*'), empty when its route has no usable relay. An unusable entry is logged and
// skipped.
std::optional<std::vector<upstream::RelaySpec>> relays_for(const sources::Candidate& server,
                                                           const config::CatalogueSettings& c,
                                                           const sources::Selection& sel) {
    const config::RouteOptions* route = nullptr;
    for (const auto& r : c.routes) {
        if (r.server_name == server.name) route = &r;
    }
    if (route == nullptr) {
        for (const auto& r : c.routes) {
            if (r.server_name == "*") route = &r;
        }
    }
    if (route == nullptr) return std::nullopt;
    const auto where = stamp::server_address(server.stamp);
    std::vector<upstream::RelaySpec> out;
    const auto add = [&](const std::optional<upstream::RelaySpec>& t, const std::string& what) {
        if (!t) {
            spdlog::warn(
                "route for {}: relay {} is not usable (a relay or DNSCrypt stamp with "
                "an IP address is needed)",
                server.name, what);
            return;
        }
        asio::error_code ec;
        if (where && t->address == asio::ip::make_address(where->host, ec) &&
            t->port == where->port) {
            return;  // a server is never its own relay
        }
        for (const auto& o : out) {
            if (o.address == t->address && o.port == t->port) return;
        }
        out.push_back(*t);
    };
    for (const auto& via : route->via) {
        if (via.rfind("sdns://", 0) == 0) {
            const auto st = stamp::parse(via);
            add(st ? relay_from_stamp(st->address, *st) : std::nullopt, via);
        } else if (via == "*") {
            // Any relay: the first three of the lists that are not the server itself.
            std::size_t taken = 0;
            for (const auto& r : sel.relays) {
                if (taken == 3) break;
                const auto before = out.size();
                add(relay_from_stamp(r.name, r.stamp), r.name);
                taken += out.size() - before;
            }
        } else {
            const sources::Candidate* found = nullptr;
            for (const auto* list : {&sel.relays, &sel.servers, &c.statics}) {
                for (const auto& cand : *list) {
                    if (cand.name == via && found == nullptr) found = &cand;
                }
            }
            add(found ? relay_from_stamp(via, found->stamp) : std::nullopt, via);
        }
    }
    return out;
}

std::vector<LoadedSource> load_sources(const config::CatalogueSettings& c) {
    std::vector<LoadedSource> loaded;
    const auto now = std::chrono::system_clock::now();
    for (const auto& sc : c.sources) {
        auto state = sources::load_at_start(sc, now);
        loaded.push_back({sc, state ? std::optional(std::move(*state)) : std::nullopt});
    }
    return loaded;
}

// "using 3 DNSCrypt servers: a (192.0.2.1:443), ...", then the same for each other protocol.
void log_servers(const std::vector<upstream::ServerSpec>& servers) {
    std::vector<stamp::Protocol> protocols;
    for (const auto& srv : servers) {
        if (std::find(protocols.begin(), protocols.end(), srv.stamp.protocol) == protocols.end()) {
            protocols.push_back(srv.stamp.protocol);
        }
    }
    for (const auto protocol : protocols) {
        std::string names;
        std::size_t n = 0;
        for (const auto& srv : servers) {
            if (srv.stamp.protocol != protocol) continue;
            ++n;
            names += (names.empty() ? "" : ", ") + srv.label() + " (" + upstream::where(srv) + ")";
        }
        if (n > 0) {
            spdlog::info("using {} {} server{}: {}", n, stamp::protocol_name(protocol),
                         n == 1 ? "" : "s", names);
        }
    }
}

}  // namespace

sources::Selection catalogue_selection(const config::CatalogueSettings& c) {
    return select_from(c, load_sources(c));
}

std::vector<LoadedSource> choose_catalogue_servers(config::Settings& settings) {
    const auto& c = *settings.catalogue;
    auto loaded = load_sources(c);
    auto selection = select_from(c, loaded);
    const auto now = std::chrono::system_clock::now();

    // The usable servers: in the user's order of server_names when given, else the lists'.
    const auto pick = [&](const sources::Selection& sel) {
        std::vector<const sources::Candidate*> out;
        const auto names = wanted_names(c);
        if (!names.empty()) {
            for (const auto& n : names) {
                for (const auto& cand : sel.servers) {
                    if (cand.name == n && usable(cand.stamp)) out.push_back(&cand);
                }
            }
            return out;
        }
        for (const auto& cand : sel.servers) {
            if (usable(cand.stamp)) out.push_back(&cand);
        }
        return out;
    };

    auto chosen = pick(selection);
    if (chosen.empty()) {
        // Nothing local to serve from: download what can be, once, before serving.
        bool fetched = false;
        for (auto& l : loaded) {
            if (l.state || l.config.urls.empty()) continue;
            spdlog::info("source {}: no local copy; downloading it before serving", l.config.name);
            auto fresh = sources::refresh(l.config);
            if (fresh) {
                l.state = std::move(*fresh);
                fetched = true;
            } else {
                spdlog::error("source {}: {}", l.config.name, fresh.error());
            }
        }
        if (fetched) {  // from what was downloaded, even if it could not be cached
            selection = select_from(c, loaded);
            chosen = pick(selection);
        }
    }
    for (const auto& l : loaded) {
        if (l.state) {
            spdlog::info("source {}: {}", l.config.name, describe(*l.state, now));
        } else {
            spdlog::warn("source {}: no usable copy yet", l.config.name);
        }
    }
    if (chosen.empty()) {
        throw config::ConfigError(
            "no server to use: " + std::to_string(selection.servers.size()) +
            " server(s) pass server_names and the filters, none of them DNSCrypt or DoH (the "
            "protocols used so far)");
    }
    std::size_t others = 0;
    for (const auto& cand : selection.servers) others += usable(cand.stamp) ? 0U : 1U;
    for (const auto* cand : chosen) {
        const auto what = "server " + cand->name;
        if (cand->stamp.protocol == stamp::Protocol::DoH) {
            config::add_stamp_server(settings, cand->stamp, cand->name, what);
            continue;
        }
        const auto route = relays_for(*cand, c, selection);
        const auto relays = route.value_or(std::vector<upstream::RelaySpec>{});
        if (route && relays.empty()) {
            if (c.skip_incompatible) {
                spdlog::warn("{}: no usable relay on its route; skipped (skip_incompatible)",
                             cand->name);
                continue;
            }
            spdlog::warn("{}: no usable relay on its route; used directly", cand->name);
        }
        if (relays.empty()) config::add_stamp_server(settings, cand->stamp, cand->name, what);
        for (const auto& relay : relays) {
            config::add_stamp_server(settings, cand->stamp, cand->name, what, relay);
        }
    }
    if (settings.servers.empty()) {
        throw config::ConfigError(
            "no server to use: every selected server was skipped (skip_incompatible)");
    }
    log_servers(settings.servers);
    if (others > 0) {
        spdlog::warn(
            "{} selected server(s) of other protocols (ODoH, DoT, DoQ, plain) are not "
            "used yet",
            others);
    }
    return loaded;
}

SourceRefresher::SourceRefresher(std::vector<LoadedSource> sources) {
    const auto now = std::chrono::steady_clock::now();
    const auto wall = std::chrono::system_clock::now();
    for (auto& s : sources) {
        if (s.config.urls.empty()) continue;  // local only: nothing to fetch
        auto at = now;
        if (s.state && !s.state->stale && s.state->cached_at) {
            at = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           *s.state->cached_at + s.config.refresh_delay - wall);
        }
        due_.push_back({std::move(s), at});
    }
    // Now, while the libraries are still in sight: the refresher is made before a chroot.
    if (!due_.empty()) {
        if (auto loaded = sources::init_fetching(); !loaded) {
            spdlog::warn(
                "list refreshes will fail: {} (the cache and the embedded lists keep "
                "serving)",
                loaded.error());
        }
    }
}

SourceRefresher::~SourceRefresher() {
    stop();
}

void SourceRefresher::start() {
    if (due_.empty()) return;
    thread_ = std::thread([this] { run(); });
}

void SourceRefresher::refresh_now() {
    {
        const std::lock_guard lock(mutex_);
        now_ = true;
    }
    wake_.notify_all();
}

void SourceRefresher::stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cancel_ = true;  // a download in progress ends within a second, not at its timeout
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void SourceRefresher::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        auto next = std::chrono::steady_clock::time_point::max();
        for (const auto& d : due_) next = std::min(next, d.at);
        wake_.wait_until(lock, next, [this] { return stopping_ || now_; });
        if (stopping_) return;
        const bool forced = now_;
        now_ = false;
        const auto now = std::chrono::steady_clock::now();
        for (auto& d : due_) {
            if (!forced && d.at > now) continue;
            auto config = d.source.config;
            config.limits.cancel = &cancel_;
            lock.unlock();  // downloads take seconds: SIGHUP and stop() must not wait for them
            auto fresh = sources::refresh(config);
            lock.lock();
            if (stopping_) return;
            if (fresh) {
                spdlog::info("source {} refreshed: {}", config.name,
                             describe(*fresh, std::chrono::system_clock::now()));
                d.source.state = std::move(*fresh);
                d.at = std::chrono::steady_clock::now() + config.refresh_delay;
                d.backoff = std::chrono::seconds(60);
            } else {
                const auto wait = std::min<std::chrono::seconds>(
                    d.backoff,
                    std::chrono::duration_cast<std::chrono::seconds>(config.refresh_delay));
                spdlog::warn("source {}: refresh failed: {}; keeping {}; next try in {}s",
                             config.name, fresh.error(),
                             d.source.state ? d.source.state->origin : "nothing", wait.count());
                d.at = std::chrono::steady_clock::now() + wait;
                d.backoff = std::min<std::chrono::seconds>(d.backoff * 2, std::chrono::hours(24));
            }
        }
    }
}

}  // namespace dcp::app
