#include "config/config_file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <type_traits>
#include <utility>
#include <variant>

#include "config/option_table.hpp"
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

// dnscrypt-proxy 2 reads relative paths from the configuration file's directory.
std::string beside(const std::string& config_path, const std::string& file) {
    if (file.empty() || file.front() == '/') return file;
    const auto dir = std::filesystem::path(config_path).parent_path();
    return dir.empty() ? file : (dir / file).string();
}

// One row of the option table, from a key of this proxy's file or a dnscrypt-proxy 2 file.
void set_from_file(const OptionSpec& spec, const Reader& r, const std::string& path, bool v2,
                   Options& o) {
    std::visit(
        [&](auto field) {
            auto& value = field(o);
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::string>) {
                value = v2 && spec.is(kV2Path) ? beside(path, r.text()) : r.text();
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                value = r.texts();
            } else if constexpr (std::is_same_v<T, bool>) {
                // "no-cache = true" in ours, "cache = false" in dnscrypt-proxy 2's.
                value = r.flag() != (spec.is(kNegated) && !v2);
            } else if constexpr (std::is_same_v<T, std::optional<std::uint16_t>> ||
                                 std::is_same_v<T, std::optional<std::uint32_t>>) {
                value = r.integer<typename T::value_type>();
            } else {
                value = r.integer<T>();
            }
        },
        spec.field);
}

using Conversion = std::function<void(const Reader&, Options&)>;

// dnscrypt-proxy 2's keys whose value means something else here (a unit, a scale, a mode);
// the rest of its keys this proxy acts on are rows of the option table. Every other key is
// named in one warning at start (Options::unimplemented_keys), never silently dropped and never
// fatal: a user's file from any 2.x version loads.
const std::map<std::string, Conversion>& v2_conversions() {
    static const std::map<std::string, Conversion> kConversions = {
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
        {"user_name",  // dnscrypt-proxy 2 drops privileges without a chroot
         [](const Reader& r, Options& o) {
             o.user = r.text();
             o.user_chroot = false;
         }},
        {"cache_neg_ttl",  // older files: one TTL for every negative answer
         [](const Reader& r, Options& o) {
             const auto ttl = r.integer<std::uint32_t>();
             if (ttl != 0) o.local.cache_neg_min_ttl = o.local.cache_neg_max_ttl = ttl;
         }},
    };
    return kConversions;
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

// Keys `a` and `b` of `node`, a table that must have both ({server_name, via}, {after,
// before}): both, or two nulls.
std::pair<const toml::node*, const toml::node*> two_keys(const toml::node& node, std::string_view a,
                                                         std::string_view b) {
    const auto* t = node.as_table();
    const auto* first = t != nullptr ? t->get(a) : nullptr;
    const auto* second = t != nullptr ? t->get(b) : nullptr;
    if (first == nullptr || second == nullptr) return {nullptr, nullptr};
    return {first, second};
}

// Calls fn(name, table) for each [section.NAME] table; anything else there is an error.
template <class Fn>
void for_each_named_table(const toml::table& section, std::string_view section_name,
                          const std::string& path, Fn&& fn) {
    for (const auto& [key, node] : section) {
        const std::string name(key.str());
        const auto* t = node.as_table();
        if (t == nullptr) {
            throw ConfigError(path + " line " + line_of(node) + ": [" + std::string(section_name) +
                              "." + name + "] must be a table");
        }
        fn(name, *t);
    }
}

void apply_v2_sources(const toml::table& sources, const std::string& path, Options& o) {
    for_each_named_table(
        sources, "sources", path, [&](const std::string& name, const toml::table& source) {
            SourceOptions s;
            s.name = name;
            for (const auto& [k, v] : source) {
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
        });
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
                const auto [name, via] = two_keys(entry, "server_name", "via");
                if (name == nullptr) {
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
    for_each_named_table(
        schedules, "schedules", path, [&](const std::string& name, const toml::table& days) {
            rules::WeeklySchedule schedule;
            for (const auto& [day_key, ranges] : days) {
                const std::string day(day_key.str());
                const Reader r(path, "schedules." + name + "." + day, ranges);
                const int index = rules::weekday_index(day);
                if (index < 0) r.fail("is not a day (sun, mon, tue, wed, thu, fri, sat)");
                const auto* array = ranges.as_array();
                if (array == nullptr) r.fail("must be an array of {after='HH:MM', before='HH:MM'}");
                for (const auto& range : *array) {
                    const auto [after, before] = two_keys(range, "after", "before");
                    if (after == nullptr) {
                        r.fail("must be an array of {after='HH:MM', before='HH:MM'}");
                    }
                    const auto a =
                        rules::parse_clock(Reader(path, r_name(name, day), *after).text());
                    const auto b =
                        rules::parse_clock(Reader(path, r_name(name, day), *before).text());
                    if (!a) r.fail(a.error());
                    if (!b) r.fail(b.error());
                    schedule.days[static_cast<std::size_t>(index)].push_back({*a, *b});
                }
            }
            o.local.schedules[name] = std::move(schedule);
        });
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
        } else if (const auto* spec = find_v2_option(name)) {
            set_from_file(*spec, Reader(path, name, node), path, true, o);
        } else if (const auto it = v2_conversions().find(name); it != v2_conversions().end()) {
            it->second(Reader(path, name, node), o);
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
        const auto* spec = find_option(name);
        if (spec == nullptr || spec->is(kCommandLineOnly)) {
            throw ConfigError(path + " line " + std::to_string(node.source().begin.line) +
                              ": unknown key '" + name + "'");
        }
        set_from_file(*spec, Reader(path, name, node), path, false, options);
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
