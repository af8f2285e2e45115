// Minisign: the deterministic vectors (pre-hashed and legacy), every real .minisig, a flipped bit
// anywhere refused with its reason, and interop with Debian's minisign program.

#include "minisign/minisign.hpp"

#include <gtest/gtest.h>

#include "unit/test_files.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "common/hex.hpp"

namespace dcp::minisign {
namespace {

using test::read_file;

Bytes bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

const std::string kData = DCP_TEST_DATA_DIR;
const std::string kLists = DCP_REPO_DATA_DIR "/resolvers-v3";
constexpr const char* kOfficialKey = "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3";

TEST(Minisign, PublicKeys) {
    const auto k = parse_public_key(kOfficialKey);
    ASSERT_TRUE(k.has_value());
    EXPECT_EQ(key_id_text(k->key_id), "E7620F1842B4E81F");
    EXPECT_EQ(hex_encode(k->key),
              "79a561e70ee08cd3e754c63e9bd6b9c3520a1d4204cd104da2e7ef763b1853b7");
    const auto file = parse_public_key_file(read_file(kLists + "/minisign.pub"));
    ASSERT_TRUE(file.has_value());
    EXPECT_EQ(file->key, k->key);
    const auto snakeoil =
        parse_public_key_file(read_file(kData + "/dnscrypt-proxy-testdata/snakeoil.pub"));
    ASSERT_TRUE(snakeoil.has_value());
    EXPECT_EQ(key_id_text(snakeoil->key_id), "956181C0EA8BF961");
    const auto vectors =
        nlohmann::json::parse(read_file(kData + "/minisign/minisign-vectors.json"));
    const auto test = parse_public_key_file(read_file(kData + "/minisign/test.pub"));
    ASSERT_TRUE(test.has_value());
    EXPECT_EQ(key_id_text(test->key_id), vectors["key_id_display"].get<std::string>());
    EXPECT_EQ(hex_encode(test->key_id), vectors["key_id_bytes"].get<std::string>());
    EXPECT_EQ(hex_encode(test->key), vectors["ed25519_pk"].get<std::string>());

    for (const char* bad : {"", "RWQ", "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO",
                            "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3AA",
                            "QWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"}) {
        const auto r = parse_public_key(bad);
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::BadPublicKey);
    }
}

TEST(Minisign, DeterministicVectors) {
    const auto key = parse_public_key_file(read_file(kData + "/minisign/test.pub")).value();
    const auto message = read_file(kData + "/minisign/test-message.txt");
    const auto vectors =
        nlohmann::json::parse(read_file(kData + "/minisign/minisign-vectors.json"));
    for (const auto& [alg, v] : vectors["signatures"].items()) {
        SCOPED_TRACE(alg);
        const auto text = read_file(kData + "/minisign/" + v["file"].get<std::string>());
        EXPECT_EQ(text, v["minisig_text"].get<std::string>());
        const auto sig = parse_signature(text);
        ASSERT_TRUE(sig.has_value()) << to_string(sig.error());
        EXPECT_EQ(sig->algorithm, alg == "ED" ? Algorithm::Prehashed : Algorithm::Legacy);
        EXPECT_EQ(hex_encode(sig->signature), v["signature_hex"].get<std::string>());
        EXPECT_EQ(hex_encode(sig->global_signature), v["global_signature_hex"].get<std::string>());
        const auto ok = verify(key, *sig, bytes_of(message));
        ASSERT_TRUE(ok.has_value()) << to_string(ok.error());
        EXPECT_EQ(*ok, v["trusted_comment"].get<std::string>());
    }
}

TEST(Minisign, EveryRealListVerifies) {
    const auto key = parse_public_key(kOfficialKey).value();
    for (const char* name :
         {"public-resolvers.md", "relays.md", "odoh-servers.md", "odoh-relays.md"}) {
        const auto file = read_file(kLists + "/" + name);
        const auto comment =
            verify(key, read_file(kLists + "/" + name + ".minisig"), bytes_of(file));
        ASSERT_TRUE(comment.has_value()) << name << ": " << to_string(comment.error());
        EXPECT_NE(comment->find(std::string("file:") + name), std::string::npos);
    }
    const auto snakeoil =
        parse_public_key_file(read_file(kData + "/dnscrypt-proxy-testdata/snakeoil.pub")).value();
    for (const char* name : {"empty.md", "minimal_relay.md"}) {
        const auto base = kData + "/dnscrypt-proxy-testdata/" + name;
        EXPECT_TRUE(verify(snakeoil, read_file(base + ".minisig"), bytes_of(read_file(base))))
            << name;
        // The other key: refused before any cryptography.
        const auto other = verify(key, read_file(base + ".minisig"), bytes_of(read_file(base)));
        ASSERT_FALSE(other.has_value());
        EXPECT_EQ(other.error().code, ErrorCode::KeyIdMismatch);
        EXPECT_EQ(to_string(other.error()),
                  "signed by another key: key id 956181C0EA8BF961, expected E7620F1842B4E81F");
    }
}

// Every bit of the file, of the signature line, of the trusted comment and of the global
// signature matters, in both algorithms.
TEST(Minisign, AnyFlippedBitIsRefusedWithItsReason) {
    const auto key = parse_public_key_file(read_file(kData + "/minisign/test.pub")).value();
    const auto message = read_file(kData + "/minisign/test-message.txt");
    for (const char* file : {"test-message.txt.minisig", "test-message.txt.legacy.minisig"}) {
        SCOPED_TRACE(file);
        const auto sig = parse_signature(read_file(kData + "/minisign/" + file)).value();
        for (std::size_t i = 0; i < message.size() * 8; ++i) {
            auto m = message;
            m[i / 8] = static_cast<char>(m[i / 8] ^ (1 << (i % 8)));
            const auto r = verify(key, sig, bytes_of(m));
            ASSERT_FALSE(r.has_value()) << "message bit " << i;
            EXPECT_EQ(r.error().code, ErrorCode::BadFileSignature);
        }
        for (std::size_t i = 0; i < 64 * 8; ++i) {
            auto s = sig;
            s.signature[i / 8] ^= static_cast<std::uint8_t>(1 << (i % 8));
            const auto r = verify(key, s, bytes_of(message));
            ASSERT_FALSE(r.has_value()) << "signature bit " << i;
            EXPECT_EQ(r.error().code, ErrorCode::BadFileSignature);
            s = sig;
            s.global_signature[i / 8] ^= static_cast<std::uint8_t>(1 << (i % 8));
            const auto g = verify(key, s, bytes_of(message));
            ASSERT_FALSE(g.has_value()) << "global signature bit " << i;
            EXPECT_EQ(g.error().code, ErrorCode::BadGlobalSignature);
        }
        for (std::size_t i = 0; i < sig.trusted_comment.size() * 8; ++i) {
            auto s = sig;
            s.trusted_comment[i / 8] = static_cast<char>(s.trusted_comment[i / 8] ^ (1 << (i % 8)));
            const auto r = verify(key, s, bytes_of(message));
            ASSERT_FALSE(r.has_value()) << "comment bit " << i;
            EXPECT_EQ(r.error().code, ErrorCode::BadGlobalSignature);
        }
        for (std::size_t i = 0; i < 64; ++i) {
            auto s = sig;
            s.key_id[i / 8] ^= static_cast<std::uint8_t>(1 << (i % 8));
            const auto r = verify(key, s, bytes_of(message));
            ASSERT_FALSE(r.has_value()) << "key id bit " << i;
            EXPECT_EQ(r.error().code, ErrorCode::KeyIdMismatch);
        }
        // The algorithm: the other one's check fails; an unknown one is refused by name.
        auto s = sig;
        s.algorithm = s.algorithm == Algorithm::Legacy ? Algorithm::Prehashed : Algorithm::Legacy;
        EXPECT_EQ(verify(key, s, bytes_of(message)).error().code, ErrorCode::BadFileSignature);
    }
    // One appended byte to a real list.
    const auto official = parse_public_key(kOfficialKey).value();
    auto relays = read_file(kLists + "/relays.md");
    relays += "\n";
    EXPECT_EQ(
        verify(official, read_file(kLists + "/relays.md.minisig"), bytes_of(relays)).error().code,
        ErrorCode::BadFileSignature);
}

TEST(Minisign, MalformedSignatureFiles) {
    const auto good = read_file(kData + "/minisign/test-message.txt.minisig");
    const auto first_nl = good.find('\n');
    const auto expect_bad = [](const std::string& text, ErrorCode code, const std::string& words) {
        const auto r = parse_signature(text);
        ASSERT_FALSE(r.has_value()) << text;
        EXPECT_EQ(r.error().code, code);
        EXPECT_NE(to_string(r.error()).find(words), std::string::npos) << to_string(r.error());
    };
    expect_bad("", ErrorCode::BadSignatureFile, "0 lines");
    expect_bad(good.substr(0, good.rfind('\n', good.size() - 2) + 1), ErrorCode::BadSignatureFile,
               "3 lines");
    expect_bad("comment\n" + good.substr(first_nl + 1), ErrorCode::BadSignatureFile, "line 1");
    // A truncated signature line.
    auto truncated = good;
    truncated.erase(first_nl + 1 + 10, 4);
    expect_bad(truncated, ErrorCode::BadSignatureFile, "line 2");
    auto unknown = good;
    unknown[first_nl + 1 + 2] = 'X';  // "RUQ" -> "RUX": the second algorithm byte changes
    const auto r = parse_signature(unknown);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::UnsupportedAlgorithm);
    // Windows line endings are fine (minisign strips '\r' too).
    std::string crlf;
    for (char c : good) {
        if (c == '\n') crlf += '\r';
        crlf += c;
    }
    const auto key = parse_public_key_file(read_file(kData + "/minisign/test.pub")).value();
    EXPECT_TRUE(verify(key, crlf, bytes_of(read_file(kData + "/minisign/test-message.txt"))));
}

