// Sources: start-up from local copies only, refresh through file:// URLs, and a bad download
// never replacing a good cache. Lists are signed here with libsodium in minisign's format.

#include "sources/source.hpp"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <utime.h>

#include <array>
#include <filesystem>
#include <fstream>

#include "crypto/base64.hpp"
#include "sources/embedded.hpp"
#include "unit/test_files.hpp"

namespace dcp::sources {
namespace {

using test::read_file;

struct TestKey {
    std::array<std::uint8_t, 32> pk{};
    std::array<std::uint8_t, 64> sk{};
    std::array<std::uint8_t, 8> id{1, 2, 3, 4, 5, 6, 7, 8};

    TestKey() { crypto_sign_keypair(pk.data(), sk.data()); }

    [[nodiscard]] std::string public_key() const {
        std::vector<std::uint8_t> bin(42);
        bin[0] = 'E';
        bin[1] = 'd';
        std::copy(id.begin(), id.end(), bin.begin() + 2);
        std::copy(pk.begin(), pk.end(), bin.begin() + 10);
        return crypto::base64_encode(bin, crypto::Base64::Original);
    }

    // A legacy ("Ed") minisign signature file for `text`.
    [[nodiscard]] std::string sign(const std::string& text, long long timestamp) const {
        std::array<std::uint8_t, 64> sig{};
        crypto_sign_detached(sig.data(), nullptr,
                             reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                             sk.data());
        std::vector<std::uint8_t> line(74);
        line[0] = 'E';
        line[1] = 'd';
        std::copy(id.begin(), id.end(), line.begin() + 2);
        std::copy(sig.begin(), sig.end(), line.begin() + 10);
        const std::string comment = "timestamp:" + std::to_string(timestamp) + "\tfile:list.md";
        std::vector<std::uint8_t> global_msg(64 + comment.size());
        std::copy(sig.begin(), sig.end(), global_msg.begin());
        std::copy(comment.begin(), comment.end(), global_msg.begin() + 64);
        std::array<std::uint8_t, 64> global{};
        crypto_sign_detached(global.data(), nullptr, global_msg.data(), global_msg.size(),
                             sk.data());
        return "untrusted comment: test\n" + crypto::base64_encode(line, crypto::Base64::Original) +
               "\ntrusted comment: " + comment + "\n" +
               crypto::base64_encode(global, crypto::Base64::Original) + "\n";
    }
};

const std::string kList =
    "# test list\n\n## one\n\nThe first server, for the "
    "tests.\n\nsdns://AAcAAAAAAAAABzguOC44Ljg\n\n"
    "## two\n\nThe second server, for the tests.\n\nsdns://AAcAAAAAAAAADDguOC44Ljg6ODA1Mw\n";

class Sources : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("dcp-sources-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        config_.name = "test";
        config_.cache_file = path("cache/list.md");
        std::filesystem::create_directories(dir_ / "cache");
        config_.minisign_key = key_.public_key();
        config_.refresh_delay = std::chrono::hours(72);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }
    static void write(const std::string& p, const std::string& text) {
        std::ofstream(p, std::ios::binary) << text;
    }
    void serve(const std::string& name, const std::string& text, const std::string& sig) {
        write(path(name), text);
        write(path(name) + ".minisig", sig);
    }
    [[nodiscard]] std::string url(const std::string& name) const { return "file://" + path(name); }

    std::filesystem::path dir_;
    TestKey key_;
    SourceConfig config_;
};

TEST_F(Sources, NothingLocalIsAnErrorNamingTheCache) {
    const auto s = load_at_start(config_, std::chrono::system_clock::now());
    ASSERT_FALSE(s.has_value());
    EXPECT_NE(s.error().find("cache/list.md"), std::string::npos) << s.error();
}

TEST_F(Sources, FreshAndStaleCache) {
    write(config_.cache_file, kList);
    write(config_.cache_file + ".minisig", key_.sign(kList, 1000));
    const auto now = std::chrono::system_clock::now();
    auto s = load_at_start(config_, now);
    ASSERT_TRUE(s.has_value()) << s.error();
    EXPECT_EQ(s->list.entries.size(), 2U);
    EXPECT_FALSE(s->stale);
    EXPECT_EQ(s->origin, "cache " + config_.cache_file);
    // Four days later the same cache is stale, and still used.
    s = load_at_start(config_, now + std::chrono::hours(96));
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->stale);
    EXPECT_EQ(s->list.entries.size(), 2U);
}

TEST_F(Sources, TamperedCacheIsRefused) {
    write(config_.cache_file, kList + "\n");
    write(config_.cache_file + ".minisig", key_.sign(kList, 1000));
    const auto s = load_at_start(config_, std::chrono::system_clock::now());
    ASSERT_FALSE(s.has_value());
    EXPECT_NE(s.error().find("signature does not match the file"), std::string::npos) << s.error();
}

TEST_F(Sources, OfficialListsFallBackToTheEmbeddedCopy) {
    config_.minisign_key = std::string(kOfficialListKey);
    config_.cache_file = path("cache/public-resolvers.md");
    // No cache: the embedded copy, to be refreshed.
    auto s = load_at_start(config_, std::chrono::system_clock::now());
    ASSERT_TRUE(s.has_value()) << s.error();
    EXPECT_EQ(s->origin, "embedded copy");
    EXPECT_EQ(s->list.entries.size(), 816U);
    EXPECT_TRUE(s->stale);
    // A verified cache signed earlier than the embedded copy loses to it.
    const auto e = embedded_list("public-resolvers");
    write(config_.cache_file, std::string(e.text));
    write(config_.cache_file + ".minisig", std::string(e.signature));
    s = load_at_start(config_, std::chrono::system_clock::now());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->origin, "cache " + config_.cache_file);  // the same signature: the cache wins
    EXPECT_FALSE(s->stale);
    // Another name or key: no embedded copy.
    config_.cache_file = path("cache/mine.md");
    EXPECT_FALSE(embedded_name_for(config_).has_value());
    config_.urls = {"https://example.invalid/v3/relays.md"};
    EXPECT_EQ(embedded_name_for(config_), "relays");
    config_.minisign_key = key_.public_key();
    EXPECT_FALSE(embedded_name_for(config_).has_value());
}

