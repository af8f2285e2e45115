// Stamps: every vector of tests/data/stamps-vectors.json decodes to the independently decoded
// fields and re-encodes byte for byte; every stamp of the four real lists parses; malformed
// stamps are refused with what is wrong and where.

#include "stamp/stamp.hpp"

#include <gtest/gtest.h>

#include "unit/test_files.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/hex.hpp"
#include "crypto/base64.hpp"

namespace dcp::stamp {
namespace {

using nlohmann::json;

using test::read_file;

json vectors() {
    return json::parse(read_file(std::string(DCP_TEST_DATA_DIR) + "/stamps-vectors.json"));
}

std::string hex_of(const auto& bytes) {
    return hex_encode(Bytes(bytes.data(), bytes.size()));
}

TEST(Stamp, EveryVectorDecodesAndRoundTrips) {
    const auto all = vectors();
    ASSERT_EQ(all["valid"].size(), 30U);
    for (const auto& v : all["valid"]) {
        const std::string text = v["stamp"];
        const auto& d = v["decoded"];
        SCOPED_TRACE(v["name"].get<std::string>());
        const auto s = parse(text);
        ASSERT_TRUE(s.has_value()) << to_string(s.error());
        EXPECT_EQ(static_cast<int>(s->protocol), d["proto"].get<int>());
        if (d.contains("props")) {
            EXPECT_EQ(s->props, d["props"].get<std::uint64_t>());
        }
        if (d.contains("addr")) {
            EXPECT_EQ(s->address, d["addr"].get<std::string>());
        }
        if (d.contains("provider_pk")) {
            EXPECT_EQ(hex_of(s->provider_key), d["provider_pk"].get<std::string>());
        }
        if (d.contains("provider_name")) {
            EXPECT_EQ(s->provider_name, d["provider_name"].get<std::string>());
        }
        if (d.contains("hashes")) {
            ASSERT_EQ(s->hashes.size(), d["hashes"].size());
            for (std::size_t i = 0; i < s->hashes.size(); ++i) {
                EXPECT_EQ(hex_of(s->hashes[i]), d["hashes"][i].get<std::string>());
            }
        }
        if (d.contains("hostname")) {
            EXPECT_EQ(s->hostname, d["hostname"].get<std::string>());
        }
        if (d.contains("path")) {
            EXPECT_EQ(s->path, d["path"].get<std::string>());
        }
        const auto again = encode(*s);
        ASSERT_TRUE(again.has_value());
        EXPECT_EQ(*again, text);  // byte for byte
        // The payload too, against the independent decoder's bytes.
        const auto payload =
            crypto::base64_decode(std::string_view(text).substr(7), crypto::Base64::UrlNoPadding);
        ASSERT_TRUE(payload.has_value());
        EXPECT_EQ(hex_of(*payload), d["raw_hex"].get<std::string>());
    }
}

TEST(Stamp, PropertiesAndAddresses) {
    // scaleway-fr: DNSCrypt, dnssec | nolog | nofilter, port 443 by default.
    auto s = parse(
        "sdns://"
        "AQcAAAAAAAAADjIxMi40Ny4yMjguMTM2IOgBuE6mBr-wusDOQ0RbsV66ZLAvo8SqMa4QY2oHkDJNHzIuZG5z"
        "Y3J5cHQtY2VydC5mci5kbnNjcnlwdC5vcmc");
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->dnssec() && s->no_log() && s->no_filter());
    auto a = server_address(*s);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->host, "212.47.228.136");
    EXPECT_EQ(a->port, 443);
    // adguard-dns-family-ipv6: IPv6 with a port; dnssec off, nolog on, filtering.
    s = parse(
        "sdns://"
        "AQMAAAAAAAAAGVsyYTEwOjUwYzA6OmJhZDE6ZmZdOjU0NDMguDFd17FLbuMgpHDcLtaxqjmMyeWG-F1FRda4"
        "ybUAWrohMi5kbnNjcnlwdC5mYW1pbHkubnMxLmFkZ3VhcmQuY29t");
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->dnssec() && s->no_log() && !s->no_filter());
    a = server_address(*s);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->host, "2a10:50c0::bad1:ff");
    EXPECT_EQ(a->port, 5443);
    // DoH: the port from the host name; the address to connect to.
    s = parse(
        "sdns://AgMAAAAAAAAABzkuOS45LjkgsBkgdEu7dsmrBT4B4Ht-BQ5HPSD3n3vqQ1-v5DydJC8SZG5zOS5xdW"
        "FkOS5uZXQ6NDQzCi9kbnMtcXVlcnk");
    ASSERT_TRUE(s.has_value());
    a = server_address(*s);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->host, "9.9.9.9");
    EXPECT_EQ(a->port, 443);
    // DoH without an address: the host name is resolved.
    s = parse(
        "sdns://AgcAAAAAAAAAACAy7bsRzCWPvjPCzSShSScPC-b0RvVyZLO9HCW5hTMnLg5kbnMuZG5zaG9tZS5kZQ"
        "ovZG5zLXF1ZXJ5");
    ASSERT_TRUE(s.has_value());
    a = server_address(*s);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->host, "dns.dnshome.de");
    EXPECT_FALSE(a->is_ip);
    // DoT: 853 by default; the old style's port on the address is honoured.
    s = parse("sdns://AwAAAAAAAAAAAAAPZG5zLmFkZ3VhcmQuY29t");
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(server_address(*s)->port, 853);
    s = parse("sdns://AAcAAAAAAAAADDguOC44Ljg6ODA1Mw");  // plain 8.8.8.8:8053
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(server_address(*s)->port, 8053);
    EXPECT_EQ(server_address(*parse("sdns://AAcAAAAAAAAABzguOC44Ljg"))->port, 53);
    // Relays have no properties.
    s = parse("sdns://gRMxMDIuMjA5LjIxLjE3Njo4NDQz");
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->is_relay());
    EXPECT_EQ(s->props, 0U);
    EXPECT_EQ(server_address(*s)->port, 8443);
}

