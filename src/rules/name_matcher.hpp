#pragma once
// Name patterns with dnscrypt-proxy 2's meaning (blocked_names, allowed_names, cloaking and
// forwarding files):
//   example.com, *.example.com, .example.com   the name and every name below it (suffix)
//   =example.com                               that name only (exact)
//   ads.*                                      names that start with "ads." (prefix)
//   *sex*                                      names that contain "sex" (substring)
//   ads[0-9]*.example.*, a?c.com               glob: *, ? and [] anywhere (fnmatch)
// A match is looked for in that order (exact, longest suffix, longest prefix, then substrings and
// globs in file order), as dnscrypt-proxy 2 does. Exact, suffix and prefix lookups cost a few
// hash probes per label, whatever the number of rules; substrings and globs are tried one by
// one, so lists should keep them few (the shipped lists have none).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "rules/lookup_name.hpp"
#include "rules/string_table.hpp"

namespace dcp::rules {

enum class PatternKind : std::uint8_t { Exact, Suffix, Prefix, Substring, Glob };

struct NameMatch {
    std::uint32_t value = 0;
    PatternKind kind = PatternKind::Exact;
};

class NameMatcher {
  public:
    // `pattern` as written in a file (trimmed); the error says what is wrong with it.
    dcp::Result<void, std::string> add(std::string_view pattern, std::uint32_t value);
    [[nodiscard]] std::optional<NameMatch> match(const LookupName& name) const;

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] std::size_t memory_bytes() const noexcept;
    void shrink_to_fit();

  private:
    StringTable exact_;
    StringTable suffixes_;
    StringTable prefixes_;
    std::vector<std::uint16_t> prefix_lengths_;  // longest first
    std::vector<std::pair<std::string, std::uint32_t>> substrings_;
    std::vector<std::pair<std::string, std::uint32_t>> globs_;
    std::size_t size_ = 0;
};

// Classifies a pattern without adding it (the cloaking file needs to know which are wildcards).
[[nodiscard]] bool is_wildcard_pattern(std::string_view pattern) noexcept;

}  // namespace dcp::rules
