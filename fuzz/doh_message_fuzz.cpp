// Untrusted input: a query from a client on its way into a DoH POST body (first half of the
// input), and a DoH server's answer body (all of it), checked against a fixed query.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dns/message.hpp"
#include "doh/message.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp;
    fuzz::init_once();
    if (size > dns::kMaxMessageSize) return 0;
    const Bytes input(data, size);

    static std::vector<std::uint8_t> out;
    if (const auto info = dns::parse_query(input)) {
        const auto prepared = doh::prepare_query(input, *info, out);
        if (prepared) {
            if (out.size() % doh::kPaddingBlock != 0 && out.size() != info->size) std::abort();
            if (!dns::parse_query(Bytes(out.data(), out.size()))) std::abort();
        }
    }

    // A fixed query (www.example.com A, no OPT): its prepared form and the answer body.
    static const std::uint8_t kQuery[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,   0,   0,
                                          0,    3,    'w',  'w',  'w', 7,   'e', 'x', 'a', 'm', 'p',
                                          'l',  'e',  3,    'c',  'o', 'm', 0,   0,   1,   0,   1};
    static const auto query_info = *dns::parse_query(Bytes(kQuery, sizeof kQuery));
    static std::array<std::uint8_t, dns::kMaxMessageSize> buf;
    std::memcpy(buf.data(), data, size);
    for (const bool added : {false, true}) {
        std::memcpy(buf.data(), data, size);
        const auto len = doh::finish_answer(MutableBytes(buf.data(), size), query_info, {added});
        if (len && (*len > size || load_u16_be(buf.data()) != 0x1234)) std::abort();
    }
    (void)doh::is_dns_message_type(
        std::string_view(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 256)));
    return 0;
}
