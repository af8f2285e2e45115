#include "stamp/stamp.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <utility>

#include "crypto/base64.hpp"

namespace dcp::stamp {
namespace {

constexpr std::string_view kScheme = "sdns:";

StampError error_at(std::size_t offset, std::string what) {
    return StampError{std::move(what), offset, false};
}

bool known_protocol(std::uint8_t id) noexcept {
    switch (static_cast<Protocol>(id)) {
        case Protocol::Plain:
        case Protocol::DnsCrypt:
        case Protocol::DoH:
        case Protocol::DoT:
        case Protocol::DoQ:
        case Protocol::ODoHTarget:
        case Protocol::DnsCryptRelay:
        case Protocol::ODoHRelay:
            return true;
    }
    return false;
}

// Reads the payload field by field; every read is bounds-checked and names its field in errors.
class Reader {
  public:
    Reader(const std::vector<std::uint8_t>& bin, std::size_t start) : bin_(bin), pos_(start) {}

    [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
    [[nodiscard]] bool at_end() const noexcept { return pos_ == bin_.size(); }

    StampResult<std::uint64_t> props() {
        if (bin_.size() - pos_ < 8) {
            return Unexpected(error_at(pos_, "properties: 8 bytes needed, " +
                                                 std::to_string(bin_.size() - pos_) + " left"));
        }
        std::uint64_t v = 0;
        for (int i = 7; i >= 0; --i) v = (v << 8) | bin_[pos_ + static_cast<std::size_t>(i)];
        pos_ += 8;
        return v;
    }

    // LP(x): one length byte, then x.
    StampResult<std::string> lp(std::string_view field) {
        if (pos_ >= bin_.size())
            return Unexpected(error_at(pos_, std::string(field) + ": missing"));
        const std::size_t n = bin_[pos_];
        if (bin_.size() - pos_ - 1 < n) {
            return Unexpected(
                error_at(pos_, std::string(field) + ": length " + std::to_string(n) + " but only " +
                                   std::to_string(bin_.size() - pos_ - 1) + " bytes left"));
        }
        std::string out(bin_.begin() + static_cast<std::ptrdiff_t>(pos_ + 1),
                        bin_.begin() + static_cast<std::ptrdiff_t>(pos_ + 1 + n));
        pos_ += 1 + n;
        return out;
    }

    // VLP(x1..xn): the 0x80 bit of each length says another element follows. An empty set is
    // one 0x00; zero-length elements are skipped, as the reference parser does.
    StampResult<std::vector<std::string>> vlp(std::string_view field) {
        std::vector<std::string> out;
        for (;;) {
            if (pos_ >= bin_.size()) {
                return Unexpected(error_at(pos_, std::string(field) + ": missing"));
            }
            const std::uint8_t v = bin_[pos_];
            const std::size_t n = v & 0x7fU;
            if (bin_.size() - pos_ - 1 < n) {
                return Unexpected(error_at(
                    pos_, std::string(field) + ": length " + std::to_string(n) + " but only " +
                              std::to_string(bin_.size() - pos_ - 1) + " bytes left"));
            }
            if (n != 0) {
                out.emplace_back(bin_.begin() + static_cast<std::ptrdiff_t>(pos_ + 1),
                                 bin_.begin() + static_cast<std::ptrdiff_t>(pos_ + 1 + n));
            }
            pos_ += 1 + n;
            if ((v & 0x80U) == 0) return out;
        }
    }

  private:
    const std::vector<std::uint8_t>& bin_;
    std::size_t pos_ = 0;
};

bool valid_port_text(std::string_view digits, std::uint16_t& port) {
    if (digits.empty() || digits.size() > 5) return false;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 65535) {
        return false;
    }
    port = static_cast<std::uint16_t>(value);
    return true;
}

// An address field that must be an IP literal, maybe with a port (plain, DNSCrypt, relays; the
// old style of DoH & co). `optional`: may be empty.
StampResult<void> check_ip_address(const std::string& addr, std::size_t offset, bool optional) {
    if (addr.empty()) {
        if (optional) return {};
        return Unexpected(error_at(offset, "address: empty"));
    }
    const auto hp = split_host_port(addr);
    if (!hp) return Unexpected(error_at(offset, "address: '" + addr + "' is not ip[:port]"));
    if (hp->host.empty() && optional && hp->port) return {};  // ":port", old DoH style
    if (!is_ip_literal(hp->host)) {
        return Unexpected(error_at(offset, "address: '" + addr + "' is not an IP address"));
    }
    if (hp->host.find(':') != std::string_view::npos && !hp->bracketed) {
        return Unexpected(error_at(offset, "address: IPv6 '" + addr + "' must be in brackets"));
    }
    return {};
}

StampResult<void> check_hostname(const std::string& name, std::size_t offset) {
    const auto hp = split_host_port(name);
    if (name.empty() || !hp || hp->host.empty()) {
        return Unexpected(error_at(offset, "host name: '" + name + "' is not host[:port]"));
    }
    for (const char c : hp->host) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == '/' || c == 0x7f) {
            return Unexpected(
                error_at(offset, "host name: '" + name + "' has a forbidden character"));
        }
    }
    return {};
}