TEST(Stamp, WithoutSlashesAndRelayedPairs) {
    const auto a = parse("sdns:gQ4xMzcuNzQuMjIzLjIzNA");  // "//" is optional
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->address, "137.74.223.234");
    const auto pair = parse_relayed(
        "sdns://hQcAAAAAAAAAAAAab2RvaC1yZWxheS5lZGdlY29tcHV0ZS5hcHABLw/"
        "BQcAAAAAAAAAF29kb2guY2xvdWRmbGFyZS1kbnMuY29tCi9kbnMtcXVlcnk");
    ASSERT_TRUE(pair.has_value()) << to_string(pair.error());
    EXPECT_EQ(pair->relay.protocol, Protocol::ODoHRelay);
    EXPECT_EQ(pair->server.protocol, Protocol::ODoHTarget);
    EXPECT_EQ(pair->server.hostname, "odoh.cloudflare-dns.com");
    EXPECT_FALSE(parse("sdns://gQ4xMzcuNzQuMjIzLjIzNA/gQ4xMzcuNzQuMjIzLjIzNA").has_value());
    EXPECT_FALSE(parse_relayed("sdns://gQ4xMzcuNzQuMjIzLjIzNA/gQ4xMzcuNzQuMjIzLjIzNA").has_value());
}

TEST(Stamp, BootstrapAddressesRoundTrip) {
    Stamp s;
    s.protocol = Protocol::DoH;
    s.props = kDnssec | kNoLog;
    s.hostname = "doh.example:8443";
    s.path = "/dns-query";
    s.bootstrap = {"192.0.2.53", "[2001:db8::53]:53"};
    const auto text = encode(s);
    ASSERT_TRUE(text.has_value());
    const auto back = parse(*text);
    ASSERT_TRUE(back.has_value()) << to_string(back.error());
    EXPECT_EQ(*back, s);
    EXPECT_EQ(server_address(*back)->port, 8443);
}

std::string error_of(std::string_view text) {
    const auto s = parse(text);
    EXPECT_FALSE(s.has_value()) << text;
    return s ? std::string() : to_string(s.error());
}

std::string stamp_of(std::vector<std::uint8_t> payload) {
    return "sdns://" + crypto::base64_encode(payload, crypto::Base64::UrlNoPadding);
}

