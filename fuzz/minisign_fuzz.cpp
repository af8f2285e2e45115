// Untrusted input: a downloaded .minisig (and a public key file a user may get wrong). Any text
// gives a signature or a reason, never a crash; verification of whatever parsed against a fixed
// key and message never crashes, and succeeds only for one of the two signatures the key's owner
// made of that message (tests/data/minisign: Ed25519 as libsodium checks it has one valid
// encoding per message, and the global signature binds the trusted comment): anything else
// verifying would be a forgery, and aborts.

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
    // tests/data/minisign/test-message.txt.minisig and .legacy.minisig.
    const auto parsed = [](std::string_view file) {
        auto s = minisign::parse_signature(file);
        if (!s) std::abort();
        return *s;
    };
    static const minisign::Signature genuine[] = {
        parsed("untrusted comment: signature from minisign secret key\n"
               "RUQBI0VniavN72ayCNdFVzFmVlOvZQ++"
               "MJZdI7UR04XH1uZWcUWGR4tf2cYVEDByOb5IFzNTzyMLqUSBEzamFf4iK6"
               "kuJ1NI4A8=\n"
               "trusted comment: timestamp:1700000000\tfile:test-message.txt\thashed\n"
               "hIYTp24ln8+bUoSRbjPokmbhg7+v94GRkv09Dmp0AuHu7/"
               "iE7NeT5iPJ3vs9NXO1G1YjLzUyv0SePzwDgNmpCw==\n"),
        parsed("untrusted comment: signature from minisign secret key\n"
               "RWQBI0VniavN719+yeJ0cmLnlvpfc2bBy7EyoDzmz87N5NV55auKov5diaFBgPjIucWQcEkO+"
               "MsOkH0BxnfTmVCHU"
               "UMa+7Q4XAE=\n"
               "trusted comment: timestamp:1700000000\tfile:test-message.txt\n"
               "MOP64tEK8qjF3lU2C+QU7Rv7BFEDiamQxw6VYiHFOwQnmROgyp3NKqPfCOXs/"
               "TZ7i3Md0P8t8U8smRFDCoIBAw==\n"),
    };
    const auto verified = minisign::verify(*key, *sig, Bytes(kMessage, sizeof kMessage - 1));
    if (!verified) {
        if (minisign::to_string(verified.error()).empty()) std::abort();
        return 0;
    }
    for (const auto& g : genuine) {
        if (sig->algorithm == g.algorithm && sig->key_id == g.key_id &&
            sig->signature == g.signature && sig->trusted_comment == g.trusted_comment &&
            sig->global_signature == g.global_signature) {
            if (*verified != g.trusted_comment) std::abort();  // the comment it vouches for
            return 0;
        }
    }
    std::abort();  // verified, and not a signature the key's owner made: a forgery
}
