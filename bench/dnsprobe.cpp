// dnsprobe: a minimal UDP load generator that records every query's latency, for percentiles
// (dnsperf 2.10 reports only average and standard deviation, and its -v mode slows it ~30x).
//
//   dnsprobe PORT IN_FLIGHT SECONDS NAME...
//   dnsprobe --dnscrypt PROVIDER_NAME PROVIDER_KEY PORT IN_FLIGHT SECONDS NAME...
//
// With --dnscrypt it is a DNSCrypt client itself (this project's protocol code: certificate
// fetch, encryption with the precomputed key, 256-byte padding, decryption): pointed at the
// DNSCrypt server, it measures the chain with no proxy in it, the floor any proxy adds to.
//
// Keeps IN_FLIGHT queries outstanding against 127.0.0.1:PORT for SECONDS, cycling through the
// names (type A), one socket per outstanding slot so answers match by socket. Prints one line:
//   completed=N lost=N errors=N qps=X avg_us=X p50_us=X p99_us=X
// A query unanswered after 2 s is lost and its slot reused. Answers with an RCODE other than
// NOERROR are counted as errors, not as completed queries (a proxy refusing work is not fast).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#if defined(__linux__)
#include <sys/epoll.h>
#endif
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "crypto/fast_random.hpp"
#include "crypto/sodium.hpp"
#include "dnscrypt/cert_answer.hpp"
#include "dnscrypt/packet.hpp"
#include "dnscrypt/provider_key.hpp"
#include "dnscrypt/session.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::uint8_t> make_query(const std::string& name, std::uint16_t id) {
    std::vector<std::uint8_t> q = {static_cast<std::uint8_t>(id >> 8),
                                   static_cast<std::uint8_t>(id),
                                   0x01,
                                   0x00,
                                   0,
                                   1,
                                   0,
                                   0,
                                   0,
                                   0,
                                   0,
                                   0};
    std::size_t start = 0;
    while (start < name.size()) {
        auto dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        q.push_back(static_cast<std::uint8_t>(dot - start));
        q.insert(q.end(), name.begin() + static_cast<long>(start),
                 name.begin() + static_cast<long>(dot));
        start = dot + 1;
    }
    q.insert(q.end(), {0, 0, 1, 0, 1});
    return q;
}

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "dnsprobe: %s\n", what);
    std::exit(1);
}

// Fetches the certificate over UDP from 127.0.0.1:port and makes the session to encrypt with.
dcp::dnscrypt::Session dnscrypt_session(const char* provider, const char* key_text,
                                        std::uint16_t port, const dcp::crypto::KeyPair& keys) {
    using namespace dcp;
    const auto name = dns::encode_name(provider);
    const auto key = dnscrypt::parse_provider_key(key_text);
    if (!name || !key) fail("bad provider name or key");
    std::uint8_t query[512];
    const auto len = dnscrypt::write_cert_query(*name, 4242, query);
    if (!len) fail("provider name too long");
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (sendto(fd, query, *len, 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) < 0) {
        fail("cannot send the certificate query");
    }
    std::vector<std::uint8_t> answer(65536);
    const ssize_t n = recv(fd, answer.data(), answer.size(), 0);
    close(fd);
    if (n <= 0) fail("no certificate answer");
    const SystemClock clock;
    const auto choice = dnscrypt::read_cert_answer(
        Bytes(answer.data(), static_cast<std::size_t>(n)), 4242, *name, *key, clock.now());
    if (!choice || !choice->chosen) fail("no valid certificate");
    auto session = dnscrypt::Session::create(*choice->chosen, keys);
    if (!session) fail("certificate rejected");
    return std::move(*session);
}

}  // namespace

