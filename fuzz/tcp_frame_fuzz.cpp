// Untrusted input: the byte stream of a client TCP connection. The first byte seeds how the
// stream is cut into reads (as a network would: any sizes); the messages TcpFrameReader returns
// must be exactly those a one-pass reading of the whole stream finds, whatever the cuts, and its
// buffer must never pass the largest frame.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/bytes.hpp"
#include "dns/tcp_frame.hpp"

namespace {

struct Reference {
    std::vector<std::vector<std::uint8_t>> messages;
    bool zero_length = false;
};

Reference read_whole(const std::uint8_t* data, std::size_t size) {
    Reference r;
    std::size_t pos = 0;
    while (size - pos >= 2) {
        const std::size_t len = dcp::load_u16_be(data + pos);
        if (len == 0) {
            r.zero_length = true;
            break;
        }
        if (size - pos - 2 < len) break;
        r.messages.emplace_back(data + pos + 2, data + pos + 2 + len);
        pos += 2 + len;
    }
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp;
    if (size < 1) return 0;
    std::uint32_t cut_state = data[0] * 2654435761u + 1;
    ++data;
    --size;
    const Reference want = read_whole(data, size);

    dns::TcpFrameReader reader;
    std::vector<std::vector<std::uint8_t>> got;
    bool zero_length = false;
    std::size_t pos = 0;
    for (;;) {
        bool more = false;
        for (;;) {
            const auto m = reader.next();
            if (!m) {
                zero_length = true;
                break;
            }
            if (!*m) {
                more = true;
                break;
            }
            got.emplace_back((*m)->begin(), (*m)->end());
        }
        if (zero_length || !more || pos == size) break;
        const auto space = reader.space();
        if (space.empty() || reader.capacity() > dns::TcpFrameReader::kMaxFrame) std::abort();
        cut_state = cut_state * 1103515245u + 12345u;
        std::size_t piece = 1 + (cut_state >> 16) % 700;
        if (piece > space.size()) piece = space.size();
        if (piece > size - pos) piece = size - pos;
        std::memcpy(space.data(), data + pos, piece);
        reader.commit(piece);
        pos += piece;
    }
    if (got != want.messages || zero_length != want.zero_length) std::abort();
    return 0;
}
