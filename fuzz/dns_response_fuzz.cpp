// Untrusted input: a decrypted answer from a resolver, or a plaintext certificate answer.
// Exercises layout walking, TXT extraction, response matching, OPT removal and truncation.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dns/edns.hpp"
#include "dns/message.hpp"
#include "dns/reply.hpp"
#include "dns/txt.hpp"
#include "dnscrypt/cert_answer.hpp"
#include "dnscrypt/provider_key.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp;
    fuzz::init_once();
    if (size > dns::kMaxMessageSize) return 0;
    const Bytes input(data, size);
    static const auto owner = *dns::encode_name("2.dnscrypt-cert.example.com");

    (void)dns::extract_txt_answers(input, owner);
    // The whole certificate answer path, with the provider key of tests/data/vectors.json.
    static const auto provider = *dnscrypt::parse_provider_key(
        "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
    (void)dnscrypt::read_cert_answer(input, 0xbeef, owner, provider, unix_seconds(1700003600));
    dns::Question question;
    if (size >= dns::kHeaderSize && dns::read_question(input, question)) {
        (void)dns::check_response_matches(input, load_u16_be(data), question);
    }
    (void)dns::check_response_matches(input, 0xbeef, dns::Question{owner, 16, 1});

    static std::array<std::uint8_t, dns::kMaxMessageSize> buf;
    std::memcpy(buf.data(), data, size);
    const auto layout = dns::parse_layout(input);
    const auto removed = dns::remove_opt(buf, size);
    if (removed.has_value() != layout.has_value()) std::abort();
    if (removed && !dns::parse_layout(Bytes(buf.data(), *removed))) std::abort();

    std::memcpy(buf.data(), data, size);
    const auto truncated = dns::truncate_response(buf, size, 512);
    if (truncated && (*truncated > 512 && *truncated != size)) std::abort();
    if (truncated && !dns::parse_layout(Bytes(buf.data(), *truncated)) && size > 512) std::abort();
    return 0;
}
