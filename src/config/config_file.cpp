#include "config/config_file.hpp"

#include <toml++/toml.h>

#include <functional>
#include <limits>
#include <map>

namespace dcp::config {
namespace {

class Reader {
  public:
    Reader(const std::string& path, const std::string& key, const toml::node& node)
        : path_(path), key_(key), node_(node) {}

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
    const std::string& key_;
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
        {"daemonize", [](const Reader& r, Options& o) { o.daemonize = r.flag(); }},
        {"pid-file", [](const Reader& r, Options& o) { o.pid_file = r.text(); }},
        {"logfile", [](const Reader& r, Options& o) { o.logfile = r.text(); }},
        {"syslog", [](const Reader& r, Options& o) { o.syslog = r.flag(); }},
        {"loglevel", [](const Reader& r, Options& o) { o.loglevel = r.text(); }},
        {"user", [](const Reader& r, Options& o) { o.user = r.text(); }},
    };
    return kSetters;
}

}  // namespace

namespace {

void apply(const toml::table& table, const std::string& path, Options& options) {
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
