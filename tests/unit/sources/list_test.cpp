// Resolver lists: the four real lists parse completely; the format's corner cases.

#include "sources/list.hpp"

#include "sources/selection.hpp"

#include <gtest/gtest.h>

#include "unit/test_files.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace dcp::sources {
namespace {

using test::read_file;

const std::string kLists = DCP_REPO_DATA_DIR "/resolvers-v3";

TEST(List, RealListsParseCompletely) {
    struct Expect {
        const char* file;
        std::size_t entries;
    };
    for (const auto& [file, entries] :
         {Expect{"public-resolvers.md", 816}, Expect{"relays.md", 346},
          Expect{"odoh-servers.md", 146}, Expect{"odoh-relays.md", 2}}) {
        SCOPED_TRACE(file);
        const auto list = parse_list(read_file(kLists + "/" + file));
        EXPECT_EQ(list.entries.size(), entries);
        EXPECT_TRUE(list.problems.empty())
            << list.problems.front().name << ": " << list.problems.front().what;
    }
    const auto all = parse_list(read_file(kLists + "/public-resolvers.md"));
    std::size_t dnscrypt = 0, doh = 0;
    for (const auto& e : all.entries) {
        for (const auto& s : e.stamps) {
            dnscrypt += s.protocol == stamp::Protocol::DnsCrypt;
            doh += s.protocol == stamp::Protocol::DoH;
        }
    }
    EXPECT_EQ(dnscrypt, 436U);
    EXPECT_EQ(doh, 483U);
    const auto relays = parse_list(read_file(kLists + "/relays.md"));
    for (const auto& e : relays.entries) {
        for (const auto& s : e.stamps) EXPECT_EQ(s.protocol, stamp::Protocol::DnsCryptRelay);
    }
    // A known entry, whole.
    const auto it = std::find_if(all.entries.begin(), all.entries.end(),
                                 [](const ListEntry& e) { return e.name == "scaleway-fr"; });
    ASSERT_NE(it, all.entries.end());
    ASSERT_EQ(it->stamps.size(), 1U);
    EXPECT_EQ(it->stamps[0].provider_name, "2.dnscrypt-cert.fr.dnscrypt.org");
    EXPECT_FALSE(it->description.empty());
}

TEST(List, CornerCases) {
    const auto list = parse_list(
        "# title\npreamble sdns://AAcAAAAAAAAABzguOC44Ljg is ignored\n\n"
        "## first\n\nTwo lines\nof description\n// a comment\n\n"
        "sdns://AAcAAAAAAAAABzguOC44Ljg\n  sdns://AAcAAAAAAAAADDguOC44Ljg6ODA1Mw  \n\n"
        "## no-stamp\n\nOnly words.\n\n"
        "## bad-stamp\n\nsdns://gQA\nsdns://gQ4xMzcuNzQuMjIzLjIzNA\n\n"
        "##   \n\n",
        "test:");
    ASSERT_EQ(list.entries.size(), 2U);
    EXPECT_EQ(list.entries[0].name, "test:first");
    EXPECT_EQ(list.entries[0].description, "Two lines\nof description");
    EXPECT_EQ(list.entries[0].stamps.size(), 2U);  // alternates, in order
    EXPECT_EQ(list.entries[0].stamps[1].address, "8.8.8.8:8053");
    EXPECT_EQ(list.entries[1].name, "test:bad-stamp");  // the good stamp is kept
    EXPECT_EQ(list.entries[1].stamps.size(), 1U);
    ASSERT_EQ(list.problems.size(), 3U);
    EXPECT_EQ(list.problems[0].name, "test:no-stamp");
    EXPECT_EQ(list.problems[1].name, "test:bad-stamp");
    EXPECT_NE(list.problems[1].what.find("address: empty"), std::string::npos);
    EXPECT_EQ(list.problems[2].what, "an entry without a name");
}

TEST(List, DnscryptProxyFixtures) {
    const auto empty = parse_list(read_file(DCP_TEST_DATA_DIR "/dnscrypt-proxy-testdata/empty.md"));
    EXPECT_TRUE(empty.entries.empty());
    ASSERT_EQ(empty.problems.size(), 1U);
    EXPECT_NE(empty.problems[0].what.find("no servers"), std::string::npos);
    const auto relay =
        parse_list(read_file(DCP_TEST_DATA_DIR "/dnscrypt-proxy-testdata/minimal_relay.md"));
    EXPECT_TRUE(relay.entries.empty());  // its only stamp, sdns://gQA, is too short
    EXPECT_FALSE(relay.problems.empty());
}

TEST(List, GarbageNeverThrows) {
    for (const char* text : {"", "##", "## ", "## \n", "## x\nsdns:", "## x\nsdns:/", "\0## y"}) {
        const auto list = parse_list(text);
        EXPECT_TRUE(list.entries.empty()) << text;
    }
}

// The selection against dnscrypt-proxy 2.1.18's own -list on the same list: the fixtures in
// tests/data/v2-selection/ were printed by the reference binary with each set of settings.
namespace {

std::vector<std::string> names_in(const std::string& file) {
    std::istringstream in(read_file(DCP_TEST_DATA_DIR "/v2-selection/" + file));
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) out.push_back(line);
    }
    return out;
}

std::vector<std::string> selected(const Filters& f) {
    const auto list = parse_list(read_file(kLists + "/public-resolvers.md"));
    std::vector<std::string> out;
    for (const auto& c : select_servers(list.entries, f).servers) out.push_back(c.name);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST(Selection, SameServersAsTheReference) {
    Filters f;
    EXPECT_EQ(selected(f), names_in("defaults.txt"));
    EXPECT_EQ(selected(f).size(), 368U);

    f = Filters{};
    f.ipv4_servers = false;
    f.ipv6_servers = true;
    EXPECT_EQ(selected(f), names_in("ipv6-only.txt"));

    f = Filters{};
    f.require_dnssec = true;
    f.doh_servers = false;
    EXPECT_EQ(selected(f), names_in("dnssec-dnscrypt-only.txt"));

    f = Filters{};
    f.require_nolog = false;
    f.require_nofilter = false;
    f.ipv6_servers = true;
    EXPECT_EQ(selected(f), names_in("no-requirements-both-families.txt"));
    EXPECT_EQ(selected(Filters::everything()), names_in("no-requirements-both-families.txt"));

    // Named servers are taken whatever their properties (quad9's filter-pri filters), still
    // subject to the disabled list and the address family.
    f = Filters{};
    f.server_names = {"scaleway-fr", "cloudflare", "quad9-dnscrypt-ip4-filter-pri",
                      "dnscry.pt-amsterdam-ipv6", "google"};
    f.disabled_server_names = {"google"};
    EXPECT_EQ(selected(f), names_in("names.txt"));

    f = Filters{};
    f.ipv4_servers = false;
    f.ipv6_servers = false;
    f.dnscrypt_servers = false;
    EXPECT_EQ(selected(f), names_in("all-off.txt"));
}

TEST(Selection, RelaysGoToTheirOwnSet) {
    const auto relays = parse_list(read_file(kLists + "/relays.md"));
    const auto s = select_servers(relays.entries, Filters{});
    EXPECT_TRUE(s.servers.empty());
    EXPECT_EQ(s.relays.size(), 183U);  // the 163 IPv6 relays are left out by default
    const auto all = select_servers(relays.entries, Filters::everything());
    EXPECT_EQ(all.relays.size(), 346U);
}

}  // namespace
}  // namespace dcp::sources
