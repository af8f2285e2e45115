#include "net/datagram_batch.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "net/flush_scope.hpp"

namespace dcp::net {
namespace {

// A UDP socket bound to an ephemeral loopback port, closed at the end of the test.
struct LoopbackSocket {
    int fd = -1;
    sockaddr_in addr{};
    LoopbackSocket() {
        fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        socklen_t len = sizeof(addr);
        EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    }
    ~LoopbackSocket() { ::close(fd); }
    LoopbackSocket(const LoopbackSocket&) = delete;
    LoopbackSocket& operator=(const LoopbackSocket&) = delete;
};

Datagram to(const LoopbackSocket& dst, std::vector<std::uint8_t>& payload) {
    Datagram d;
    d.data = payload.data();
    d.size = payload.size();
    std::memcpy(&d.peer, &dst.addr, sizeof(dst.addr));
    d.peer_len = sizeof(dst.addr);
    return d;
}

TEST(DatagramBatch, SendsAndReceivesSeveralInOrderWithSources) {
    LoopbackSocket a, b;
    std::vector<std::vector<std::uint8_t>> payloads;
    for (std::uint8_t i = 0; i < 5; ++i) payloads.push_back(std::vector<std::uint8_t>(10u + i, i));
    std::vector<Datagram> out;
    for (auto& p : payloads) out.push_back(to(b, p));
    std::error_code ec;
    ASSERT_EQ(send_datagrams(a.fd, out, false, ec), 5u);
    EXPECT_FALSE(ec);

    std::vector<std::array<std::uint8_t, 64>> buffers(8);
    std::vector<Datagram> in(8);
    for (std::size_t i = 0; i < in.size(); ++i) {
        in[i].data = buffers[i].data();
        in[i].capacity = buffers[i].size();
    }
    ASSERT_EQ(receive_datagrams(b.fd, in, ec), 5u);  // fewer than asked: drained
    EXPECT_FALSE(ec);
    for (std::size_t i = 0; i < 5; ++i) {
        ASSERT_EQ(in[i].size, payloads[i].size());
        EXPECT_EQ(std::memcmp(in[i].data, payloads[i].data(), in[i].size), 0);
        EXPECT_FALSE(in[i].truncated);
        const auto* src = reinterpret_cast<const sockaddr_in*>(&in[i].peer);
        EXPECT_EQ(src->sin_port, a.addr.sin_port);
    }
    EXPECT_EQ(receive_datagrams(b.fd, in, ec), 0u);  // nothing waiting: no error, no block
    EXPECT_FALSE(ec);
}

TEST(DatagramBatch, ReportsTruncation) {
    LoopbackSocket a, b;
    std::vector<std::uint8_t> big(100, 7);
    std::vector<Datagram> out{to(b, big)};
    std::error_code ec;
    ASSERT_EQ(send_datagrams(a.fd, out, false, ec), 1u);
    std::array<std::uint8_t, 16> small{};
    std::vector<Datagram> in(1);
    in[0].data = small.data();
    in[0].capacity = small.size();
    ASSERT_EQ(receive_datagrams(b.fd, in, ec), 1u);
    EXPECT_TRUE(in[0].truncated);
    EXPECT_EQ(in[0].size, small.size());
}

TEST(DatagramBatch, ConnectedSendAndErrors) {
    LoopbackSocket a, b;
    ASSERT_EQ(::connect(a.fd, reinterpret_cast<sockaddr*>(&b.addr), sizeof(b.addr)), 0);
    std::vector<std::uint8_t> p(3, 1);
    Datagram d;
    d.data = p.data();
    d.size = p.size();
    std::error_code ec;
    ASSERT_EQ(send_datagrams(a.fd, std::span(&d, 1), true, ec), 1u);
    EXPECT_FALSE(ec);
    // A closed descriptor: nothing sent, and the error says why.
    EXPECT_EQ(send_datagrams(-1, std::span(&d, 1), true, ec), 0u);
    EXPECT_TRUE(ec);
    std::vector<Datagram> in(1);
    EXPECT_EQ(receive_datagrams(-1, in, ec), 0u);
    EXPECT_TRUE(ec);
}

// A datagram socket bound to a path of the given length (AF_UNIX: source addresses whose
// lengths differ, which UDP on one family never gives).
struct UnixSocket {
    int fd = -1;
    sockaddr_un addr{};
    socklen_t len = 0;
    explicit UnixSocket(const std::string& path) {
        fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
        len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
        ::unlink(path.c_str());
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
    }
    ~UnixSocket() {
        ::close(fd);
        ::unlink(addr.sun_path);
    }
    UnixSocket(const UnixSocket&) = delete;
    UnixSocket& operator=(const UnixSocket&) = delete;
};

TEST(ReceiveBatch, ReusedHeadersKeepFullSourcesAndBatches) {
    const std::string dir = ::testing::TempDir();
    const std::string tag = std::to_string(::getpid());
    UnixSocket receiver(dir + "r" + tag);
    UnixSocket near(dir + "a" + tag);
    UnixSocket far(dir + std::string(60, 'b') + tag);
    std::array<std::array<std::uint8_t, 32>, 4> buffers{};
    std::array<Datagram, 4> slots{};
    for (std::size_t i = 0; i < slots.size(); ++i) {
        slots[i].data = buffers[i].data();
        slots[i].capacity = buffers[i].size();
    }
    ReceiveBatch batch(slots);
    auto send_from = [&](const UnixSocket& s, std::uint8_t n) {
        ASSERT_EQ(::sendto(s.fd, &n, 1, 0, reinterpret_cast<const sockaddr*>(&receiver.addr),
                           receiver.len),
                  1);
    };
    std::error_code ec;
    // The short source address first, then the long one in the same slot: had the length the
    // kernel wrote for the first stayed in the header, the second would come back cut short.
    send_from(near, 1);
    ASSERT_EQ(batch.receive(receiver.fd, ec), 1u);
    EXPECT_EQ(slots[0].peer_len, near.len);
    for (std::uint8_t i = 0; i < 6; ++i) send_from(far, static_cast<std::uint8_t>(10 + i));
    ASSERT_EQ(batch.receive(receiver.fd, ec), 4u);  // a full batch: more may wait
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(slots[i].peer_len, far.len) << i;
        EXPECT_EQ(std::memcmp(reinterpret_cast<const sockaddr_un*>(&slots[i].peer)->sun_path,
                              far.addr.sun_path, std::strlen(far.addr.sun_path)),
                  0);
        EXPECT_EQ(slots[i].size, 1u);
        EXPECT_EQ(slots[i].data[0], 10 + i);
    }
    ASSERT_EQ(batch.receive(receiver.fd, ec), 2u);
    EXPECT_EQ(slots[1].data[0], 15);
    EXPECT_EQ(batch.receive(receiver.fd, ec), 0u);
    EXPECT_FALSE(ec);
    // drain() over the batch: everything handed over, drained.
    for (std::uint8_t i = 0; i < 9; ++i) send_from(near, i);
    int seen = 0;
    EXPECT_TRUE(drain(receiver.fd, batch, 4, [&](Datagram& d) {
        EXPECT_EQ(d.peer_len, near.len);
        EXPECT_EQ(d.data[0], seen++);
    }));
    EXPECT_EQ(seen, 9);
}

struct Recorder final : Flushable {
    std::vector<int>* log;
    int id;
    Recorder* chain = nullptr;  // asks this one to flush from inside its own flush
    Recorder(std::vector<int>* l, int i) : log(l), id(i) {}
    ~Recorder() override = default;
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;
    void flush() override {
        log->push_back(id);
        if (chain) chain->request_flush();
    }
};

TEST(FlushScope, DefersToTheOutermostScopeOncePerFlushable) {
    std::vector<int> log;
    Recorder a(&log, 1), b(&log, 2);
    a.request_flush();  // no scope: at once
    EXPECT_EQ(log, std::vector<int>{1});
    log.clear();
    {
        FlushScope outer;
        a.request_flush();
        {
            FlushScope inner;
            b.request_flush();
            a.request_flush();
        }
        EXPECT_TRUE(log.empty());
    }
    EXPECT_EQ(log, (std::vector<int>{1, 2}));
    log.clear();
    a.chain = &b;  // a's flush makes output for b: served by the same scope's end
    {
        FlushScope scope;
        a.request_flush();
    }
    EXPECT_EQ(log, (std::vector<int>{1, 2}));
}

}  // namespace
}  // namespace dcp::net
