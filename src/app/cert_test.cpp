#include "app/cert_test.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

#include "common/clock.hpp"
#include "common/hex.hpp"
#include "common/time_format.hpp"
#include "net/endpoint.hpp"
#include "upstream/cert_fetcher.hpp"
#include "upstream/resolver_config.hpp"

namespace dcp::app {
int run_certificate_test(const config::Settings& settings, std::uint32_t margin_minutes) {
    const auto dnscrypt =
        std::find_if(settings.servers.begin(), settings.servers.end(),
                     [](const auto& s) { return s.stamp.protocol == stamp::Protocol::DnsCrypt; });
    if (dnscrypt == settings.servers.end()) {
        throw config::ConfigError(
            "--test checks a DNSCrypt server's certificate: no DNSCrypt server is configured");
    }
    const auto resolver = upstream::resolver_config(*dnscrypt, settings.transport);
    asio::io_context io;
    SystemClock clock;
    int code = kTestNoCertificate;
    asio::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            const auto choice = co_await upstream::fetch_certificates(resolver, clock);
            if (!choice) {
                std::fprintf(stderr, "no valid certificate from %s at %s: %s\n",
                             resolver.provider_name_text.c_str(),
                             net::to_string(resolver.udp_endpoint()).c_str(),
                             choice.error().reason.c_str());
                co_return;
            }
            const auto& c = *choice->chosen;
            const auto now = clock.now().time_since_epoch().count();
            const auto remaining_minutes = (static_cast<std::int64_t>(c.ts_end) - now) / 60;
            std::printf("resolver %s at %s\n", resolver.provider_name_text.c_str(),
                        net::to_string(resolver.udp_endpoint()).c_str());
            std::printf("certificate serial %u, %s\n", c.serial,
                        std::string(crypto::to_string(c.construction)).c_str());
            std::printf("valid from %s to %s (%lld minutes left)\n", format_utc(c.ts_start).c_str(),
                        format_utc(c.ts_end).c_str(), static_cast<long long>(remaining_minutes));
            std::printf("resolver key %s\n", hex_encode(c.resolver_public_key).c_str());
            if (remaining_minutes >= static_cast<std::int64_t>(margin_minutes)) {
                std::printf("OK: valid for at least %u more minutes\n", margin_minutes);
                code = kTestValid;
            } else {
                std::printf("EXPIRES SOON: valid for less than %u more minutes\n", margin_minutes);
                code = kTestExpiresSoon;
            }
        },
        [](std::exception_ptr e) {
            if (e) std::fputs("certificate test failed: internal error\n", stderr);
        });
    io.run();
    return code;
}

}  // namespace dcp::app