TEST_F(Sources, RefreshWritesTheCache) {
    serve("served.md", kList, key_.sign(kList, 2000));
    config_.urls = {url("missing.md"), url("served.md")};
    const auto s = refresh(config_);
    ASSERT_TRUE(s.has_value()) << s.error();
    EXPECT_EQ(s->origin, url("served.md"));
    EXPECT_FALSE(s->stale);
    EXPECT_EQ(s->trusted_comment, "timestamp:2000\tfile:list.md");
    EXPECT_EQ(read_file(config_.cache_file), kList);
    EXPECT_EQ(read_file(config_.cache_file + ".minisig"), key_.sign(kList, 2000));
    const auto again = load_at_start(config_, std::chrono::system_clock::now());
    ASSERT_TRUE(again.has_value());
    EXPECT_FALSE(again->stale);
    // No temporary file left behind.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& f : std::filesystem::directory_iterator(dir_ / "cache")) {
        ++files;
    }
    EXPECT_EQ(files, 2U);
}

TEST_F(Sources, APlantedTemporaryFileIsNeverWrittenThrough) {
    // The cache was written through "<cache>.tmp.<pid>", opened without O_EXCL: a hard link
    // planted there (to a file of root's, at the first start) was truncated and written.
    const std::string victim = path("victim");
    write(victim, "precious\n");
    for (const auto& planted :
         {config_.cache_file + ".tmp." + std::to_string(::getpid()),
          config_.cache_file + ".minisig.tmp." + std::to_string(::getpid())}) {
        std::filesystem::create_hard_link(victim, planted);
    }
    serve("served.md", kList, key_.sign(kList, 2000));
    config_.urls = {url("served.md")};
    const auto s = refresh(config_);
    ASSERT_TRUE(s.has_value()) << s.error();
    EXPECT_EQ(read_file(victim), "precious\n");
    EXPECT_EQ(read_file(config_.cache_file), kList);
    struct stat st {};
    ASSERT_EQ(::stat(config_.cache_file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644U);  // readable by the proxy's user, as before
}

TEST_F(Sources, BadDownloadsNeverReplaceAGoodCache) {
    write(config_.cache_file, kList);
    write(config_.cache_file + ".minisig", key_.sign(kList, 1000));
    const std::string newer =
        kList + "\n## three\n\nA third server for the tests.\n\nsdns://AAcAAAAAAAAABzguOC44Ljg\n";
    TestKey other;
    other.id[0] = 0xee;  // another key, with its own id
    serve("tampered.md", newer, key_.sign(kList, 3000));
    serve("wrong-key.md", newer, other.sign(newer, 3000));
    serve("empty.md", "# nothing\n", key_.sign("# nothing\n", 3000));
    const auto good_sig = key_.sign(newer, 3000);
    serve("truncated.md", newer, good_sig.substr(0, good_sig.size() / 2));
    serve("big.md", newer + std::string(5000, '#'),
          key_.sign(newer + std::string(5000, '#'), 3000));
    config_.limits.max_bytes = 4096;
    for (const auto& [name, words] : std::vector<std::pair<std::string, std::string>>{
             {"tampered.md", "signature does not match the file"},
             {"wrong-key.md", "signed by another key"},
             {"empty.md", "no servers"},
             {"truncated.md", "bad signature file"},
             {"big.md", "larger than 4096 bytes"},
             {"missing.md", "missing.md"}}) {
        SCOPED_TRACE(name);
        config_.urls = {url(name)};
        const auto s = refresh(config_);
        ASSERT_FALSE(s.has_value());
        EXPECT_NE(s.error().find(words), std::string::npos) << s.error();
        EXPECT_EQ(read_file(config_.cache_file), kList);
        EXPECT_EQ(read_file(config_.cache_file + ".minisig"), key_.sign(kList, 1000));
    }
    // Every mirror's failure is reported.
    config_.urls = {url("tampered.md"), url("wrong-key.md")};
    const auto both = refresh(config_);
    ASSERT_FALSE(both.has_value());
    EXPECT_NE(both.error().find("tampered.md"), std::string::npos);
    EXPECT_NE(both.error().find("another key"), std::string::npos);
}

TEST_F(Sources, OnlyHttpsAndFiles) {
    config_.urls = {"http://127.0.0.1:9/list.md", "ftp://127.0.0.1:9/list.md"};
    const auto s = refresh(config_);
    ASSERT_FALSE(s.has_value());
    // Refused before any connection, not merely failed (nothing listens on port 9 either).
    EXPECT_NE(s.error().find("http://127.0.0.1:9/list.md: Protocol \"http\" not supported"),
              std::string::npos)
        << s.error();
    EXPECT_NE(s.error().find("ftp://127.0.0.1:9/list.md: Protocol \"ftp\" not supported"),
              std::string::npos)
        << s.error();
}

}  // namespace
}  // namespace dcp::sources