StampResult<std::vector<Sha256>> hashes_of(const std::vector<std::string>& raw,
                                           std::size_t offset) {
    std::vector<Sha256> out;
    for (const auto& h : raw) {
        if (h.size() != 32) {
            return Unexpected(error_at(offset, "certificate hash: " + std::to_string(h.size()) +
                                                   " bytes, a SHA-256 has 32"));
        }
        Sha256 digest{};
        for (std::size_t i = 0; i < 32; ++i) digest[i] = static_cast<std::uint8_t>(h[i]);
        out.push_back(digest);
    }
    return out;
}

// LP(address), checked: an IP literal, maybe with a port; `optional`: may be empty.
StampResult<void> read_address(Reader& r, Stamp& s, bool optional) {
    const auto at = r.pos();
    auto addr = r.lp("address");
    if (!addr) return Unexpected(addr.error());
    s.address = std::move(*addr);
    return check_ip_address(s.address, at, optional);
}

// LP(hostname), LP(path) or just one of them, checked.
StampResult<void> read_hostname(Reader& r, Stamp& s) {
    const auto at = r.pos();
    auto host = r.lp("host name");
    if (!host) return Unexpected(host.error());
    s.hostname = std::move(*host);
    return check_hostname(s.hostname, at);
}

StampResult<void> read_path(Reader& r, Stamp& s) {
    const auto at = r.pos();
    auto path = r.lp("path");
    if (!path) return Unexpected(path.error());
    if (path->empty() || (*path)[0] != '/') {
        return Unexpected(error_at(at, "path: '" + *path + "' does not start with '/'"));
    }
    s.path = std::move(*path);
    return {};
}

