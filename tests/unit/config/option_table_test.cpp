#include "config/option_table.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "config/config.hpp"
#include "config/config_file.hpp"
#include "unit/config/option_samples.hpp"

namespace dcp::config {
namespace {

bool default_flag(const OptionSpec& spec) {
    Options defaults;
    return std::get<FieldOf<bool>>(spec.field)(defaults);
}

TEST(OptionTable, NamesAndKeysAreUnique) {
    std::set<std::string> long_names, v2_keys;
    for (const auto& spec : option_table()) {
        ASSERT_FALSE(spec.long_name().empty() && spec.v2_key.empty()) << spec.help;
        if (!spec.names.empty()) {
            EXPECT_FALSE(spec.help.empty()) << spec.names;
            EXPECT_TRUE(long_names.emplace(spec.long_name()).second) << spec.names;
        }
        if (!spec.v2_key.empty()) {
            EXPECT_TRUE(v2_keys.emplace(spec.v2_key).second) << spec.v2_key;
        }
    }
    EXPECT_EQ(find_option("timeout")->v2_key, "timeout");
    EXPECT_EQ(find_option("pid-file")->long_name(), "pid-file");  // "-p,--pid-file,--pidfile"
    EXPECT_EQ(find_v2_option("max_clients")->long_name(), "max-active-requests");
    EXPECT_EQ(find_option("no-such-switch"), nullptr);
    EXPECT_EQ(find_v2_option(""), nullptr);
}

// Our file's key for every row with a switch: the long name, setting the same field.
TEST(OptionTable, EveryKeyOfOurFileSetsItsField) {
    for (const auto& spec : option_table()) {
        if (spec.long_name().empty() || spec.is(kCommandLineOnly)) continue;
        const std::string key(spec.long_name());
        Options o;
        load_config_text(key + " = " + test::sample_of(spec).toml + "\n", "t.toml", o);
        EXPECT_TRUE(test::holds_sample(spec, o, spec.is(kNegated))) << key;
    }
}

TEST(OptionTable, ACommandLineOnlySwitchIsNoKey) {
    Options o;
    EXPECT_THROW(load_config_text("test = 5\n", "t.toml", o), ConfigError);
}

// Every dnscrypt-proxy 2 key of the table, as its files write it: booleans as they are (cache =
// false turns the cache off), file names relative to the file's directory.
TEST(OptionTable, EveryDnscryptProxy2KeySetsItsField) {
    for (const auto& spec : option_table()) {
        if (spec.v2_key.empty()) continue;
        const std::string key(spec.v2_key);
        auto value = test::sample_of(spec).toml;
        const bool is_flag = std::holds_alternative<FieldOf<bool>>(spec.field);
        // A flag is set to what its default is not, so that reading it shows.
        if (is_flag) value = default_flag(spec) ? "false" : "true";
        Options o;
        // A table too, so that the file is read as dnscrypt-proxy 2's.
        load_config_text(key + " = " + value + "\n[static]\n", "/etc/dcp/v2.toml", o);
        if (is_flag) {
            EXPECT_EQ(std::get<FieldOf<bool>>(spec.field)(o), !default_flag(spec)) << key;
        } else {
            EXPECT_TRUE(test::holds_sample(spec, o, false, spec.is(kV2Path) ? "/etc/dcp/" : ""))
                << key;
        }
    }
}

TEST(OptionTable, RangesAreCheckedWhicheverWayTheValueCame) {
    for (const auto& spec : option_table()) {
        if (!spec.range) continue;
        const std::string name = "--" + std::string(spec.long_name());
        Options o;
        load_config_text(
            std::string(spec.long_name()) + " = " + std::to_string(spec.range->max) + "\n",
            "t.toml", o);
        EXPECT_NO_THROW(check_ranges(o)) << name;
        if (spec.range->max < 65535) {  // one more still fits the field
            Options over;
            load_config_text(
                std::string(spec.long_name()) + " = " + std::to_string(spec.range->max + 1) + "\n",
                "t.toml", over);
            try {
                check_ranges(over);
                ADD_FAILURE() << name << " " << spec.range->max + 1 << " accepted";
            } catch (const ConfigError& e) {
                EXPECT_EQ(std::string(e.what()).rfind(name + ": ", 0), 0u) << e.what();
            }
        }
        if (spec.range->min > 0) {
            Options under;
            load_config_text(
                std::string(spec.long_name()) + " = " + std::to_string(spec.range->min - 1) + "\n",
                "t.toml", under);
            EXPECT_THROW(check_ranges(under), ConfigError) << name;
            EXPECT_THROW((void)validate(under), ConfigError) << name;
        }
    }
}

TEST(OptionTable, TheMessageNamesTheSwitchTheValueAndTheRange) {
    Options o;
    o.timeout_ms = 50;
    try {
        check_ranges(o);
        FAIL() << "50 ms accepted";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "--timeout: 50 ms is outside 100..60000 ms");
    }
}

TEST(OptionTable, HelpShowsTheDefaultOfOptionsAndTheRange) {
    EXPECT_EQ(help_text(*find_option("timeout")),
              "Milliseconds to wait for the resolver before answering SERVFAIL (default 3000; 100 "
              "to 60000 ms)");
    EXPECT_EQ(help_text(*find_option("local-address")),
              "Address to listen on, ip[:port] or [ipv6]:port; repeat for several (default "
              "127.0.0.1:53)");
    EXPECT_EQ(help_text(*find_option("blocked-query-response")),
              "refused, hinfo or a:<IPv4>,aaaa:<IPv6> (default hinfo)");
    // Flags and unset values have no default to show; the help says what unset means.
    EXPECT_EQ(help_text(*find_option("no-cache")).find("default 1"), std::string::npos);
    EXPECT_EQ(help_text(*find_option("threads")),
              "Worker threads, each with its own sockets (default: one per core) (1 to 64)");
    EXPECT_EQ(help_text(*find_option("resolver-address")).find("(default"), std::string::npos);
    // Each default shown is Options'.
    Options defaults;
    for (const auto& spec : option_table()) {
        if (spec.names.empty()) continue;
        if (const auto* f = std::get_if<FieldOf<std::uint32_t>>(&spec.field)) {
            EXPECT_NE(help_text(spec).find("default " + std::to_string((*f)(defaults))),
                      std::string::npos)
                << spec.names;
        }
    }
}

}  // namespace
}  // namespace dcp::config

