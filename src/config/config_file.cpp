#include "config/config_file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <utility>

#include "rules/schedule.hpp"

namespace dcp::config {
namespace {

class Reader {
  public:
    Reader(const std::string& path, std::string key, const toml::node& node)
        : path_(path), key_(std::move(key)), node_(node) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw ConfigError(path_ + " line " + std::to_string(node_.source().begin.line) + ": '" +
                          key_ + "' " + what);
    }
    std::string text() const {
        const auto v = node_.value_exact<std::string>();
        if (!v) fail("must be a string");
        return *v;
    }
    bool flag() const {
        const auto v = node_.value_exact<bool>();
        if (!v) fail("must be true or false");
        return *v;
    }
    // Only that it is a number of the field's type: the ranges are validate()'s, for the file
    // and the command line alike.
    template <class T>
    T integer() const {
        constexpr std::int64_t hi = std::numeric_limits<T>::max();
        const auto v = node_.value_exact<std::int64_t>();
        if (!v || *v < 0 || *v > hi) fail("must be an integer from 0 to " + std::to_string(hi));
        return static_cast<T>(*v);
    }
    std::int64_t any_integer() const {
        const auto v = node_.value_exact<std::int64_t>();
        if (!v) fail("must be an integer");
        return *v;
    }
    std::vector<std::string> texts() const {
        if (node_.is_string()) return {text()};
        const auto* array = node_.as_array();
        if (array == nullptr) fail("must be a string or an array of strings");
        std::vector<std::string> out;
        for (const auto& item : *array) {
            const auto v = item.value_exact<std::string>();
            if (!v) fail("must be a string or an array of strings");
            out.push_back(*v);
        }
        return out;
    }

