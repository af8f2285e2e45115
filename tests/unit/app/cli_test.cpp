#include "app/cli.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "config/option_table.hpp"
#include "unit/config/option_samples.hpp"

namespace dcp::app {
namespace {

Result<CommandLine, int> parse(std::vector<std::string> args) {
    args.insert(args.begin(), "dnscrypt-proxy");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return parse_command_line(static_cast<int>(args.size()), argv.data());
}

// Every switch of the table, with its long and its short names, sets its row's field.
TEST(CommandLine, EverySwitchSetsItsField) {
    for (const auto& spec : config::option_table()) {
        if (spec.names.empty()) continue;
        std::string rest(spec.names);
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto name = rest.substr(0, comma);
            rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
            // A list: the switch repeated for each of its values.
            std::vector<std::string> args;
            const auto sample = config::test::sample_of(spec);
            for (const auto& a : sample.arguments) args.insert(args.end(), {name, a});
            if (sample.arguments.empty()) args.push_back(name);
            auto cli = parse(args);
            ASSERT_TRUE(cli.has_value()) << name;
            EXPECT_TRUE(config::test::holds_sample(spec, cli->options, spec.is(config::kNegated)))
                << name;
        }
    }
}

TEST(CommandLine, TheLastOfARepeatedSwitchWinsAndAListTakesEveryOne) {
    auto cli =
        parse({"--timeout", "2000", "--timeout", "2500", "-a", "127.0.0.2", "-a", "[::1]:53"});
    ASSERT_TRUE(cli.has_value());
    EXPECT_EQ(cli->options.timeout_ms, 2500u);
    EXPECT_EQ(cli->options.local_addresses, (std::vector<std::string>{"127.0.0.2", "[::1]:53"}));
}

TEST(CommandLine, TheFileIsReadFirstAndTheSwitchesOverrideIt) {
    const std::string path = ::testing::TempDir() + "cli_test.toml";
    {
        std::ofstream f(path);
        f << "timeout = 2000\nlocal-address = [\"127.0.0.9\"]\nno-cache = true\n";
    }
    auto cli = parse({"--timeout", "2500", "-c", path});
    std::remove(path.c_str());
    ASSERT_TRUE(cli.has_value());
    EXPECT_EQ(cli->options.timeout_ms, 2500u);  // the switch, after the file
    EXPECT_EQ(cli->options.local_addresses, std::vector<std::string>{"127.0.0.9"});
    EXPECT_FALSE(cli->options.local.cache);
}

TEST(CommandLine, TheUserSwitchAlwaysChroots) {
    const std::string path = ::testing::TempDir() + "cli_test_v2.toml";
    {
        std::ofstream f(path);
        f << "user_name = 'nobody'\n[static.a]\nstamp = 'sdns://x'\n";
    }
    auto from_file = parse({"-c", path});
    auto overridden = parse({"-c", path, "--user", "daemon"});
    std::remove(path.c_str());
    ASSERT_TRUE(from_file.has_value());
    EXPECT_FALSE(from_file->options.user_chroot);  // dnscrypt-proxy 2's user_name
    ASSERT_TRUE(overridden.has_value());
    EXPECT_TRUE(overridden->options.user_chroot);
    EXPECT_EQ(overridden->options.user, "daemon");
}

TEST(CommandLine, UsageErrorsExitWith2) {
    EXPECT_EQ(parse({"--no-such-switch"}).error(), 2);
    EXPECT_EQ(parse({"--timeout", "soon"}).error(), 2);
    EXPECT_EQ(parse({"--local-port", "70000"}).error(), 2);  // not a port at all
}

}  // namespace
}  // namespace dcp::app
