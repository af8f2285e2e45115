#include "rules/name_matcher.hpp"

#include <fnmatch.h>

#include <algorithm>

#include "rules/text.hpp"

namespace dcp::rules {
namespace {

bool is_glob(std::string_view p) noexcept {
    for (std::size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '?' || c == '[') return true;
        if (c == '*' && i != 0 && i + 1 != p.size()) return true;
    }
    return false;
}

}  // namespace

bool is_wildcard_pattern(std::string_view pattern) noexcept {
    return pattern.find_first_of("*?[") != std::string_view::npos;
}

dcp::Result<void, std::string> NameMatcher::add(std::string_view pattern, std::uint32_t value) {
    const bool leading = !pattern.empty() && pattern.front() == '*';
    const bool trailing = !pattern.empty() && pattern.back() == '*';
    if (pattern.find_first_of(" \t") != std::string_view::npos) {
        return Unexpected(std::string("a pattern cannot contain spaces"));
    }
    if (is_glob(pattern)) {
        if (pattern.size() < 2) return Unexpected(std::string("pattern too short"));
        // fnmatch reports no syntax errors: an unclosed '[' is the one mistake to catch here.
        const auto open = pattern.find('[');
        if (open != std::string_view::npos && pattern.find(']', open) == std::string_view::npos) {
            return Unexpected(std::string("unclosed '[' in the pattern"));
        }
        globs_.emplace_back(lower(pattern), value);
    } else if (leading && trailing) {
        if (pattern.size() < 3) return Unexpected(std::string("pattern too short"));
        substrings_.emplace_back(lower(pattern.substr(1, pattern.size() - 2)), value);
    } else if (trailing) {
        if (pattern.size() < 2) return Unexpected(std::string("pattern too short"));
        const auto prefix = lower(pattern.substr(0, pattern.size() - 1));
        prefixes_.insert(prefix, value);
        add_length(prefix_lengths_,
                   static_cast<std::uint16_t>(std::min<std::size_t>(prefix.size(), 0xffff)));
    } else if (!pattern.empty() && pattern.front() == '=') {
        if (pattern.size() < 2) return Unexpected(std::string("pattern too short"));
        std::string_view name = pattern.substr(1);
        if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
        exact_.insert(lower(name), value);
    } else {
        std::string_view name = pattern;
        if (leading) name.remove_prefix(1);
        if (!name.empty() && name.front() == '.') name.remove_prefix(1);
        if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
        if (name.empty()) return Unexpected(std::string("empty pattern"));
        suffixes_.insert(lower(name), value);
    }
    ++size_;
    return {};
}

std::optional<NameMatch> NameMatcher::match(const LookupName& name) const {
    const std::string_view text = name.text();
    if (const auto* v = exact_.find(text)) return NameMatch{*v, PatternKind::Exact};
    if (suffixes_.size() != 0) {
        for (std::size_t i = 0; i < name.labels(); ++i) {
            if (const auto* v = suffixes_.find(name.suffix(i))) {
                return NameMatch{*v, PatternKind::Suffix};
            }
        }
    }
    for (const auto len : prefix_lengths_) {
        if (len > text.size()) continue;
        if (const auto* v = prefixes_.find(text.substr(0, len))) {
            return NameMatch{*v, PatternKind::Prefix};
        }
    }
    for (const auto& [s, v] : substrings_) {
        if (text.find(s) != std::string_view::npos) return NameMatch{v, PatternKind::Substring};
    }
    if (!globs_.empty()) {
        // fnmatch needs a terminated string: the text is at most 1020 bytes.
        char buf[dns::kMaxNameWireSize * 4 + 1];
        const std::size_t n = std::min(text.size(), sizeof buf - 1);
        std::copy_n(text.data(), n, buf);
        buf[n] = '\0';
        for (const auto& [g, v] : globs_) {
            if (fnmatch(g.c_str(), buf, 0) == 0) return NameMatch{v, PatternKind::Glob};
        }
    }
    return std::nullopt;
}

std::size_t NameMatcher::memory_bytes() const noexcept {
    std::size_t n = exact_.memory_bytes() + suffixes_.memory_bytes() + prefixes_.memory_bytes();
    for (const auto& [s, v] : substrings_) n += sizeof(s) + s.capacity() + sizeof(v);
    for (const auto& [s, v] : globs_) n += sizeof(s) + s.capacity() + sizeof(v);
    return n;
}

void NameMatcher::shrink_to_fit() {
    exact_.shrink_to_fit();
    suffixes_.shrink_to_fit();
    prefixes_.shrink_to_fit();
}

}  // namespace dcp::rules
