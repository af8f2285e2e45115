// Untrusted input: what a DoH server sends on an HTTP/2 connection, fed to the client session
// (http2::ClientSession over nghttp2) with two requests in flight, in chunks whose sizes the
// first byte chooses. The session must never crash, and what it hands back must stay within
// the target's limits.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "http2/client_session.hpp"

namespace {

class Events final : public dcp::http2::ClientSession::Events {
  public:
    void on_closed(dcp::http2::Exchange& e, std::uint32_t) override {
        if (e.response.size() > kMax) std::abort();
        ++closed;
    }
    void on_goaway(std::int32_t) override {}
    static constexpr std::size_t kMax = 512;
    int closed = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dcp::http2;
    if (size == 0) return 0;
    const std::size_t chunk = 1 + data[0];
    const std::span<const std::uint8_t> input(data + 1, size - 1);

    Events events;
    ClientSession session(events, Target{"doh.dcp.test", "/dns-query", "application/dns-message",
                                         Events::kMax, nullptr});
    if (!session.start(1 << 20)) return 0;
    Exchange a, b;
    a.body = {0, 0, 1, 0, 0, 1};
    b.body.assign(300, 0x42);
    if (!session.submit(a) || !session.submit(b)) std::abort();
    std::vector<std::uint8_t> out;
    if (!session.send_into(out, 1 << 16)) std::abort();
    for (std::size_t at = 0; at < input.size(); at += chunk) {
        const auto part = input.subspan(at, std::min(chunk, input.size() - at));
        if (!session.receive(part)) break;
        out.clear();
        if (!session.send_into(out, 1 << 16)) break;
        if (session.finished()) break;
    }
    if (events.closed > 2) std::abort();  // each exchange closes once at most
    return 0;
}
