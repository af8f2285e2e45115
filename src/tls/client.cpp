#include "tls/client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "common/hex.hpp"
#include "net/deadline.hpp"
#include "net/endpoint.hpp"
#include "stamp/stamp.hpp"

namespace dcp::tls {
namespace {

std::string handshake_failure(SSL* ssl, const asio::error_code& ec) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
        return std::string("certificate verification failed: ") +
               X509_verify_cert_error_string(verify);
    }
    if (ec == asio::error::timed_out) return "TLS handshake timed out";
    return "TLS handshake failed: " + ec.message();
}

// SHA-256 of each certificate's TBSCertificate, as stamps pin them.
std::vector<Pin> chain_hashes(SSL* ssl) {
    std::vector<Pin> out;
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
    if (chain == nullptr) return out;
    std::vector<unsigned char> der;
    for (int i = 0; i < sk_X509_num(chain); ++i) {
        X509* cert = sk_X509_value(chain, i);
        const int len = i2d_re_X509_tbs(cert, nullptr);
        if (len <= 0) continue;
        der.resize(static_cast<std::size_t>(len));
        unsigned char* p = der.data();
        if (i2d_re_X509_tbs(cert, &p) != len) continue;
        Pin h{};
        crypto_hash_sha256(h.data(), der.data(), der.size());
        out.push_back(h);
    }
    return out;
}

// The identity the certificate must prove. Not setting it would leave only the chain checked
// (any publicly trusted certificate would do), so a failure is fatal to the connection.
bool set_identity(SSL* ssl, const std::string& host) {
    if (stamp::is_ip_literal(host)) {
        // The certificate names fe80::1, not fe80::1%eth0 (OpenSSL's parser rejects a zone).
        const std::string ip = host.substr(0, host.find('%'));
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip.c_str()) == 1;
    }
    // SNI (SSL_set_tlsext_host_name, without its C-style cast), then the name to check.
    return SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                    const_cast<char*>(host.c_str())) == 1 &&
           SSL_set1_host(ssl, host.c_str()) == 1;
}

std::optional<std::string> alpn_refused(SSL* ssl, std::string_view wanted,
                                        std::string_view protocol) {
    const unsigned char* alpn = nullptr;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    const std::string_view got(reinterpret_cast<const char*>(alpn), alpn == nullptr ? 0 : alpn_len);
    if (got == wanted) return std::nullopt;
    return "the server does not speak " + std::string(protocol) +
           " (ALPN: " + (got.empty() ? std::string("none") : std::string(got)) + ")";
}

std::optional<std::string> pins_refused(SSL* ssl, const std::vector<Pin>& pins) {
    if (pins.empty()) return std::nullopt;
    const auto chain = chain_hashes(ssl);
    const bool pinned = std::any_of(chain.begin(), chain.end(), [&](const Pin& h) {
        return std::find(pins.begin(), pins.end(), h) != pins.end();
    });
    if (pinned) return std::nullopt;
    std::string seen;
    for (const auto& h : chain) {
        seen += seen.empty() ? "" : ", ";
        seen += hex_encode(Bytes(h.data(), h.size()));
    }
    return "no certificate of the chain has a hash the stamp pins (the chain's: " + seen + ")";
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_client_context() {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    asio::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (ec) spdlog::warn("TLS: cannot load the system's trust store: {}", ec.message());
    ctx->set_verify_mode(asio::ssl::verify_peer);
    return ctx;
}

net::awaitable<dcp::Result<asio::ip::tcp::endpoint, std::string>> connect(Stream& stream,
                                                                          asio::steady_timer& timer,
                                                                          const Peer& peer) {
    std::vector<asio::ip::tcp::endpoint> targets;
    if (peer.address) {
        targets.emplace_back(*peer.address, peer.port);
    } else {
        asio::ip::tcp::resolver resolver(stream.get_executor());
        using namespace net::ops;
        auto r = co_await (
            resolver.async_resolve(peer.host, std::to_string(peer.port), net::use_nothrow) ||
            timer.async_wait(net::use_nothrow));
        if (r.index() == 1) co_return Unexpected("resolving " + peer.host + " timed out");
        const auto& [ec, results] = std::get<0>(r);
        if (ec) co_return Unexpected("cannot resolve " + peer.host + ": " + ec.message());
        for (const auto& e : results) targets.push_back(e.endpoint());
    }
    auto& socket = stream.lowest_layer();
    asio::error_code last = asio::error::host_not_found;
    std::optional<asio::ip::tcp::endpoint> connected;
    for (const auto& ep : targets) {
        asio::error_code ignored;
        socket.close(ignored);
        auto r = co_await net::before_deadline(socket.async_connect(ep, net::use_nothrow), timer);
        if (r) {
            connected = ep;
            break;
        }
        last = r.error();
        if (last == asio::error::timed_out || last == asio::error::operation_aborted) break;
    }
    if (!connected) {
        co_return Unexpected("cannot connect to " +
                             (targets.empty() ? peer.host : net::to_string(targets.back())) + ": " +
                             (last == asio::error::timed_out ? "timed out" : last.message()));
    }
    asio::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);

    SSL* ssl = stream.native_handle();
    // asio sets SSL_MODE_RELEASE_BUFFERS: OpenSSL would free its 16 KiB record buffers whenever
    // they are empty and allocate them again for the next record, i.e. twice per query on a
    // connection that carries one at a time. Keep them (32 KiB per connection).
    SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    if (!set_identity(ssl, peer.host)) {
        co_return Unexpected("cannot check the server's identity '" + peer.host +
                             "' (OpenSSL refused it): not connecting");
    }
    std::string alpn(1, static_cast<char>(peer.alpn.size()));
    alpn += peer.alpn;
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(alpn.data()),
                        static_cast<unsigned>(alpn.size()));
    auto hs = co_await net::before_deadline(
        stream.async_handshake(asio::ssl::stream_base::client, net::use_nothrow), timer);
    if (!hs) co_return Unexpected(handshake_failure(ssl, hs.error()));
    if (auto refused = alpn_refused(ssl, peer.alpn, peer.protocol))
        co_return Unexpected(std::move(*refused));
    if (auto refused = pins_refused(ssl, peer.pins)) co_return Unexpected(std::move(*refused));
    co_return *connected;
}

std::string_view version(Stream& stream) {
    return SSL_get_version(stream.native_handle());
}

}  // namespace dcp::tls