// Signs with Debian's minisign (a key made here, unencrypted) and checks that our verifier
// accepts both kinds of signature and refuses tampered copies. Skipped, loudly, without it;
// in CI (CI=true), where install-deps.sh has run, its absence is a failure.
TEST(Minisign, InteropWithTheMinisignProgram) {
    if (std::system("minisign -v >/dev/null 2>&1") != 0) {
        const char* ci = std::getenv("CI");
        if (ci != nullptr && std::string_view(ci) == "true") {
            FAIL() << "minisign is not installed, and CI must run this test";
        }
        GTEST_SKIP() << "minisign is not installed (scripts/install-deps.sh installs it)";
    }
    const auto dir =
        std::filesystem::temp_directory_path() / ("dcp-minisign-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto d = dir.string();
    ASSERT_EQ(std::system(("cd " + d + " && minisign -G -W -p k.pub -s k.key >/dev/null").c_str()),
              0);
    {
        std::ofstream f(d + "/list.md", std::ios::binary);
        f << "# list\n\n## one\n\nA server for the test\n\nsdns://AAcAAAAAAAAABzguOC44Ljg\n";
    }
    ASSERT_EQ(std::system(("cd " + d +
                           " && minisign -S -W -s k.key -m list.md -x list.md.minisig "
                           "-t 'made by the interop test' >/dev/null && minisign -S -W -l -s k.key "
                           "-m list.md -x list.md.legacy.minisig >/dev/null")
                              .c_str()),
              0);
    const auto key = parse_public_key_file(read_file(d + "/k.pub"));
    ASSERT_TRUE(key.has_value());
    const auto list = read_file(d + "/list.md");
    const auto hashed = parse_signature(read_file(d + "/list.md.minisig"));
    ASSERT_TRUE(hashed.has_value());
    EXPECT_EQ(hashed->algorithm, Algorithm::Prehashed);  // minisign's default since 0.10
    const auto comment = verify(key.value(), *hashed, bytes_of(list));
    ASSERT_TRUE(comment.has_value()) << to_string(comment.error());
    EXPECT_EQ(*comment, "made by the interop test");
    const auto legacy = parse_signature(read_file(d + "/list.md.legacy.minisig"));
    ASSERT_TRUE(legacy.has_value());
    EXPECT_EQ(legacy->algorithm, Algorithm::Legacy);
    EXPECT_TRUE(verify(key.value(), *legacy, bytes_of(list)));
    auto tampered = list;
    tampered[tampered.size() - 3] = 'h';
    EXPECT_EQ(verify(key.value(), *hashed, bytes_of(tampered)).error().code,
              ErrorCode::BadFileSignature);
    EXPECT_EQ(verify(key.value(), *legacy, bytes_of(tampered)).error().code,
              ErrorCode::BadFileSignature);
    // And the other way: the reference tool agrees with us on the same files.
    EXPECT_EQ(std::system(("cd " + d + " && minisign -V -q -p k.pub -m list.md").c_str()), 0);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dcp::minisign
