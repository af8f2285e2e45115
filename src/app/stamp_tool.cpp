#include "app/stamp_tool.hpp"

// g++ 12 reports a null dereference inside CLI11's string splitting once inlined here (a false
// positive of its flow analysis); the header is Debian's, not ours to change.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/hex.hpp"
#include "dnscrypt/provider_key.hpp"
#include "stamp/stamp.hpp"

namespace dcp::app {
namespace {

constexpr int kExitUsage = 2;

struct Kind {
    const char* name;
    stamp::Protocol protocol;
};
constexpr Kind kKinds[] = {
    {"plain", stamp::Protocol::Plain},
    {"dnscrypt", stamp::Protocol::DnsCrypt},
    {"doh", stamp::Protocol::DoH},
    {"dot", stamp::Protocol::DoT},
    {"doq", stamp::Protocol::DoQ},
    {"odoh-target", stamp::Protocol::ODoHTarget},
    {"relay", stamp::Protocol::DnsCryptRelay},
    {"odoh-relay", stamp::Protocol::ODoHRelay},
};

nlohmann::json to_json(const stamp::Stamp& s) {
    nlohmann::json j;
    j["protocol"] = std::string(stamp::protocol_name(s.protocol));
    if (!s.is_relay() || s.protocol == stamp::Protocol::ODoHRelay) {
        j["dnssec"] = s.dnssec();
        j["nolog"] = s.no_log();
        j["nofilter"] = s.no_filter();
        j["props"] = s.props;
    }
    if (s.protocol != stamp::Protocol::ODoHTarget) j["address"] = s.address;
    if (const auto where = stamp::server_address(s)) {
        j["connect_host"] = where->host;
        j["connect_port"] = where->port;
    }
    if (s.protocol == stamp::Protocol::DnsCrypt) {
        j["provider_name"] = s.provider_name;
        j["provider_key"] = hex_encode(s.provider_key);
    }
    if (!s.hostname.empty()) j["hostname"] = s.hostname;
    if (!s.path.empty()) j["path"] = s.path;
    if (!s.hashes.empty() || s.protocol == stamp::Protocol::DoH ||
        s.protocol == stamp::Protocol::DoT || s.protocol == stamp::Protocol::DoQ ||
        s.protocol == stamp::Protocol::ODoHRelay) {
        auto& hashes = j["hashes"] = nlohmann::json::array();
        for (const auto& h : s.hashes) hashes.push_back(hex_encode(h));
    }
    if (!s.bootstrap.empty()) j["bootstrap"] = s.bootstrap;
    return j;
}

void print_text(const stamp::Stamp& s) {
    const auto line = [](const char* field, const std::string& value) {
        std::printf("%-14s %s\n", field, value.c_str());
    };
    const auto yes = [](bool b) { return std::string(b ? "yes" : "no"); };
    line("protocol", std::string(stamp::protocol_name(s.protocol)));
    if (s.protocol != stamp::Protocol::DnsCryptRelay) {
        line("dnssec", yes(s.dnssec()));
        line("no logs", yes(s.no_log()));
        line("no filter", yes(s.no_filter()));
    }
    const auto where = stamp::server_address(s);
    if (s.protocol != stamp::Protocol::ODoHTarget) {
        std::string addr = s.address.empty() ? "(none: the host name is resolved)" : s.address;
        if (where && !s.address.empty())
            addr += "  (connect to port " + std::to_string(where->port) + ")";
        line("address", addr);
    }
    if (s.protocol == stamp::Protocol::DnsCrypt) {
        line("provider name", s.provider_name);
        line("provider key", hex_encode_grouped(s.provider_key, true));
    }
    if (!s.hostname.empty()) line("host name", s.hostname);
    if (!s.path.empty()) line("path", s.path);
    for (const auto& h : s.hashes) line("cert hash", hex_encode(h));
    for (const auto& b : s.bootstrap) line("bootstrap", b);
}

// Drops ":port" when it is the protocol's default, as go-dnsstamps' encoder does.
std::string without_default_port(const std::string& text, stamp::Protocol p) {
    const auto hp = stamp::split_host_port(text);
    if (!hp || !hp->port || *hp->port != stamp::default_port(p)) return text;
    return hp->bracketed ? "[" + std::string(hp->host) + "]" : std::string(hp->host);
}

}  // namespace

int run_stamp_tool(int argc, char** argv) {
    CLI::App app{"Decodes and encodes DNS stamps (sdns://...)", "dnscrypt-proxy stamp"};
    app.require_subcommand(1);

    auto* decode = app.add_subcommand("decode", "Print every field of a stamp");
    std::string text;
    bool json = false;
    decode->add_option("stamp", text, "sdns://...")->required();
    decode->add_flag("--json", json, "One JSON object, for scripts");

    auto* encode = app.add_subcommand("encode", "Build a stamp from its fields");
    std::string kind = "dnscrypt";
    stamp::Stamp s;
    std::string provider_key;
    std::vector<std::string> hashes;
    bool dnssec = false, nolog = false, nofilter = false;
    encode->add_option(
        "--protocol", kind,
        "plain, dnscrypt, doh, dot, doq, odoh-target, relay, odoh-relay (default dnscrypt)");
    encode->add_option("--address", s.address, "IP[:PORT] (IPv6 in brackets)");
    encode->add_option("--provider-name", s.provider_name, "DNSCrypt provider name");
    encode->add_option("--provider-key", provider_key,
                       "DNSCrypt provider key (64 hex digits or XXXX:XXXX:...)");
    encode->add_option("--hostname", s.hostname, "TLS/HTTP host name[:PORT]");
    encode->add_option("--path", s.path, "URI path (DoH, ODoH)");
    encode->add_option("--hash", hashes, "SHA-256 of a certificate's TBS part, hex (repeatable)");
    encode->add_option("--bootstrap", s.bootstrap, "Resolver IP for the host name (repeatable)");
    encode->add_flag("--dnssec", dnssec, "The server validates DNSSEC");
    encode->add_flag("--no-log", nolog, "The server keeps no logs");
    encode->add_flag("--no-filter", nofilter, "The server does not filter");

    try {
        app.parse(argc - 1, argv + 1);
    } catch (const CLI::Success& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "dnscrypt-proxy stamp: %s (see --help)\n", e.what());
        return kExitUsage;
    }

