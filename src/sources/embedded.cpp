#include "sources/embedded.hpp"

#include <cstddef>
#include <cstdint>

namespace dcp::embedded {
extern const std::uint8_t public_resolvers_md[];
extern const std::size_t public_resolvers_md_size;
extern const std::uint8_t public_resolvers_md_minisig[];
extern const std::size_t public_resolvers_md_minisig_size;
extern const std::uint8_t relays_md[];
extern const std::size_t relays_md_size;
extern const std::uint8_t relays_md_minisig[];
extern const std::size_t relays_md_minisig_size;
}  // namespace dcp::embedded

namespace dcp::sources {
namespace {

std::string_view view(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace

EmbeddedList embedded_list(std::string_view name) {
    using namespace dcp::embedded;
    if (name == "public-resolvers") {
        return {name, view(public_resolvers_md, public_resolvers_md_size),
                view(public_resolvers_md_minisig, public_resolvers_md_minisig_size)};
    }
    if (name == "relays") {
        return {name, view(relays_md, relays_md_size),
                view(relays_md_minisig, relays_md_minisig_size)};
    }
    return {name, {}, {}};
}

minisign::MinisignResult<ParsedList> load_embedded(std::string_view name, std::string_view prefix) {
    const auto list = embedded_list(name);
    const auto key = minisign::parse_public_key(kOfficialListKey);
    if (!key) return Unexpected(key.error());
    const auto ok = minisign::verify(
        *key, list.signature,
        Bytes(reinterpret_cast<const std::uint8_t*>(list.text.data()), list.text.size()));
    if (!ok) return Unexpected(ok.error());
    return parse_list(list.text, prefix);
}

}  // namespace dcp::sources
