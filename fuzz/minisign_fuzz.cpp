// Untrusted input: a downloaded .minisig (and a public key file a user may get wrong). Any text
// gives a signature or a reason, never a crash; verification of whatever parsed against a fixed
// key and message never crashes and, a forgery aside, fails.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "minisign/minisign.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp;
    fuzz::init_once();
    if (size > 16384) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)minisign::parse_public_key_file(text);
    // The deterministic test key (tests/data/minisign/test.pub).
    static const auto key =
        minisign::parse_public_key("RWQBI0VniavN780Us3+VbpUxlP9/tzs9gdzFYdYadTgJS3w+GmQ+5fOq");
    if (!key) std::abort();
    const auto sig = minisign::parse_signature(text);
    if (!sig) {
        if (minisign::to_string(sig.error()).empty()) std::abort();
        return 0;
    }
    static constexpr std::uint8_t kMessage[] = "DNSCrypt minisign test vector\n";
    (void)minisign::verify(*key, *sig, Bytes(kMessage, sizeof kMessage - 1));
    return 0;
}