StampResult<Stamp> parse_payload(const std::vector<std::uint8_t>& bin) {
    if (bin.empty()) return Unexpected(error_at(0, "empty stamp"));
    if (!known_protocol(bin[0])) {
        static constexpr char kHex[] = "0123456789abcdef";
        return Unexpected(error_at(0, std::string("protocol 0x") + kHex[bin[0] >> 4] +
                                          kHex[bin[0] & 15] + " is not supported"));
    }
    Stamp s;
    s.protocol = static_cast<Protocol>(bin[0]);
    Reader r(bin, 1);
    const auto failed = [](const StampError& e) { return StampResult<Stamp>(Unexpected(e)); };

    if (s.protocol != Protocol::DnsCryptRelay) {
        auto props = r.props();
        if (!props) return failed(props.error());
        s.props = *props;
    }
    switch (s.protocol) {
        case Protocol::Plain:
        case Protocol::DnsCryptRelay:
            if (auto e = read_address(r, s, false); !e) return failed(e.error());
            break;
        case Protocol::DnsCrypt: {
            if (auto e = read_address(r, s, false); !e) return failed(e.error());
            auto at = r.pos();
            auto pk = r.lp("provider key");
            if (!pk) return failed(pk.error());
            if (pk->size() != 32) {
                return failed(error_at(at, "provider key: " + std::to_string(pk->size()) +
                                               " bytes, an Ed25519 key has 32"));
            }
            for (std::size_t i = 0; i < 32; ++i) {
                s.provider_key[i] = static_cast<std::uint8_t>((*pk)[i]);
            }
            at = r.pos();
            auto name = r.lp("provider name");
            if (!name) return failed(name.error());
            if (name->empty()) return failed(error_at(at, "provider name: empty"));
            s.provider_name = std::move(*name);
            break;
        }
        case Protocol::DoH:
        case Protocol::DoT:
        case Protocol::DoQ:
        case Protocol::ODoHRelay: {
            if (auto e = read_address(r, s, true); !e) return failed(e.error());
            auto at = r.pos();
            auto hashes = r.vlp("certificate hashes");
            if (!hashes) return failed(hashes.error());
            auto digests = hashes_of(*hashes, at);
            if (!digests) return failed(digests.error());
            s.hashes = std::move(*digests);
            if (auto e = read_hostname(r, s); !e) return failed(e.error());
            if (s.protocol == Protocol::DoH || s.protocol == Protocol::ODoHRelay) {
                if (auto e = read_path(r, s); !e) return failed(e.error());
            }
            if (!r.at_end()) {
                at = r.pos();
                auto boot = r.vlp("bootstrap addresses");
                if (!boot) return failed(boot.error());
                for (const auto& b : *boot) {
                    if (auto e = check_ip_address(b, at, false); !e) {
                        return failed(error_at(at, "bootstrap " + e.error().what));
                    }
                }
                s.bootstrap = std::move(*boot);
            }
            break;
        }
        case Protocol::ODoHTarget:
            if (auto e = read_hostname(r, s); !e) return failed(e.error());
            if (auto e = read_path(r, s); !e) return failed(e.error());
            break;
    }
    if (!r.at_end()) {
        return failed(error_at(r.pos(), std::to_string(bin.size() - r.pos()) +
                                            " trailing bytes after the last field"));
    }
    return s;
}

StampResult<std::vector<std::uint8_t>> decode_text(std::string_view text, std::size_t offset) {
    auto bin = crypto::base64_decode(text, crypto::Base64::UrlNoPadding);
    if (!bin) {
        // Point at the first character outside the alphabet, if there is one.
        std::size_t bad = 0;
        while (bad < text.size()) {
            const char c = text[bad];
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_')) {
                break;
            }
            ++bad;
        }
        std::string what = bad < text.size() ? std::string("'") + text[bad] +
                                                   "' is not unpadded base64url (a-z A-Z 0-9 - _)"
                                             : std::string("not canonical unpadded base64url");
        return Unexpected(
            StampError{std::move(what), offset + (bad < text.size() ? bad : 0), true});
    }
    return std::move(*bin);
}

// "sdns:" then an optional "//": where the payload text starts, or an error.
StampResult<std::size_t> payload_start(std::string_view text) {
    if (text.substr(0, kScheme.size()) != kScheme) {
        return Unexpected(StampError{"does not start with sdns:", 0, true});
    }
    std::size_t at = kScheme.size();
    if (text.substr(at, 2) == "//") at += 2;
    return at;
}

}  // namespace

std::string to_string(const StampError& e) {
    return e.what + (e.in_text ? " (at character " : " (at byte ") + std::to_string(e.offset) + ")";
}

std::string_view protocol_name(Protocol p) noexcept {
    switch (p) {
        case Protocol::Plain:
            return "plain DNS";
        case Protocol::DnsCrypt:
            return "DNSCrypt";
        case Protocol::DoH:
            return "DoH";
        case Protocol::DoT:
            return "DoT";
        case Protocol::DoQ:
            return "DoQ";
        case Protocol::ODoHTarget:
            return "ODoH target";
        case Protocol::DnsCryptRelay:
            return "DNSCrypt relay";
        case Protocol::ODoHRelay:
            return "ODoH relay";
    }
    return "unknown";
}

std::uint16_t default_port(Protocol p) noexcept {
    switch (p) {
        case Protocol::Plain:
            return 53;
        case Protocol::DoT:
        case Protocol::DoQ:
            return 853;
        default:
            return 443;
    }
}