int main(int argc, char** argv) {
    // --dnscrypt: encrypt queries for the server at PORT instead of sending plain DNS.
    std::optional<dcp::dnscrypt::Session> session;
    const auto keys = [&] {
        (void)dcp::crypto::initialize();
        return dcp::crypto::KeyPair::generate();
    }();
    if (argc >= 4 && std::string(argv[1]) == "--dnscrypt") {
        session.emplace(dnscrypt_session(argv[2], argv[3],
                                         static_cast<std::uint16_t>(std::atoi(argv[4])), keys));
        argv += 3;
        argc -= 3;
    }
    if (argc < 5) {
        std::fputs(
            "usage: dnsprobe [--dnscrypt PROVIDER_NAME PROVIDER_KEY] PORT IN_FLIGHT SECONDS "
            "NAME...\n",
            stderr);
        return 2;
    }
    dcp::crypto::FastRandom rng;
    const auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    const int in_flight = std::max(1, std::atoi(argv[2]));
    const double seconds = std::atof(argv[3]);
    std::vector<std::string> names(argv + 4, argv + argc);

    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    std::vector<pollfd> fds(static_cast<std::size_t>(in_flight));
    std::vector<Clock::time_point> sent(fds.size());
    std::vector<std::uint16_t> ids(fds.size());
    std::vector<dcp::dnscrypt::ClientNonceHalf> nonces(fds.size());
    std::vector<double> latencies;
    latencies.reserve(1 << 20);
    std::uint64_t lost = 0;
    std::uint64_t errors = 0;
    std::uint16_t next_id = 1;
    std::size_t next_name = 0;

    auto send_on = [&](std::size_t slot) {
        ids[slot] = next_id++;
        auto q = make_query(names[next_name++ % names.size()], ids[slot]);
        if (session) {
            std::vector<std::uint8_t> packet(dcp::dnscrypt::query::kHeaderSize + 256);
            rng.fill(nonces[slot]);
            const auto len =
                dcp::dnscrypt::encrypt_query(session->query_keys(), q, nonces[slot], 256, packet);
            if (!len) fail("cannot encrypt");
            packet.resize(*len);
            q = std::move(packet);
        }
        sent[slot] = Clock::now();
        if (sendto(fds[slot].fd, q.data(), q.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                   sizeof(to)) < 0) {
            std::perror("sendto");
            std::exit(1);
        }
    };

    for (std::size_t i = 0; i < fds.size(); ++i) {
        fds[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
        fds[i].events = POLLIN;
        if (fds[i].fd < 0) {
            std::perror("socket");
            return 1;
        }
    }
    const auto start = Clock::now();
    const auto end =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (std::size_t i = 0; i < fds.size(); ++i) send_on(i);
    std::uint8_t buf[65536];
    auto on_readable = [&](std::size_t i, Clock::time_point now) {
        ssize_t got = recv(fds[i].fd, buf, sizeof(buf), 0);
        if (got < 2) return;
        if (session) {
            const auto msg = dcp::dnscrypt::decrypt_response(
                dcp::MutableBytes(buf, static_cast<std::size_t>(got)), nonces[i],
                session->shared_key());
            if (!msg) return;  // not the answer to this slot's query
            std::memmove(buf, msg->data(), msg->size());
            got = static_cast<ssize_t>(msg->size());
        }
        const auto id = static_cast<std::uint16_t>((buf[0] << 8) | buf[1]);
        if (id != ids[i]) return;  // a late answer to an earlier, lost query
        if (got < 4 || (buf[3] & 0x0f) != 0) {
            ++errors;
        } else {
            latencies.push_back(std::chrono::duration<double, std::micro>(now - sent[i]).count());
        }
        if (now < end) send_on(i);
    };
    // At 1000 in flight, scanning every slot on every wake-up would cost the load generator more
    // than the proxy under test: epoll where there is one, and lost queries looked for every
    // 50 ms rather than on every answer.
#if defined(__linux__)
    const int epfd = epoll_create1(0);
    if (epfd < 0) fail("epoll_create1");
    for (std::size_t i = 0; i < fds.size(); ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i].fd, &ev) != 0) fail("epoll_ctl");
    }
    std::vector<epoll_event> events(256);
#endif
    auto last_scan = start;
    while (Clock::now() < end) {
#if defined(__linux__)
        const int n = epoll_wait(epfd, events.data(), static_cast<int>(events.size()), 100);
        const auto now = Clock::now();
        for (int e = 0; e < n; ++e) on_readable(events[static_cast<std::size_t>(e)].data.u64, now);
#else
        const int n = poll(fds.data(), fds.size(), 100);
        const auto now = Clock::now();
        for (std::size_t i = 0; n > 0 && i < fds.size(); ++i) {
            if ((fds[i].revents & POLLIN) != 0) on_readable(i, now);
        }
#endif
        if (now - last_scan < std::chrono::milliseconds(50)) continue;
        last_scan = now;
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (now - sent[i] > std::chrono::seconds(2)) {
                ++lost;
                send_on(i);
            }
        }
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(latencies.begin(), latencies.end());
    double sum = 0;
    for (const double l : latencies) sum += l;
    auto pct = [&](double p) {
        return latencies.empty()
                   ? 0.0
                   : latencies[std::min(
                         latencies.size() - 1,
                         static_cast<std::size_t>(static_cast<double>(latencies.size()) * p))];
    };
    std::printf(
        "completed=%zu lost=%llu errors=%llu qps=%.0f avg_us=%.1f p50_us=%.1f p99_us=%.1f\n",
        latencies.size(), static_cast<unsigned long long>(lost),
        static_cast<unsigned long long>(errors), static_cast<double>(latencies.size()) / elapsed,
        latencies.empty() ? 0.0 : sum / static_cast<double>(latencies.size()), pct(0.5), pct(0.99));
    for (const auto& f : fds) close(f.fd);
    return 0;
}