namespace dcp::config {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::string kRepo = std::string(DCP_TEST_DATA_DIR) + "/../..";

// The example file we ship names every key, and where it writes a value that is not an example
// (local-address: both loopbacks), the value is the default.
TEST(OptionTable, TheShippedExampleFileShowsEveryKeyWithItsDefault) {
    const auto path = kRepo + "/dist/dnscrypt-proxy.toml";
    const auto text = read_file(path);
    ASSERT_FALSE(text.empty()) << path;
    Options example;
    load_config_file(path, example);
    Options defaults;
    for (const auto& spec : option_table()) {
        if (spec.long_name().empty() || spec.is(kCommandLineOnly)) continue;
        const std::string key(spec.long_name());
        EXPECT_NE(text.find("\n" + key + " ="), text.find("\n# " + key + " =")) << key;
        if (key == "local-address") continue;
        const bool same =
            std::visit([&](auto field) { return field(example) == field(defaults); }, spec.field);
        EXPECT_TRUE(same) << key << " in " << path << " is not the default";
    }
}

// The manual page describes every switch.
TEST(OptionTable, TheManualPageNamesEverySwitch) {
    const auto page = read_file(kRepo + "/docs/dnscrypt-proxy.8");
    ASSERT_FALSE(page.empty());
    for (const auto& spec : option_table()) {
        if (spec.long_name().empty()) continue;
        std::string escaped = "\\-\\-";
        for (const char c : spec.long_name()) {
            if (c == '-') escaped += '\\';
            escaped += c;
        }
        EXPECT_NE(page.find(escaped), std::string::npos) << spec.long_name();
    }
}

}  // namespace
}  // namespace dcp::config
