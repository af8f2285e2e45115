#include "upstream/lazy_tls.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <asio/ssl/context.hpp>

#include "upstream/doh_transport.hpp"

namespace dcp::upstream {
namespace {

// In a lean build the OpenSSL calls below go through lazy_tls.cpp's forwarders to the dlopen()ed
// library; elsewhere straight to the linked one. Either way they must work once loaded.
TEST(LazyTls, LoadsAndForwards) {
    const auto loaded = load_tls_libraries();
    ASSERT_TRUE(loaded) << loaded.error();
    EXPECT_TRUE(load_tls_libraries());  // once per process, the same answer after

    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    ASSERT_NE(ctx, nullptr);
    SSL* ssl = SSL_new(ctx);
    ASSERT_NE(ssl, nullptr);
    EXPECT_EQ(SSL_set1_host(ssl, "doh.dcp.test"), 1);
    SSL_free(ssl);
    SSL_CTX_free(ctx);

    // The DoH context: the trust store and TLS 1.2 floor, through the same functions.
    const auto tls = make_doh_tls_context();
    ASSERT_NE(tls, nullptr);
    EXPECT_EQ(SSL_CTX_get_verify_mode(tls->native_handle()), SSL_VERIFY_PEER);
}

}  // namespace
}  // namespace dcp::upstream
