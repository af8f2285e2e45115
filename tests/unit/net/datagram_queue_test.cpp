#include "net/datagram_queue.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <vector>

namespace dcp::net {
namespace {

// Queues a datagram of `size` bytes, each byte `fill`, with the port `port` as its peer.
void queue(DatagramQueue& q, std::size_t size, std::uint8_t fill, std::uint16_t port = 0) {
    Datagram& d = q.next();
    ASSERT_GE(d.capacity, size);
    std::memset(d.data, fill, size);
    d.size = size;
    auto* sin = reinterpret_cast<sockaddr_in*>(&d.peer);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    d.peer_len = sizeof(sockaddr_in);
    q.push();
}

bool holds(const Datagram& d, std::size_t size, std::uint8_t fill) {
    if (d.size != size) return false;
    for (std::size_t i = 0; i < size; ++i) {
        if (d.data[i] != fill) return false;
    }
    return true;
}

std::uint16_t port_of(const Datagram& d) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&d.peer)->sin_port);
}

TEST(DatagramQueue, SmallDatagramsSitSideBySide) {
    DatagramQueue q(64, 4608);
    EXPECT_TRUE(q.empty());
    queue(q, 100, 1);
    queue(q, 37, 2);
    queue(q, 60, 3);
    const auto d = q.queued();
    ASSERT_EQ(d.size(), 3U);
    // Each starts at the next 8-byte boundary after the one before: three replies take 216
    // bytes of the arena, not three 4.6 KB slots.
    EXPECT_EQ(d[1].data - d[0].data, 104);
    EXPECT_EQ(d[2].data - d[1].data, 40);
    EXPECT_TRUE(holds(d[0], 100, 1));
    EXPECT_TRUE(holds(d[1], 37, 2));
    EXPECT_TRUE(holds(d[2], 60, 3));
    EXPECT_EQ(q.next().data - d[2].data, 64);  // the next one after them
}

TEST(DatagramQueue, AFullQueueOfTheLargestDatagramsFits) {
    DatagramQueue q(8, 4101);  // an odd maximum: rounding must not eat the last one's room
    for (std::uint8_t i = 0; i < 8; ++i) {
        ASSERT_FALSE(q.full());
        queue(q, 4101, static_cast<std::uint8_t>(i + 1));
    }
    EXPECT_TRUE(q.full());
    for (std::size_t i = 0; i < 8; ++i) {
        EXPECT_TRUE(holds(q.queued()[i], 4101, static_cast<std::uint8_t>(i + 1))) << i;
    }
}

TEST(DatagramQueue, ClearStartsOverAtTheFront) {
    DatagramQueue q(4, 512);
    queue(q, 10, 1);
    const std::uint8_t* first = q.queued()[0].data;
    queue(q, 10, 2);
    q.clear();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.next().data, first);
    EXPECT_EQ(q.next().size, 0U);
}

TEST(DatagramQueue, DropFrontKeepsTheRestInOrderWithTheirPeers) {
    DatagramQueue q(6, 300);
    const std::size_t sizes[] = {300, 5, 299, 64, 1, 200};
    for (std::uint8_t i = 0; i < 6; ++i) {
        queue(q, sizes[i], static_cast<std::uint8_t>(i + 1), static_cast<std::uint16_t>(1000 + i));
    }
    q.drop_front(2);  // the first two were sent
    ASSERT_EQ(q.size(), 4U);
    for (std::size_t i = 0; i < 4; ++i) {
        const Datagram& d = q.queued()[i];
        EXPECT_TRUE(holds(d, sizes[i + 2], static_cast<std::uint8_t>(i + 3))) << i;
        EXPECT_EQ(port_of(d), 1002 + i);
        EXPECT_EQ(d.peer_len, sizeof(sockaddr_in));
    }
    // Room again for two of the largest, and they follow the moved ones.
    queue(q, 300, 7);
    queue(q, 300, 8);
    EXPECT_TRUE(q.full());
    EXPECT_TRUE(holds(q.queued()[1], 64, 4));
    EXPECT_TRUE(holds(q.queued()[3], 200, 6));
    EXPECT_TRUE(holds(q.queued()[4], 300, 7));
    EXPECT_TRUE(holds(q.queued()[5], 300, 8));

    q.drop_front(0);
    EXPECT_EQ(q.size(), 6U);
    EXPECT_TRUE(holds(q.queued()[0], 299, 3));
    q.drop_front(99);  // more than queued: all gone
    EXPECT_TRUE(q.empty());
}

TEST(DatagramQueue, ASizeBeyondTheMaximumIsCut) {
    DatagramQueue q(2, 16);
    Datagram& d = q.next();
    d.size = 1000;
    q.push();
    EXPECT_EQ(q.queued()[0].size, 16U);
    queue(q, 16, 9);
    EXPECT_TRUE(holds(q.queued()[1], 16, 9));
}

}  // namespace
}  // namespace dcp::net
