#include "upstream/factory.hpp"

#include "common/hex.hpp"
#include "dnscrypt/provider_key.hpp"
#include "net/endpoint.hpp"
#include "upstream/doh_transport.hpp"
#include "upstream/resolver.hpp"

namespace dcp::upstream {
namespace {

// Long-lived UDP sockets per DNSCrypt server: four for one server, fewer when there are many.
std::size_t udp_sockets_for(std::size_t servers) {
    return servers <= 1 ? 4 : servers <= 4 ? 2 : 1;
}

// DoH servers connect at start when there are at most this many servers (DohConfig).
constexpr std::size_t kConnectedAtStart = 16;

dcp::Result<asio::ip::address, std::string> address_of(const stamp::HostPort& where) {
    asio::error_code ec;
    const auto address = asio::ip::make_address(where.host, ec);
    if (ec) return Unexpected("'" + where.host + "' is not an address");
    return address;
}

std::string pins_text(const stamp::Stamp& st) {
    std::string out;
    for (const auto& h : st.hashes) out += hex_encode(Bytes(h.data(), h.size())) + ",";
    return out;
}

// DNSCrypt: where, which provider, which key, through which relay. DoH: the URL, where it is
// reached and the pins. Other fields (properties, bootstrap resolvers) do not make another
// server: the same one from two lists is one server.
std::string id_of(const stamp::Stamp& st, const stamp::HostPort& where,
                  const std::optional<RelaySpec>& relay) {
    const std::string at =
        (where.is_ip ? where.host : std::string()) + "#" + std::to_string(where.port);
    if (st.protocol == stamp::Protocol::DoH) {
        return "doh:" + st.hostname + st.path + "@" + at + "/" + pins_text(st);
    }
    std::string id = "dnscrypt:" + at + "/" + st.provider_name + "/" +
                     hex_encode(Bytes(st.provider_key.data(), st.provider_key.size()));
    if (relay) id += " via " + relay->address.to_string() + "#" + std::to_string(relay->port);
    return id;
}

}  // namespace

DohConfig doh_config(const ServerSpec& spec, const TransportSettings& settings) {
    const auto& st = spec.stamp;
    const auto where = stamp::server_address(st).value();  // checked by make_spec
    DohConfig d;
    d.name = spec.name;
    d.host = std::string(stamp::split_host_port(st.hostname)->host);
    d.authority = st.hostname;
    d.port = where.port;
    d.path = st.path.empty() ? "/dns-query" : st.path;
    if (where.is_ip) d.address = address_of(where).value();
    d.hashes.assign(st.hashes.begin(), st.hashes.end());
    d.timeout = settings.timeout;
    return d;
}

ResolverConfig resolver_config(const ServerSpec& spec, const TransportSettings& settings) {
    const auto& st = spec.stamp;
    const auto where = stamp::server_address(st).value();  // checked by make_spec
    ResolverConfig r;
    r.name = spec.label();
    r.address = address_of(where).value();
    r.port = where.port;
    r.tcp_port = settings.tcp_port.value_or(r.port);
    r.tcp_only = settings.tcp_only || settings.tcp_port.has_value();
    r.provider_name_text = st.provider_name;
    r.provider_name = dns::encode_name(st.provider_name).value();
    r.provider_key = st.provider_key;
    r.ephemeral_keys = settings.ephemeral_keys;
    r.timeout = settings.timeout;
    r.cert_refresh = settings.cert_refresh;
    if (spec.relay) {
        r.relay_address = spec.relay->address;
        r.relay_port = spec.relay->port;
        r.relay_name = spec.relay->name;
    }
    return r;
}

bool has_transport(stamp::Protocol protocol) {
    return protocol == stamp::Protocol::DnsCrypt || protocol == stamp::Protocol::DoH;
}

dcp::Result<ServerSpec, std::string> make_spec(const stamp::Stamp& st, std::string name,
                                               std::optional<RelaySpec> relay) {
    if (!has_transport(st.protocol)) return Unexpected(std::string("not a DNSCrypt or DoH server"));
    const auto where = stamp::server_address(st);
    if (!where) return Unexpected(stamp::to_string(where.error()));
    if (st.protocol == stamp::Protocol::DoH) {
        // Relays carry DNSCrypt only (as in dnscrypt-proxy 2): a DoH server is asked directly.
        relay.reset();
        const auto host = stamp::split_host_port(st.hostname);
        if (!host || host->host.empty()) {
            return Unexpected("host name '" + st.hostname + "' is malformed");
        }
        if (where->is_ip) {
            if (auto a = address_of(*where); !a) return Unexpected(a.error());
        }
    } else {
        if (auto a = address_of(*where); !a) return Unexpected(a.error());
        if (!dns::encode_name(st.provider_name)) {
            return Unexpected("'" + st.provider_name + "' is not a domain name");
        }
    }
    ServerSpec spec;
    spec.id = id_of(st, *where, relay);
    spec.name = std::move(name);
    spec.stamp = st;
    spec.relay = std::move(relay);
    return spec;
}

dcp::Result<stamp::Stamp, StampPartError> dnscrypt_stamp(const std::string& address,
                                                         const std::string& provider_name,
                                                         const std::string& provider_key) {
    stamp::Stamp st;
    st.protocol = stamp::Protocol::DnsCrypt;
    st.address = address;
    const auto key = dnscrypt::parse_provider_key(provider_key);
    if (!key) {
        return Unexpected(
            StampPartError{StampPart::ProviderKey, std::string(dnscrypt::to_string(key.error()))});
    }
    if (!dns::encode_name(provider_name)) {
        return Unexpected(StampPartError{StampPart::ProviderName,
                                         "'" + provider_name + "' is not a domain name"});
    }
    st.provider_name = provider_name;
    st.provider_key = *key;
    return st;
}

std::string where(const ServerSpec& spec) {
    if (spec.stamp.protocol == stamp::Protocol::DoH) return doh_config(spec, {}).url();
    const auto at = stamp::server_address(spec.stamp).value();
    return net::to_string(asio::ip::udp::endpoint(address_of(at).value(), at.port));
}

bool needs_tls(const ServerSpec& spec) {
    return spec.stamp.protocol == stamp::Protocol::DoH;
}

std::unique_ptr<ServerTransport> make_transport(const ServerSpec& spec,
                                                const TransportSettings& settings,
                                                const WorkerContext& context) {
    if (spec.stamp.protocol == stamp::Protocol::DoH) {
        auto config = doh_config(spec, settings);
        config.connect_at_start = context.servers <= kConnectedAtStart;
        return std::make_unique<DohTransport>(context.io, std::move(config), context.tls,
                                              context.counters);
    }
    auto config = resolver_config(spec, settings);
    config.udp_sockets = std::min(config.udp_sockets, udp_sockets_for(context.servers));
    // Each worker's resolver has its own copy of the client's key pair.
    auto keys = crypto::KeyPair::from_secret(context.client_keys.secret_key.view()).value();
    return std::make_unique<Resolver>(context.io, std::move(config), std::move(keys),
                                      context.counters, context.clock);
}

}  // namespace dcp::upstream
