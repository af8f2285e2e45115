// The program: a stamp tool, or the proxy. Everything else is in app/: the command line
// (cli), the service that starts it (service) and the runtime that runs it (runtime, worker).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <utility>

#include "app/catalogue.hpp"
#include "app/cert_test.hpp"
#include "app/cli.hpp"
#include "app/client_key.hpp"
#include "app/exit_status.hpp"
#include "app/server_list.hpp"
#include "app/service.hpp"
#include "app/stamp_tool.hpp"
#include "config/config.hpp"
#include "crypto/sodium.hpp"

using namespace dcp;

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "stamp") == 0) return app::run_stamp_tool(argc, argv);
    auto cli = app::parse_command_line(argc, argv);
    if (!cli) return cli.error();

    if (!crypto::initialize()) {
        std::fputs("dnscrypt-proxy: libsodium could not be initialised\n", stderr);
        return app::kExitStartup;
    }
    try {
        auto settings = config::validate(cli->options);
        if (cli->list || cli->list_all) {
            return app::print_server_list(settings, cli->list_all, cli->json);
        }
        if (settings.service.test_minutes) {
            if (settings.catalogue) app::choose_catalogue_servers(settings);
            // --test checks the whole configuration: a client key file that would stop the
            // service is an error here too.
            (void)app::load_client_keys(settings.client_key_file);
            return app::run_certificate_test(settings, *settings.service.test_minutes);
        }
        return app::serve(std::move(settings));
    } catch (const config::ConfigError& e) {
        std::fprintf(stderr, "dnscrypt-proxy: %s\n", e.what());
        return app::kExitUsage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dnscrypt-proxy: %s\n", e.what());
        spdlog::critical("fatal: {}", e.what());
        return app::kExitStartup;
    }
}
