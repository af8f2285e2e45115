#include "app/cli.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>

#include "app/exit_status.hpp"
#include "config/config_file.hpp"
#include "config/option_table.hpp"

#ifndef DCP_VERSION
#define DCP_VERSION "0.0.0"
#endif

namespace dcp::app {
namespace {

// Every row of the option table with a switch, in the table's order.
void add_options(CLI::App& app, config::Options& o, std::string& config_file) {
    app.add_option("-c,--config", config_file,
                   "TOML file whose keys are these switches' long names; switches override it")
        ->type_name("FILE");
    for (const auto& spec : config::option_table()) {
        if (spec.names.empty()) continue;  // a dnscrypt-proxy 2 key only
        const std::string names(spec.names);
        const auto help = config::help_text(spec);
        CLI::Option* option = std::visit(
            [&](auto field) -> CLI::Option* {
                auto& value = field(o);
                using T = std::decay_t<decltype(value)>;
                if constexpr (std::is_same_v<T, bool>) {
                    if (spec.is(config::kNegated)) {
                        return app.add_flag(
                            names, [&value](std::int64_t) { value = false; }, help);
                    }
                    return app.add_flag(names, value, help);
                } else {
                    return app.add_option(names, value, help);
                }
            },
            spec.field);
        if (!spec.type_name.empty()) option->type_name(std::string(spec.type_name));
    }
}

// The --config value, found before the real parse so the file can be read first and the
// command line can then override it.
std::optional<std::string> find_config_file(int argc, char** argv) {
    std::optional<std::string> found;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
            found = argv[++i];
        } else if (arg.rfind("--config=", 0) == 0) {
            found = arg.substr(std::strlen("--config="));
        }
    }
    return found;
}

}  // namespace

dcp::Result<CommandLine, int> parse_command_line(int argc, char** argv) {
    CLI::App app{
        "dnscrypt-proxy: forwards DNS queries to DNSCrypt and DNS-over-HTTPS resolvers, "
        "authenticated and encrypted",
        "dnscrypt-proxy"};
    CommandLine cli;
    config::Options& options = cli.options;
    std::string config_file;
    add_options(app, options, config_file);
    app.add_flag("--list", cli.list,
                 "Print the servers the resolver list knows that pass the filters, and exit");
    app.add_flag("--list-all", cli.list_all,
                 "Print every server the resolver list knows, and exit");
    app.add_flag("--json", cli.json,
                 "With --list or --list-all: JSON, as dnscrypt-proxy 2 prints it");
    app.set_version_flag("-V,--version", std::string("dnscrypt-proxy ") + DCP_VERSION);
    // A switch given twice: the last one wins, as with most Unix tools (and so a wrapper script
    // can append overrides).
    for (auto* opt : app.get_options()) {
        if (opt->get_expected_max() <= 1) {
            opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
        }
    }
    try {
        // The file first; the command line, parsed into the same options, overrides it.
        if (const auto file = find_config_file(argc, argv)) {
            config::load_config_file(*file, options);
        }
        app.parse(argc, argv);
        if (app.count("--user") > 0) options.user_chroot = true;  // the switch always chroots
    } catch (const CLI::Success& e) {
        return Unexpected(app.exit(e));  // --help, --version
    } catch (const CLI::ParseError& e) {
        // A usage error like any other: exit status 2, one line (CLI11's own status and its
        // "Run with --help" line would make scripts tell it apart from a bad value in the file).
        std::fprintf(stderr, "dnscrypt-proxy: %s (see --help)\n", e.what());
        return Unexpected(kExitUsage);
    } catch (const config::ConfigError& e) {
        std::fprintf(stderr, "dnscrypt-proxy: %s\n", e.what());
        return Unexpected(kExitUsage);
    }
    return cli;
}

}  // namespace dcp::app
