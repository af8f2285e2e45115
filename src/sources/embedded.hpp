#pragma once
// The resolver lists compiled into the binary (data/resolvers-v3, signed by the official key),
// so that a first start without a network, or with the list hosts blocked, still knows every
// server the lists knew. They are verified like any download before use.

#include <string_view>

#include "minisign/minisign.hpp"
#include "sources/list.hpp"

namespace dcp::sources {

// The key that signs DNSCrypt/dnscrypt-resolvers' v3 lists.
inline constexpr std::string_view kOfficialListKey =
    "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3";

struct EmbeddedList {
    std::string_view name;  // "public-resolvers", "relays"
    std::string_view text;
    std::string_view signature;
};

[[nodiscard]] EmbeddedList embedded_list(std::string_view name);  // empty text: unknown name

// The embedded list, verified with the official key and parsed (prefix applied).
[[nodiscard]] minisign::MinisignResult<ParsedList> load_embedded(std::string_view name,
                                                                 std::string_view prefix = {});

}  // namespace dcp::sources
