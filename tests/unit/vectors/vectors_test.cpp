// Every entry of tests/data/vectors.json (copied from shared/data) is checked, and the checks are
// shown to depend on every byte: flipping a bit of any byte of any hex leaf, the top byte of any
// number, or the first character of any text the checks read, makes them fail. Two documented
// exceptions, both properties of the protocol rather than gaps in the checks, are listed below.

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/hex.hpp"
#include "dns/message.hpp"
#include "unit/vectors/vector_checks.hpp"

namespace dcp::test {
namespace {

using nlohmann::json;

json load_vectors() {
    std::ifstream in(std::string(DCP_TEST_DATA_DIR) + "/vectors.json");
    EXPECT_TRUE(in.good()) << "cannot open vectors.json";
    return json::parse(in);
}

std::string join(const std::vector<std::string>& lines) {
    std::ostringstream out;
    for (const auto& l : lines) out << "  " << l << "\n";
    return out.str();
}

TEST(Vectors, AllHold) {
    const auto report = check_vectors(load_vectors());
    EXPECT_TRUE(report.failures.empty()) << join(report.failures);
    EXPECT_GT(report.checks, 100);
}

TEST(Vectors, EveryNonDescriptiveLeafIsChecked) {
    const auto root = load_vectors();
    const auto report = check_vectors(root);
    std::vector<std::string> unchecked;
    const auto flat = root.flatten();
    for (const auto& item : flat.items()) {
        const std::string& path = item.key();
        const json::json_pointer ptr(path);
        bool descriptive = false;
        for (json::json_pointer p = ptr; !p.empty(); p = p.parent_pointer()) {
            descriptive |= is_descriptive_key(p.back());
        }
        if (!descriptive && report.consumed.count(path) == 0) unchecked.push_back(path);
    }
    EXPECT_TRUE(unchecked.empty()) << "leaves no check reads:\n" << join(unchecked);
}

// Which bit to flip in byte `index` of the hex leaf at `path`. Bit 0, except in byte 0 of an
// X25519 secret key, whose low three bits are cleared by clamping (RFC 7748 5) and so cannot
// change anything: bit 4 there.
std::uint8_t flip_mask(const std::string& path, std::size_t index) {
    const std::string suffix = "x25519_sk";
    const bool x25519_secret =
        path.size() >= suffix.size() &&
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
    return (x25519_secret && index == 0) ? 0x10 : 0x01;
}

// Byte positions no check may depend on: the TTLs of the certificate TXT records. The proxy
// schedules certificate refreshes from the certificates' own validity, never from a DNS TTL.
std::set<std::size_t> ignored_bytes(const json& root, const std::string& path) {
    std::set<std::size_t> ignored;
    if (path != "/cert_query/response") return ignored;
    const auto msg = *hex_decode(root.at(json::json_pointer(path)).get<std::string>());
    const auto layout = dns::parse_layout(msg);
    if (!layout) return ignored;
    std::size_t pos = layout->answer_offset;
    for (int i = 0; i < layout->header.ancount; ++i) {
        const auto rec = dns::read_record(msg, pos);
        if (!rec) break;
        for (std::size_t b = rec->rdata_offset - 6; b < rec->rdata_offset - 2; ++b) {
            ignored.insert(b);
        }
        pos = rec->end();
    }
    return ignored;
}

json mutate_text(const std::string& s) {
    std::string m = s;
    if (m.empty()) return "x";
    m[0] = static_cast<char>(m[0] ^ 1);
    return m;
}

TEST(Vectors, CorruptingAnyCheckedByteFails) {
    const auto root = load_vectors();
    const auto report = check_vectors(root);
    ASSERT_TRUE(report.failures.empty());
    std::vector<std::string> undetected;
    int mutations = 0;
    auto try_mutation = [&](const std::string& path, json value, const std::string& label) {
        json copy = root;
        copy[json::json_pointer(path)] = std::move(value);
        ++mutations;
        if (check_vectors(copy).failures.empty()) undetected.push_back(label);
    };
    for (const auto& [path, kind] : report.consumed) {
        const auto& leaf = root.at(json::json_pointer(path));
        switch (kind) {
            case LeafKind::Hex: {
                auto bytes = *hex_decode(leaf.get<std::string>());
                if (bytes.empty()) {
                    try_mutation(path, "00", path + " (empty -> 00)");
                    break;
                }
                const auto ignored = ignored_bytes(root, path);
                for (std::size_t i = 0; i < bytes.size(); ++i) {
                    if (ignored.count(i) != 0) continue;
                    const auto mask = flip_mask(path, i);
                    bytes[i] ^= mask;
                    try_mutation(path, hex_encode(bytes), path + " byte " + std::to_string(i));
                    bytes[i] ^= mask;
                }
                break;
            }
            case LeafKind::Number: {
                const auto v = leaf.get<std::int64_t>();
                int top = 0;
                while (top < 7 && (v >> (8 * (top + 1))) != 0) ++top;
                try_mutation(path, v ^ (std::int64_t{1} << (8 * top)), path + " top byte");
                break;
            }
            case LeafKind::Text:
                try_mutation(path, mutate_text(leaf.get<std::string>()), path + " first char");
                break;
        }
    }
    EXPECT_GT(mutations, 3000);
    EXPECT_TRUE(undetected.empty())
        << undetected.size() << " of " << mutations << " corruptions went unnoticed:\n"
        << join(undetected);
}

}  // namespace
}  // namespace dcp::test
