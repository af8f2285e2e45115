#include "sources/list.hpp"

namespace dcp::sources {
namespace {

std::string_view trim(std::string_view s) {
    const auto space = [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
    };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace

ParsedList parse_list(std::string_view text, std::string_view prefix) {
    ParsedList out;
    constexpr std::string_view kHeading = "## ";
    auto at = text.find(kHeading);  // everything before the first heading is the preamble
    if (at == std::string_view::npos) {
        out.problems.push_back({"", "no servers (no \"## \" entry)"});
        return out;
    }
    while (at != std::string_view::npos) {
        const auto start = at + kHeading.size();
        const auto next = text.find(kHeading, start);
        auto piece = trim(text.substr(
            start, next == std::string_view::npos ? std::string_view::npos : next - start));
        at = next;
        const auto nl = piece.find('\n');
        const auto name = trim(piece.substr(0, nl));
        if (name.empty()) {
            out.problems.push_back({"", "an entry without a name"});
            continue;
        }
        ListEntry entry;
        entry.name = std::string(prefix) + std::string(name);
        std::string_view rest =
            nl == std::string_view::npos ? std::string_view() : piece.substr(nl);
        while (!rest.empty()) {
            const auto end = rest.find('\n');
            const auto line = trim(rest.substr(0, end));
            rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
            if (line.empty() || line.substr(0, 2) == "//") continue;
            if (line.substr(0, 5) == "sdns:" && line.size() >= 6) {
                auto s = stamp::parse(line);
                if (s) {
                    entry.stamps.push_back(std::move(*s));
                } else {
                    out.problems.push_back({entry.name, "stamp " + std::string(line.substr(0, 40)) +
                                                            (line.size() > 40 ? "...: " : ": ") +
                                                            stamp::to_string(s.error())});
                }
                continue;
            }
            if (!entry.description.empty()) entry.description += '\n';
            entry.description += line;
        }
        if (entry.stamps.empty()) {
            out.problems.push_back({entry.name, "no usable stamp: entry skipped"});
            continue;
        }
        out.entries.push_back(std::move(entry));
    }
    if (out.entries.empty() && out.problems.empty()) {
        out.problems.push_back({"", "no servers"});
    }
    return out;
}

}  // namespace dcp::sources
