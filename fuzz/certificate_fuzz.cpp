// Untrusted input: certificate blobs from a resolver's TXT answer, and provider keys as typed
// by users. The first bytes split the input into several blobs for the selection logic.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "dnscrypt/certificate.hpp"
#include "dnscrypt/provider_key.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp;
    fuzz::init_once();
    // The provider key of tests/data/vectors.json, so seeds from it verify.
    static const auto provider = *dnscrypt::parse_provider_key(
        "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");

    (void)dnscrypt::parse_provider_key(
        std::string_view(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 200)));

    const auto whole = dnscrypt::parse_certificate(Bytes(data, size), provider);
    if (whole && whole->ts_start >= whole->ts_end) std::abort();

    std::vector<std::vector<std::uint8_t>> blobs;
    std::size_t pos = 0;
    while (pos < size && blobs.size() < 8) {
        const std::size_t len = std::min<std::size_t>(data[pos] + 64u, size - pos - 1);
        blobs.emplace_back(data + pos + 1, data + pos + 1 + len);
        pos += 1 + len;
    }
    const auto choice = dnscrypt::select_certificate(blobs, provider, unix_seconds(1700003600));
    if (choice.rejected.size() + (choice.chosen ? 1u : 0u) > blobs.size()) std::abort();
    return 0;
}