    if (decode->parsed()) {
        // A relay's stamp and a server's, joined by '/' (dnscrypt-proxy 2's routes), or one.
        const bool relayed = text.find('/', 7) != std::string::npos;
        const auto decoded = relayed ? stamp::parse_relayed(text)
                                     : stamp::parse(text).transform([](stamp::Stamp st) {
                                           return stamp::RelayedStamp{{}, std::move(st)};
                                       });
        if (!decoded) {
            std::fprintf(stderr, "dnscrypt-proxy stamp: %s\n",
                         stamp::to_string(decoded.error()).c_str());
            return kExitUsage;
        }
        if (json) {
            const auto out = relayed ? nlohmann::json{{"relay", to_json(decoded->relay)},
                                                      {"server", to_json(decoded->server)}}
                                     : to_json(decoded->server);
            std::printf("%s\n", out.dump(2).c_str());
        } else if (relayed) {
            std::printf("relay:\n");
            print_text(decoded->relay);
            std::printf("server:\n");
            print_text(decoded->server);
        } else {
            print_text(decoded->server);
        }
        return 0;
    }

    bool known = false;
    for (const auto& k : kKinds) {
        if (kind == k.name) {
            s.protocol = k.protocol;
            known = true;
        }
    }
    if (!known) {
        std::fprintf(stderr,
                     "dnscrypt-proxy stamp: --protocol %s: not one of plain, dnscrypt, "
                     "doh, dot, doq, odoh-target, relay, odoh-relay\n",
                     kind.c_str());
        return kExitUsage;
    }
    s.props = (dnssec ? stamp::kDnssec : 0) | (nolog ? stamp::kNoLog : 0) |
              (nofilter ? stamp::kNoFilter : 0);
    if (s.protocol == stamp::Protocol::DnsCryptRelay) s.props = 0;
    if (s.protocol == stamp::Protocol::DnsCrypt) {
        const auto key = dnscrypt::parse_provider_key(provider_key);
        if (!key) {
            std::fprintf(stderr, "dnscrypt-proxy stamp: --provider-key: %s\n",
                         std::string(dnscrypt::to_string(key.error())).c_str());
            return kExitUsage;
        }
        s.provider_key = *key;
    }
    for (const auto& h : hashes) {
        const auto bin = hex_decode(h);
        if (!bin || bin->size() != 32) {
            std::fprintf(stderr, "dnscrypt-proxy stamp: --hash %s: not 64 hex digits\n", h.c_str());
            return kExitUsage;
        }
        stamp::Sha256 digest{};
        std::copy(bin->begin(), bin->end(), digest.begin());
        s.hashes.push_back(digest);
    }
    s.address = without_default_port(s.address, s.protocol);
    s.hostname = without_default_port(s.hostname, s.protocol);
    const auto out = stamp::encode(s);
    if (!out) {
        std::fprintf(stderr, "dnscrypt-proxy stamp: %s\n", stamp::to_string(out.error()).c_str());
        return kExitUsage;
    }
    // Never print a stamp that would not be read back.
    const auto check = stamp::parse(*out);
    if (!check) {
        std::fprintf(stderr, "dnscrypt-proxy stamp: %s\n", stamp::to_string(check.error()).c_str());
        return kExitUsage;
    }
    std::printf("%s\n", out->c_str());
    return 0;
}

}  // namespace dcp::app
