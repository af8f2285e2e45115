// Untrusted input: a stamp from a downloaded list, a configuration file or the command line. Any
// text gives a stamp or a reason, never a crash; a stamp that parses encodes to text that parses
// to the same stamp; its address helper never fails on a stamp that parsed.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "stamp/stamp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp;
    fuzz::init_once();
    if (size > 4096) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto pair = stamp::parse_relayed(text);
    (void)pair;
    const auto s = stamp::parse(text);
    if (!s) {
        if (s.error().what.empty()) std::abort();  // every refusal says why
        return 0;
    }
    const auto again = stamp::encode(*s);
    if (!again) std::abort();  // every field of a parsed stamp fits
    const auto back = stamp::parse(*again);
    if (!back || !(*back == *s)) std::abort();
    if (!stamp::server_address(*s) && s->protocol != stamp::Protocol::ODoHTarget) std::abort();
    return 0;
}
