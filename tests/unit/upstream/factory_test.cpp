// The one place that knows the protocols: specs checked and named, and a transport of the
// stamp's protocol made for them.
#include "upstream/factory.hpp"

#include <gtest/gtest.h>

#include "upstream/doh_config.hpp"
#include "upstream/doh_transport.hpp"
#include "upstream/resolver.hpp"
#include "upstream/resolver_config.hpp"

namespace dcp::upstream {
namespace {

stamp::Stamp dnscrypt(const std::string& address = "192.0.2.1:8443") {
    stamp::Stamp st;
    st.protocol = stamp::Protocol::DnsCrypt;
    st.address = address;
    st.provider_name = "2.dnscrypt-cert.example.test";
    st.provider_key.fill(0x42);
    return st;
}

stamp::Stamp doh(const std::string& address = "192.0.2.2") {
    stamp::Stamp st;
    st.protocol = stamp::Protocol::DoH;
    st.address = address;
    st.hostname = "doh.example.test";
    st.path = "/dns-query";
    return st;
}

TEST(Factory, TheSameServerHasTheSameIdWhateverElseItsStampSays) {
    auto a = dnscrypt();
    auto b = dnscrypt();
    b.props = stamp::kDnssec | stamp::kNoLog;  // another list's view of the same server
    const auto sa = make_spec(a, "a");
    const auto sb = make_spec(b, "b");
    ASSERT_TRUE(sa);
    ASSERT_TRUE(sb);
    EXPECT_EQ(sa->id, sb->id);
    EXPECT_EQ(sa->name, "a");

    auto other_key = dnscrypt();
    other_key.provider_key[0] ^= 1;
    EXPECT_NE(make_spec(other_key, "a")->id, sa->id);
    EXPECT_NE(make_spec(dnscrypt("192.0.2.1:443"), "a")->id, sa->id);

    const RelaySpec relay{"relay-1", asio::ip::make_address("198.51.100.1"), 443};
    const auto relayed = make_spec(a, "a", relay);
    ASSERT_TRUE(relayed);
    EXPECT_NE(relayed->id, sa->id);  // another route is another server for the pool
    EXPECT_EQ(relayed->label(), "a via relay-1");

    auto pinned = doh();
    pinned.hashes.push_back({});
    EXPECT_NE(make_spec(doh(), "d")->id, make_spec(pinned, "d")->id);
    // A DoH server is asked directly: a relay route does not apply.
    const auto doh_relayed = make_spec(doh(), "d", relay);
    ASSERT_TRUE(doh_relayed);
    EXPECT_FALSE(doh_relayed->relay);
    EXPECT_EQ(doh_relayed->id, make_spec(doh(), "d")->id);
}

TEST(Factory, WhatATransportWouldRefuseIsRefusedHere) {
    auto no_address = dnscrypt("dns.example.test");
    EXPECT_EQ(make_spec(no_address, "x").error(), "'dns.example.test' is not an address");
    auto bad_name = dnscrypt();
    bad_name.provider_name = "a..b";
    EXPECT_EQ(make_spec(bad_name, "x").error(), "'a..b' is not a domain name");
    auto bad_host = doh();
    bad_host.hostname = "[::1";
    EXPECT_NE(make_spec(bad_host, "x").error().find("is malformed"), std::string::npos);
    stamp::Stamp dot = doh();
    dot.protocol = stamp::Protocol::DoT;
    EXPECT_FALSE(has_transport(stamp::Protocol::DoT));
    EXPECT_EQ(make_spec(dot, "x").error(), "not a DNSCrypt or DoH server");
}

TEST(Factory, TheOriginalSwitchesMakeADnsCryptStamp) {
    const auto st = dnscrypt_stamp(
        "192.0.2.53:443", "2.dnscrypt-cert.example.test",
        "B735:1140:206F:225D:3E2B:D822:D7FD:691E:A1C3:3CC8:D666:8D0C:BE04:BFAB:CA43:FB79");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->protocol, stamp::Protocol::DnsCrypt);
    EXPECT_EQ(st->provider_key[0], 0xB7);
    const auto spec = make_spec(*st, "n");
    ASSERT_TRUE(spec);
    EXPECT_EQ(where(*spec), "192.0.2.53:443");

    const auto bad_key = dnscrypt_stamp("192.0.2.53:443", "2.dnscrypt-cert.example.test", "nope");
    ASSERT_FALSE(bad_key);
    EXPECT_EQ(bad_key.error().part, StampPart::ProviderKey);
    const auto bad_name = dnscrypt_stamp("192.0.2.53:443", "a..b", std::string(64, 'a'));
    ASSERT_FALSE(bad_name);
    EXPECT_EQ(bad_name.error().part, StampPart::ProviderName);
}

TEST(Factory, SettingsEveryServerSharesReachEachProtocol) {
    TransportSettings t;
    t.timeout = std::chrono::milliseconds(1234);
    t.cert_refresh = std::chrono::seconds(60);
    t.tcp_port = 8443;
    t.ephemeral_keys = true;
    const auto spec = make_spec(dnscrypt("192.0.2.1"), "n").value();
    const auto r = resolver_config(spec, t);
    EXPECT_EQ(r.port, 443);
    EXPECT_EQ(r.tcp_port, 8443);
    EXPECT_TRUE(r.tcp_only);  // --tcp-port implies it
    EXPECT_TRUE(r.ephemeral_keys);
    EXPECT_EQ(r.timeout, t.timeout);
    EXPECT_EQ(r.cert_refresh, t.cert_refresh);
    EXPECT_EQ(r.provider_name_text, "2.dnscrypt-cert.example.test");

    const auto d = doh_config(make_spec(doh(), "d").value(), t);
    EXPECT_EQ(d.timeout, t.timeout);
    EXPECT_EQ(d.url(), "https://doh.example.test/dns-query");
    EXPECT_EQ(where(make_spec(doh(), "d").value()), "https://doh.example.test/dns-query");
}

TEST(Factory, EachStampGetsTheTransportOfItsProtocol) {
    asio::io_context io;
    Counters counters;
    SystemClock clock;
    const auto keys = crypto::KeyPair::generate();
    const WorkerContext context{io, counters, clock, keys, nullptr, 2};
    const auto d = make_spec(dnscrypt(), "n").value();
    auto resolver = make_transport(d, {}, context);
    ASSERT_NE(dynamic_cast<Resolver*>(resolver.get()), nullptr);
    // Two servers in all: two UDP sockets each (four for one alone).
    EXPECT_EQ(dynamic_cast<Resolver&>(*resolver).config().udp_sockets, 2U);
    EXPECT_EQ(resolver->describe(),
              "resolver 2.dnscrypt-cert.example.test (192.0.2.1:8443), UDP and TCP");
    EXPECT_FALSE(resolver->ready());  // no certificate yet

    const auto h = make_spec(doh(), "d").value();
    EXPECT_TRUE(needs_tls(h));
    EXPECT_FALSE(needs_tls(d));
    auto transport = make_transport(h, {}, context);
    ASSERT_NE(dynamic_cast<DohTransport*>(transport.get()), nullptr);
    EXPECT_EQ(transport->describe(), "DoH resolver d (https://doh.example.test/dns-query)");
    EXPECT_EQ(transport->way(), "DoH");
}

}  // namespace
}  // namespace dcp::upstream