StampResult<Stamp> parse(std::string_view text) {
    const auto start = payload_start(text);
    if (!start) return Unexpected(start.error());
    const auto body = text.substr(*start);
    if (body.find('/') != std::string_view::npos) {
        return Unexpected(StampError{
            "a relay and a server (sdns://relay/server): not a single stamp", *start, true});
    }
    auto bin = decode_text(body, *start);
    if (!bin) return Unexpected(bin.error());
    return parse_payload(*bin);
}

StampResult<RelayedStamp> parse_relayed(std::string_view text) {
    const auto start = payload_start(text);
    if (!start) return Unexpected(start.error());
    const auto body = text.substr(*start);
    const auto slash = body.find('/');
    if (slash == std::string_view::npos) {
        return Unexpected(StampError{"no '/' between a relay and a server", *start, true});
    }
    auto relay_bin = decode_text(body.substr(0, slash), *start);
    if (!relay_bin) return Unexpected(relay_bin.error());
    auto server_bin = decode_text(body.substr(slash + 1), *start + slash + 1);
    if (!server_bin) return Unexpected(server_bin.error());
    auto relay = parse_payload(*relay_bin);
    if (!relay) return Unexpected(StampError{"relay: " + relay.error().what, relay.error().offset});
    auto server = parse_payload(*server_bin);
    if (!server) {
        return Unexpected(StampError{"server: " + server.error().what, server.error().offset});
    }
    if (!relay->is_relay()) return Unexpected(StampError{"relay: not a relay stamp", 0});
    if (server->is_relay()) return Unexpected(StampError{"server: a relay stamp", 0});
    return RelayedStamp{std::move(*relay), std::move(*server)};
}

std::optional<SplitHostPort> split_host_port(std::string_view text) {
    SplitHostPort out;
    std::string_view rest;
    if (!text.empty() && text[0] == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        out.host = text.substr(1, close - 1);
        out.bracketed = true;
        rest = text.substr(close + 1);
    } else {
        const auto colon = text.find(':');
        if (colon != std::string_view::npos &&
            text.find(':', colon + 1) != std::string_view::npos) {
            out.host = text;  // a bare IPv6 literal: no port can be told apart
            return out;
        }
        out.host = text.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
    }
    if (rest.empty()) return out;
    if (rest[0] != ':') return std::nullopt;
    std::uint16_t port = 0;
    if (!valid_port_text(rest.substr(1), port)) return std::nullopt;
    out.port = port;
    return out;
}

bool is_ip_literal(std::string_view host) {
    if (host.empty() || host.size() > 63) return false;
    std::string text(host);
    unsigned char buf[16];
    if (text.find(':') != std::string::npos) {
        const auto zone = text.find('%');  // fe80::1%eth0: the zone is the OS's business
        if (zone != std::string::npos) {
            if (zone + 1 == text.size()) return false;
            text.resize(zone);
        }
        return inet_pton(AF_INET6, text.c_str(), buf) == 1;
    }
    return inet_pton(AF_INET, text.c_str(), buf) == 1;
}

StampResult<HostPort> server_address(const Stamp& s) {
    HostPort out;
    out.port = default_port(s.protocol);
    std::optional<SplitHostPort> addr;
    if (!s.address.empty()) {
        addr = split_host_port(s.address);
        if (!addr) return Unexpected(StampError{"address: '" + s.address + "' is malformed", 0});
    }
    switch (s.protocol) {
        case Protocol::Plain:
        case Protocol::DnsCrypt:
        case Protocol::DnsCryptRelay:
            if (!addr) return Unexpected(StampError{"address: empty", 0});
            out.host = std::string(addr->host);
            out.is_ip = true;
            if (addr->port) out.port = *addr->port;
            return out;
        default:
            break;
    }
    // DoH & co: the port is on the host name (new style) or on the address (old style).
    const auto host = split_host_port(s.hostname);
    if (!host) return Unexpected(StampError{"host name: '" + s.hostname + "' is malformed", 0});
    if (host->port) {
        out.port = *host->port;
    } else if (addr && addr->port) {
        out.port = *addr->port;
    }
    if (addr && !addr->host.empty()) {
        out.host = std::string(addr->host);
        out.is_ip = true;
    } else {
        out.host = std::string(host->host);
        out.is_ip = is_ip_literal(host->host);
    }
    return out;
}

}  // namespace dcp::stamp