TEST(Stamp, MalformedOnesSayWhatAndWhere) {
    const auto all = vectors();  // kept: iterating a member of a temporary would dangle
    for (const auto& v : all["malformed_do_not_use"]) {
        SCOPED_TRACE(v["source"].get<std::string>());
        EXPECT_FALSE(error_of(v["stamp"].get<std::string>()).empty());
    }
    // The Internet-Draft's Test Vector 1: the length says 14, 13 bytes follow.
    EXPECT_EQ(error_of("sdns://AAEAAAAAAAAADlsyMDAxOmRiODo6MV0"),
              "address: length 14 but only 13 bytes left (at byte 9)");
    // dnscrypt-proxy's fixture: a relay with an empty address.
    EXPECT_EQ(error_of("sdns://gQA"), "address: empty (at byte 1)");
    EXPECT_EQ(error_of("https://example.com"), "does not start with sdns: (at character 0)");
    EXPECT_EQ(error_of("sdns://AQcA=AAA"),
              "'=' is not unpadded base64url (a-z A-Z 0-9 - _) (at character 11)");
    EXPECT_EQ(error_of("sdns://AQ+A"),
              "'+' is not unpadded base64url (a-z A-Z 0-9 - _) (at character 9)");
    EXPECT_EQ(error_of("sdns://AB"), "not canonical unpadded base64url (at character 7)");
    EXPECT_EQ(error_of("sdns://"), "empty stamp (at byte 0)");
    EXPECT_EQ(error_of(stamp_of({0x06, 0, 0, 0, 0, 0, 0, 0, 0})),
              "protocol 0x06 is not supported (at byte 0)");
    EXPECT_EQ(error_of(stamp_of({0x01, 7, 0, 0})),
              "properties: 8 bytes needed, 3 left (at byte 1)");
    // DNSCrypt with a 31-byte key.
    std::vector<std::uint8_t> p{0x01, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    for (char c : std::string("1.2.3.4")) p.push_back(static_cast<std::uint8_t>(c));
    p.push_back(31);
    p.insert(p.end(), 31, 0xab);
    p.push_back(1);
    p.push_back('x');
    EXPECT_EQ(error_of(stamp_of(p)), "provider key: 31 bytes, an Ed25519 key has 32 (at byte 17)");
    // Not an IP, an IPv6 without brackets, a bad port, trailing bytes.
    const auto plain = [](std::string addr, std::vector<std::uint8_t> tail = {}) {
        std::vector<std::uint8_t> q{0x00, 0, 0, 0, 0,
                                    0,    0, 0, 0, static_cast<std::uint8_t>(addr.size())};
        q.insert(q.end(), addr.begin(), addr.end());
        q.insert(q.end(), tail.begin(), tail.end());
        return stamp_of(q);
    };
    EXPECT_EQ(error_of(plain("dns.example")),
              "address: 'dns.example' is not an IP address (at byte 9)");
    EXPECT_EQ(error_of(plain("2001:db8::1")),
              "address: IPv6 '2001:db8::1' must be in brackets (at byte 9)");
    EXPECT_EQ(error_of(plain("1.2.3.4:0")), "address: '1.2.3.4:0' is not ip[:port] (at byte 9)");
    EXPECT_EQ(error_of(plain("1.2.3.4:65536")),
              "address: '1.2.3.4:65536' is not ip[:port] (at byte 9)");
    EXPECT_EQ(error_of(plain("1.2.3.4", {0xff})),
              "1 trailing bytes after the last field (at byte 17)");
    EXPECT_TRUE(parse(plain("[2001:db8::1]:53")).has_value());
    // DoH: a 31-byte hash, a path without '/', an empty host name.
    const auto doh = [](std::vector<std::uint8_t> hashes, std::string host, std::string path) {
        std::vector<std::uint8_t> q{0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        q.insert(q.end(), hashes.begin(), hashes.end());
        q.push_back(static_cast<std::uint8_t>(host.size()));
        q.insert(q.end(), host.begin(), host.end());
        q.push_back(static_cast<std::uint8_t>(path.size()));
        q.insert(q.end(), path.begin(), path.end());
        return stamp_of(q);
    };
    std::vector<std::uint8_t> short_hash{31};
    short_hash.insert(short_hash.end(), 31, 1);
    EXPECT_EQ(error_of(doh(short_hash, "h.example", "/q")),
              "certificate hash: 31 bytes, a SHA-256 has 32 (at byte 10)");
    EXPECT_EQ(error_of(doh({0}, "h.example", "q")),
              "path: 'q' does not start with '/' (at byte 21)");
    EXPECT_EQ(error_of(doh({0}, "", "/q")), "host name: '' is not host[:port] (at byte 11)");
    EXPECT_TRUE(parse(doh({0}, "h.example", "/q")).has_value());
}

TEST(Stamp, EncodeRefusesFieldsThatDoNotFit) {
    Stamp s;
    s.protocol = Protocol::DnsCrypt;
    s.address = "192.0.2.1";
    s.provider_name = std::string(256, 'a');
    EXPECT_FALSE(encode(s).has_value());
    s.provider_name = std::string(255, 'a');
    EXPECT_TRUE(encode(s).has_value());
}

TEST(Stamp, SplitHostPort) {
    auto h = split_host_port("[::1]:53");
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->host, "::1");
    EXPECT_EQ(h->port, 53);
    h = split_host_port("::1");  // bare IPv6: no port can be told apart
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->host, "::1");
    EXPECT_FALSE(h->port.has_value());
    EXPECT_FALSE(split_host_port("[::1").has_value());
    EXPECT_FALSE(split_host_port("[::1]x").has_value());
    EXPECT_FALSE(split_host_port("a:").has_value());
    EXPECT_FALSE(split_host_port("a:+1").has_value());
    EXPECT_FALSE(split_host_port("a:053x").has_value());
    EXPECT_TRUE(is_ip_literal("fe80::1%eth0"));
    EXPECT_FALSE(is_ip_literal("fe80::1%"));
    EXPECT_FALSE(is_ip_literal("1.2.3"));
}

}  // namespace
}  // namespace dcp::stamp
