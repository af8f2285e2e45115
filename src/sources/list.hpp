#pragma once
// Resolver lists (public-resolvers.md, relays.md, ...): Markdown with one "## name" section per
// server, a description, and one or more sdns:// stamps. Parsed the way dnscrypt-proxy 2 does it
// (../shared/spec/minisign-and-sources.md section 6): the text is split on "## ", the preamble
// dropped; "//" lines and blank lines ignored; other lines are description. Pure: the caller
// verifies the signature first and reads the files.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "stamp/stamp.hpp"

namespace dcp::sources {

struct ListEntry {
    std::string name;  // with the source's prefix
    std::string description;
    std::vector<stamp::Stamp> stamps;  // every stamp that parsed, in list order (alternates)
};

struct ListProblem {
    std::string name;  // the entry, or empty for the list as a whole
    std::string what;
};

struct ParsedList {
    std::vector<ListEntry> entries;     // entries with at least one good stamp
    std::vector<ListProblem> problems;  // skipped entries and bad stamps, for the log
};

// `prefix` is prepended to every name (a source's "prefix" setting).
[[nodiscard]] ParsedList parse_list(std::string_view text, std::string_view prefix = {});

}  // namespace dcp::sources