  private:
    const std::string& path_;
    std::string key_;  // owned: callers build names such as "sources.NAME.urls"
    const toml::node& node_;
};

using Setter = std::function<void(const Reader&, Options&)>;

const std::map<std::string, Setter>& setters() {
    static const std::map<std::string, Setter> kSetters = {
        {"local-address", [](const Reader& r, Options& o) { o.local_addresses = r.texts(); }},
        {"resolver", [](const Reader& r, Options& o) { o.resolver_stamps = r.texts(); }},
        {"local-port",
         [](const Reader& r, Options& o) { o.local_port = r.integer<std::uint16_t>(); }},
        {"resolver-address", [](const Reader& r, Options& o) { o.resolver_address = r.text(); }},
        {"provider-name", [](const Reader& r, Options& o) { o.provider_name = r.text(); }},
        {"provider-key", [](const Reader& r, Options& o) { o.provider_key = r.text(); }},
        {"tcp-only", [](const Reader& r, Options& o) { o.tcp_only = r.flag(); }},
        {"tcp-port", [](const Reader& r, Options& o) { o.tcp_port = r.integer<std::uint16_t>(); }},
        {"edns-payload-size",
         [](const Reader& r, Options& o) { o.edns_payload_size = r.integer<std::uint16_t>(); }},
        {"timeout", [](const Reader& r, Options& o) { o.timeout_ms = r.integer<std::uint32_t>(); }},
        {"cert-refresh",
         [](const Reader& r, Options& o) { o.cert_refresh_s = r.integer<std::uint32_t>(); }},
        {"ephemeral-keys", [](const Reader& r, Options& o) { o.ephemeral_keys = r.flag(); }},
        {"client-key", [](const Reader& r, Options& o) { o.client_key_file = r.text(); }},
        {"max-tcp-connections",
         [](const Reader& r, Options& o) { o.max_tcp_connections = r.integer<std::uint32_t>(); }},
        {"tcp-idle-timeout",
         [](const Reader& r, Options& o) { o.tcp_idle_timeout_ms = r.integer<std::uint32_t>(); }},
        {"max-active-requests",
         [](const Reader& r, Options& o) { o.max_active_requests = r.integer<std::uint32_t>(); }},
        {"threads", [](const Reader& r, Options& o) { o.threads = r.integer<std::uint32_t>(); }},
        {"lb-strategy", [](const Reader& r, Options& o) { o.lb_strategy = r.text(); }},
        {"no-hedging", [](const Reader& r, Options& o) { o.no_hedging = r.flag(); }},
        {"daemonize", [](const Reader& r, Options& o) { o.daemonize = r.flag(); }},
        {"pid-file", [](const Reader& r, Options& o) { o.pid_file = r.text(); }},
        {"logfile", [](const Reader& r, Options& o) { o.logfile = r.text(); }},
        {"syslog", [](const Reader& r, Options& o) { o.syslog = r.flag(); }},
        {"loglevel", [](const Reader& r, Options& o) { o.loglevel = r.text(); }},
        {"user", [](const Reader& r, Options& o) { o.user = r.text(); }},
        {"no-cache", [](const Reader& r, Options& o) { o.local.cache = !r.flag(); }},
        {"cache-size",
         [](const Reader& r, Options& o) { o.local.cache_size = r.integer<std::uint32_t>(); }},
        {"cache-min-ttl",
         [](const Reader& r, Options& o) { o.local.cache_min_ttl = r.integer<std::uint32_t>(); }},
        {"cache-max-ttl",
         [](const Reader& r, Options& o) { o.local.cache_max_ttl = r.integer<std::uint32_t>(); }},
        {"cache-neg-min-ttl",
         [](const Reader& r, Options& o) {
             o.local.cache_neg_min_ttl = r.integer<std::uint32_t>();
         }},
        {"cache-neg-max-ttl",
         [](const Reader& r, Options& o) {
             o.local.cache_neg_max_ttl = r.integer<std::uint32_t>();
         }},
        {"cache-serve-stale",
         [](const Reader& r, Options& o) {
             o.local.cache_serve_stale = r.integer<std::uint32_t>();
         }},
        {"no-cache-prefetch",
         [](const Reader& r, Options& o) { o.local.cache_prefetch = !r.flag(); }},
        {"blocked-names",
         [](const Reader& r, Options& o) { o.local.blocked_names_file = r.text(); }},
        {"allowed-names",
         [](const Reader& r, Options& o) { o.local.allowed_names_file = r.text(); }},
        {"blocked-ips", [](const Reader& r, Options& o) { o.local.blocked_ips_file = r.text(); }},
        {"allowed-ips", [](const Reader& r, Options& o) { o.local.allowed_ips_file = r.text(); }},
        {"cloaking-rules", [](const Reader& r, Options& o) { o.local.cloaking_rules = r.text(); }},
        {"forwarding-rules",
         [](const Reader& r, Options& o) { o.local.forwarding_rules = r.text(); }},
        {"captive-portals",
         [](const Reader& r, Options& o) { o.local.captive_portals_file = r.text(); }},
        {"block-ipv6", [](const Reader& r, Options& o) { o.local.block_ipv6 = r.flag(); }},
        {"block-unqualified",
         [](const Reader& r, Options& o) { o.local.block_unqualified = r.flag(); }},
        {"block-undelegated",
         [](const Reader& r, Options& o) { o.local.block_undelegated = r.flag(); }},
        {"blocked-query-response",
         [](const Reader& r, Options& o) { o.local.blocked_query_response = r.text(); }},
        {"reject-ttl",
         [](const Reader& r, Options& o) { o.local.reject_ttl = r.integer<std::uint32_t>(); }},
        {"cloak-ttl",
         [](const Reader& r, Options& o) { o.local.cloak_ttl = r.integer<std::uint32_t>(); }},
        {"cloak-ptr", [](const Reader& r, Options& o) { o.local.cloak_ptr = r.flag(); }},
    };
    return kSetters;
}

// dnscrypt-proxy 2's configuration: the keys this proxy acts on. Every other key is named in
// one warning at start (Options::unimplemented_keys), never silently dropped and never fatal:
// a user's file from any 2.x version loads.
const std::map<std::string, Setter>& v2_setters() {
    static const std::map<std::string, Setter> kSetters = {
        {"listen_addresses", [](const Reader& r, Options& o) { o.local_addresses = r.texts(); }},
        {"server_names",
         [](const Reader& r, Options& o) { o.catalogue.filters.server_names = r.texts(); }},
        {"disabled_server_names",
         [](const Reader& r, Options& o) {
             o.catalogue.filters.disabled_server_names = r.texts();
         }},
        {"require_dnssec",
         [](const Reader& r, Options& o) { o.catalogue.filters.require_dnssec = r.flag(); }},
        {"require_nolog",
         [](const Reader& r, Options& o) { o.catalogue.filters.require_nolog = r.flag(); }},
        {"require_nofilter",
         [](const Reader& r, Options& o) { o.catalogue.filters.require_nofilter = r.flag(); }},
        {"ipv4_servers",
         [](const Reader& r, Options& o) { o.catalogue.filters.ipv4_servers = r.flag(); }},
        {"ipv6_servers",
         [](const Reader& r, Options& o) { o.catalogue.filters.ipv6_servers = r.flag(); }},
        {"dnscrypt_servers",
         [](const Reader& r, Options& o) { o.catalogue.filters.dnscrypt_servers = r.flag(); }},
        {"doh_servers",
         [](const Reader& r, Options& o) { o.catalogue.filters.doh_servers = r.flag(); }},
        {"odoh_servers",
         [](const Reader& r, Options& o) { o.catalogue.filters.odoh_servers = r.flag(); }},
        // Simultaneous client queries: what --max-active-requests bounds (250 in both).
        {"max_clients",
         [](const Reader& r, Options& o) { o.max_active_requests = r.integer<std::uint32_t>(); }},
        {"force_tcp", [](const Reader& r, Options& o) { o.tcp_only = r.flag(); }},
        {"timeout", [](const Reader& r, Options& o) { o.timeout_ms = r.integer<std::uint32_t>(); }},
        {"cert_refresh_delay",  // minutes there, seconds here
         [](const Reader& r, Options& o) {
             o.cert_refresh_s = static_cast<std::uint32_t>(
                 std::min<std::uint64_t>(r.integer<std::uint32_t>() * 60ULL, UINT32_MAX));
         }},
        {"log_level",  // 0 debug, 1 info, 2 notice, 3 warning, 4 error, 5 critical, 6 fatal
         [](const Reader& r, Options& o) {
             static const char* kLevels[] = {"debug", "info",     "info",    "warning",
                                             "error", "critical", "critical"};
             const auto level = r.any_integer();
             if (level < 0 || level > 6) r.fail("must be an integer from 0 to 6");
             o.loglevel = kLevels[level];
         }},
        {"log_file", [](const Reader& r, Options& o) { o.logfile = r.text(); }},
        {"use_syslog", [](const Reader& r, Options& o) { o.syslog = r.flag(); }},
        {"user_name",  // dnscrypt-proxy 2 drops privileges without a chroot
         [](const Reader& r, Options& o) {
             o.user = r.text();
             o.user_chroot = false;
         }},
        {"lb_strategy", [](const Reader& r, Options& o) { o.lb_strategy = r.text(); }},
        {"lb_estimator", [](const Reader& r, Options& o) { o.lb_estimator = r.flag(); }},
        {"dnscrypt_ephemeral_keys",
         [](const Reader& r, Options& o) { o.ephemeral_keys = r.flag(); }},
        {"cache", [](const Reader& r, Options& o) { o.local.cache = r.flag(); }},
        {"cache_size",
         [](const Reader& r, Options& o) { o.local.cache_size = r.integer<std::uint32_t>(); }},
        {"cache_min_ttl",
         [](const Reader& r, Options& o) { o.local.cache_min_ttl = r.integer<std::uint32_t>(); }},
        {"cache_max_ttl",
         [](const Reader& r, Options& o) { o.local.cache_max_ttl = r.integer<std::uint32_t>(); }},
        {"cache_neg_min_ttl",
         [](const Reader& r, Options& o) {
             o.local.cache_neg_min_ttl = r.integer<std::uint32_t>();
         }},
        {"cache_neg_max_ttl",
         [](const Reader& r, Options& o) {
             o.local.cache_neg_max_ttl = r.integer<std::uint32_t>();
         }},
        {"cache_neg_ttl",  // older files: one TTL for every negative answer
         [](const Reader& r, Options& o) {
             const auto ttl = r.integer<std::uint32_t>();
             if (ttl != 0) o.local.cache_neg_min_ttl = o.local.cache_neg_max_ttl = ttl;
         }},
        {"cache_serve_stale",  // this proxy's own (RFC 8767), in seconds
         [](const Reader& r, Options& o) {
             o.local.cache_serve_stale = r.integer<std::uint32_t>();
         }},
        {"cache_prefetch",  // this proxy's own
         [](const Reader& r, Options& o) { o.local.cache_prefetch = r.flag(); }},
        {"cloaking_rules", [](const Reader& r, Options& o) { o.local.cloaking_rules = r.text(); }},
        {"forwarding_rules",
         [](const Reader& r, Options& o) { o.local.forwarding_rules = r.text(); }},
        {"block_ipv6", [](const Reader& r, Options& o) { o.local.block_ipv6 = r.flag(); }},
        {"block_unqualified",
         [](const Reader& r, Options& o) { o.local.block_unqualified = r.flag(); }},
        {"block_undelegated",
         [](const Reader& r, Options& o) { o.local.block_undelegated = r.flag(); }},
        {"blocked_query_response",
         [](const Reader& r, Options& o) { o.local.blocked_query_response = r.text(); }},
        {"reject_ttl",
         [](const Reader& r, Options& o) { o.local.reject_ttl = r.integer<std::uint32_t>(); }},
        {"cloak_ttl",
         [](const Reader& r, Options& o) { o.local.cloak_ttl = r.integer<std::uint32_t>(); }},
        {"cloak_ptr", [](const Reader& r, Options& o) { o.local.cloak_ptr = r.flag(); }},
    };
    return kSetters;
}

std::string line_of(const toml::node& node) {
    return std::to_string(node.source().begin.line);
}

// A key that changes nothing here either: an empty table, or a feature switched off.
bool inert(const toml::node& node) {
    if (const auto* t = node.as_table()) return t->empty();
    if (const auto b = node.value_exact<bool>()) return !*b;
    return false;
}

// dnscrypt-proxy 2 reads relative paths from the configuration file's directory.
std::string beside(const std::string& config_path, const std::string& file) {
    if (file.empty() || file.front() == '/') return file;
    const auto dir = std::filesystem::path(config_path).parent_path();
    return dir.empty() ? file : (dir / file).string();
}

void apply_v2_sources(const toml::table& sources, const std::string& path, Options& o) {
    for (const auto& [key, node] : sources) {
        const std::string name(key.str());
        const auto* t = node.as_table();
        if (t == nullptr) {
            throw ConfigError(path + " line " + line_of(node) + ": [sources." + name +
                              "] must be a table");
        }
        SourceOptions s;
        s.name = name;
        for (const auto& [k, v] : *t) {
            const std::string field(k.str());
            const Reader r(path, "sources." + name + "." + field, v);
            if (field == "urls") {
                s.urls = r.texts();
            } else if (field == "url") {  // older files: one URL
                s.urls.push_back(r.text());
            } else if (field == "cache_file") {
                s.cache_file = beside(path, r.text());
            } else if (field == "minisign_key") {
                s.minisign_key = r.text();
            } else if (field == "refresh_delay") {
                s.refresh_delay_hours = r.any_integer();
            } else if (field == "prefix") {
                s.prefix = r.text();
            } else if (field == "format") {
                if (r.text() != "v2") r.fail("must be \"v2\" (the only list format)");
            } else {
                o.unimplemented_keys.push_back("sources." + name + "." + field);
            }
        }
        o.catalogue.sources.push_back(std::move(s));
    }
}

void apply_v2_statics(const toml::table& statics, const std::string& path, Options& o) {
    for (const auto& [key, node] : statics) {
        const std::string name(key.str());
        const auto* t = node.as_table();
        const auto* stamp = t != nullptr ? t->get("stamp") : nullptr;
        if (stamp == nullptr) {
            throw ConfigError(path + " line " + line_of(node) + ": [static." + name +
                              "] needs a stamp");
        }
        o.catalogue.statics.push_back(
            {name, Reader(path, "static." + name + ".stamp", *stamp).text()});
    }
}

void apply_v2_anonymized(const toml::table& anon, const std::string& path, Options& o) {
    for (const auto& [key, node] : anon) {
        const std::string field(key.str());
        const Reader r(path, "anonymized_dns." + field, node);
        if (field == "routes") {
            const auto* routes = node.as_array();
            if (routes == nullptr) r.fail("must be an array of { server_name, via } tables");
            for (const auto& entry : *routes) {
                const auto* t = entry.as_table();
                const auto* name = t != nullptr ? t->get("server_name") : nullptr;
                const auto* via = t != nullptr ? t->get("via") : nullptr;
                if (name == nullptr || via == nullptr) {
                    throw ConfigError(path + " line " + line_of(entry) +
                                      ": each anonymized_dns route needs server_name and via");
                }
                o.catalogue.routes.push_back(
                    {Reader(path, "anonymized_dns.routes.server_name", *name).text(),
                     Reader(path, "anonymized_dns.routes.via", *via).texts()});
            }
        } else if (field == "skip_incompatible") {
            o.catalogue.skip_incompatible = r.flag();
        } else if (!inert(node)) {
            o.unimplemented_keys.push_back("anonymized_dns." + field);
        }
    }
}

// The rule file tables: [blocked_names] blocked_names_file and the like (and the names of
// older versions: [blacklist], [whitelist], [ip_blacklist]). Their log files are not written.
void apply_v2_rule_table(const std::string& table_name, const toml::table& table,
                         const std::string& path, Options& o) {
    struct FileKey {
        const char* table;
        const char* key;
        std::string LocalOptions::*field;
    };
    static const FileKey kFiles[] = {
        {"blocked_names", "blocked_names_file", &LocalOptions::blocked_names_file},
        {"blacklist", "blacklist_file", &LocalOptions::blocked_names_file},
        {"allowed_names", "allowed_names_file", &LocalOptions::allowed_names_file},
        {"whitelist", "whitelist_file", &LocalOptions::allowed_names_file},
        {"blocked_ips", "blocked_ips_file", &LocalOptions::blocked_ips_file},
        {"ip_blacklist", "blacklist_file", &LocalOptions::blocked_ips_file},
        {"allowed_ips", "allowed_ips_file", &LocalOptions::allowed_ips_file},
        {"captive_portals", "map_file", &LocalOptions::captive_portals_file},
    };
    for (const auto& [key, node] : table) {
        const std::string field(key.str());
        const Reader r(path, table_name + "." + field, node);
        bool known = false;
        for (const auto& f : kFiles) {
            if (table_name == f.table && field == f.key) {
                o.local.*f.field = beside(path, r.text());
                known = true;
            }
        }
        if (!known && !inert(node)) o.unimplemented_keys.push_back(table_name + "." + field);
    }
}

std::string r_name(const std::string& name, const std::string& day) {
    std::string out = "schedules.";
    out += name;
    out += '.';
    out += day;
    return out;
}

// [schedules.NAME] mon = [{after='21:00', before='7:00'}], ... (sun to sat).
void apply_v2_schedules(const toml::table& schedules, const std::string& path, Options& o) {
    for (const auto& [key, node] : schedules) {
        const std::string name(key.str());
        const auto* t = node.as_table();
        if (t == nullptr) {
            throw ConfigError(path + " line " + line_of(node) + ": [schedules." + name +
                              "] must be a table");
        }
        rules::WeeklySchedule schedule;
        for (const auto& [day_key, ranges] : *t) {
            const std::string day(day_key.str());
            const Reader r(path, "schedules." + name + "." + day, ranges);
            const int index = rules::weekday_index(day);
            if (index < 0) r.fail("is not a day (sun, mon, tue, wed, thu, fri, sat)");
            const auto* array = ranges.as_array();
            if (array == nullptr) r.fail("must be an array of {after='HH:MM', before='HH:MM'}");
            for (const auto& range : *array) {
                const auto* rt = range.as_table();
                const auto* after = rt != nullptr ? rt->get("after") : nullptr;
                const auto* before = rt != nullptr ? rt->get("before") : nullptr;
                if (after == nullptr || before == nullptr) {
                    r.fail("must be an array of {after='HH:MM', before='HH:MM'}");
                }
                const auto a = rules::parse_clock(Reader(path, r_name(name, day), *after).text());
                const auto b = rules::parse_clock(Reader(path, r_name(name, day), *before).text());
                if (!a) r.fail(a.error());
                if (!b) r.fail(b.error());
                schedule.days[static_cast<std::size_t>(index)].push_back({*a, *b});
            }
        }
        o.local.schedules[name] = std::move(schedule);
    }
}

bool is_rule_table(const std::string& name) {
    return name == "blocked_names" || name == "blacklist" || name == "allowed_names" ||
           name == "whitelist" || name == "blocked_ips" || name == "ip_blacklist" ||
           name == "allowed_ips" || name == "captive_portals";
}

void apply_v2(const toml::table& table, const std::string& path, Options& o) {
    o.dnscrypt_proxy2_file = true;
    for (const auto& [key, node] : table) {
        const std::string name(key.str());
        if (name == "sources" && node.is_table()) {
            apply_v2_sources(*node.as_table(), path, o);
        } else if (name == "static" && node.is_table()) {
            apply_v2_statics(*node.as_table(), path, o);
        } else if (name == "anonymized_dns" && node.is_table()) {
            apply_v2_anonymized(*node.as_table(), path, o);
        } else if (name == "schedules" && node.is_table()) {
            apply_v2_schedules(*node.as_table(), path, o);
        } else if (is_rule_table(name) && node.is_table()) {
            apply_v2_rule_table(name, *node.as_table(), path, o);
        } else if (const auto it = v2_setters().find(name); it != v2_setters().end()) {
            it->second(Reader(path, name, node), o);
            if (name == "log_file") o.logfile = beside(path, o.logfile);
            if (name == "cloaking_rules")
                o.local.cloaking_rules = beside(path, o.local.cloaking_rules);
            if (name == "forwarding_rules") {
                o.local.forwarding_rules = beside(path, o.local.forwarding_rules);
            }
        } else if (!inert(node)) {
            o.unimplemented_keys.push_back(name);
        }
    }
}

// dnscrypt-proxy 2's files use underscores (listen_addresses) and tables ([sources]); this
// proxy's own keys are the switches' long names, with dashes.
bool is_dnscrypt_proxy2(const toml::table& table) {
    for (const auto& [key, node] : table) {
        if (key.str().find('_') != std::string_view::npos || node.is_table()) return true;
    }
    return false;
}

}  // namespace

namespace {

void apply(const toml::table& table, const std::string& path, Options& options) {
    if (is_dnscrypt_proxy2(table)) {
        apply_v2(table, path, options);
        return;
    }
    for (const auto& [key, node] : table) {
        const std::string name(key.str());
        const auto it = setters().find(name);
        if (it == setters().end()) {
            throw ConfigError(path + " line " + std::to_string(node.source().begin.line) +
                              ": unknown key '" + name + "'");
        }
        it->second(Reader(path, name, node), options);
    }
}

[[noreturn]] void syntax_error(const std::string& path, const toml::parse_error& e) {
    const auto& where = e.source().begin;
    if (where.line == 0) throw ConfigError(path + ": " + std::string(e.description()));
    throw ConfigError(path + " line " + std::to_string(where.line) + ": " +
                      std::string(e.description()));
}

}  // namespace

void load_config_file(const std::string& path, Options& options) {
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        syntax_error(path, e);
    }
    apply(table, path, options);
}

void load_config_text(std::string_view text, const std::string& name, Options& options) {
    toml::table table;
    try {
        table = toml::parse(text, name);
    } catch (const toml::parse_error& e) {
        syntax_error(name, e);
    }
    apply(table, name, options);
}

}  // namespace dcp::config
