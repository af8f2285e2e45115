// Untrusted input: a resolver list (only after its signature verified, but a list signed by a
// key the user configured is still just text). Never a crash; every entry kept has a name and a
// stamp.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "sources/list.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp;
    fuzz::init_once();
    if (size > 65536) return 0;
    const auto list =
        sources::parse_list(std::string_view(reinterpret_cast<const char*>(data), size), "p:");
    for (const auto& e : list.entries) {
        if (e.name.size() <= 2 || e.stamps.empty()) std::abort();
    }
    return 0;
}
