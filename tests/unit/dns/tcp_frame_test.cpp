#include "dns/tcp_frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace dcp::dns {
namespace {

using Message = std::vector<std::uint8_t>;

std::vector<std::uint8_t> frame(const std::vector<Message>& messages) {
    std::vector<std::uint8_t> stream;
    for (const auto& m : messages) {
        stream.push_back(static_cast<std::uint8_t>(m.size() >> 8));
        stream.push_back(static_cast<std::uint8_t>(m.size()));
        stream.insert(stream.end(), m.begin(), m.end());
    }
    return stream;
}

// Feeds `stream` in pieces whose sizes come from `piece` (capped by space()), collecting every
// message; fails the test on a framing error.
template <class PieceSize>
std::vector<Message> feed(const std::vector<std::uint8_t>& stream, PieceSize piece,
                          std::size_t* max_capacity = nullptr) {
    TcpFrameReader reader;
    std::vector<Message> out;
    std::size_t pos = 0;
    for (;;) {
        for (;;) {
            auto m = reader.next();
            EXPECT_TRUE(m.has_value());
            if (!m || !*m) break;
            out.emplace_back((*m)->begin(), (*m)->end());
        }
        if (pos == stream.size()) break;
        auto space = reader.space();
        EXPECT_FALSE(space.empty());
        if (space.empty()) break;
        const std::size_t n = std::min({space.size(), stream.size() - pos, piece()});
        std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(pos), n, space.begin());
        reader.commit(n);
        pos += n;
        if (max_capacity) *max_capacity = std::max(*max_capacity, reader.capacity());
    }
    EXPECT_EQ(reader.buffered(), 0u);
    return out;
}

std::vector<Message> sample_messages() {
    std::vector<Message> ms;
    for (std::size_t len : {1u, 2u, 12u, 300u, 1021u, 1022u, 1023u, 1024u, 5000u, 65535u, 17u}) {
        Message m(len);
        for (std::size_t i = 0; i < len; ++i) m[i] = static_cast<std::uint8_t>(i * 7 + len);
        ms.push_back(std::move(m));
    }
    return ms;
}

TEST(TcpFrameReader, WholeStreamAtOnce) {
    const auto ms = sample_messages();
    EXPECT_EQ(feed(frame(ms), [] { return std::size_t{1} << 20; }), ms);
}

TEST(TcpFrameReader, OneByteAtATime) {
    const auto ms = sample_messages();
    std::size_t cap = 0;
    EXPECT_EQ(feed(
                  frame(ms), [] { return std::size_t{1}; }, &cap),
              ms);
    EXPECT_EQ(cap, TcpFrameReader::kMaxFrame);  // grew for the 65535-byte message, no further
}

TEST(TcpFrameReader, CutAtEveryPointOfASmallStream) {
    const std::vector<Message> ms = {Message(5, 1), Message(1, 2), Message(40, 3), Message(3, 4)};
    const auto stream = frame(ms);
    for (std::size_t first = 1; first <= stream.size(); ++first) {
        bool used = false;
        const auto got = feed(stream, [&] {
            if (used) return std::size_t{1} << 20;
            used = true;
            return first;
        });
        EXPECT_EQ(got, ms) << "first piece " << first;
    }
}

TEST(TcpFrameReader, RandomPiecesAgainstTheMessagesSent) {
    std::mt19937 rng(1234);
    for (int round = 0; round < 200; ++round) {
        std::vector<Message> ms(std::uniform_int_distribution<std::size_t>(0, 30)(rng));
        for (auto& m : ms) {
            m.resize(std::uniform_int_distribution<std::size_t>(1, 3000)(rng));
            for (auto& b : m) b = static_cast<std::uint8_t>(rng());
        }
        std::uniform_int_distribution<std::size_t> piece(1, 2500);
        EXPECT_EQ(feed(frame(ms), [&] { return piece(rng); }), ms);
    }
}

TEST(TcpFrameReader, ZeroLengthIsAnError) {
    TcpFrameReader reader;
    const std::vector<std::uint8_t> stream = {0, 3, 'a', 'b', 'c', 0, 0, 0, 1, 'x'};
    auto space = reader.space();
    std::copy(stream.begin(), stream.end(), space.begin());
    reader.commit(stream.size());
    auto first = reader.next();
    ASSERT_TRUE(first.has_value());
    ASSERT_TRUE(first->has_value());
    EXPECT_EQ((*first)->size(), 3u);
    const auto second = reader.next();
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error(), FrameError::ZeroLength);
}

TEST(TcpFrameReader, PartialPrefixAndMessageAreBuffered) {
    TcpFrameReader reader;
    auto space = reader.space();
    space[0] = 0x01;  // half a prefix
    reader.commit(1);
    auto m = reader.next();
    ASSERT_TRUE(m.has_value());
    EXPECT_FALSE(m->has_value());
    EXPECT_EQ(reader.buffered(), 1u);
    space = reader.space();
    space[0] = 0x00;  // 256 bytes announced
    space[1] = 0xAA;
    reader.commit(2);
    m = reader.next();
    ASSERT_TRUE(m.has_value());
    EXPECT_FALSE(m->has_value());
    EXPECT_EQ(reader.buffered(), 3u);
    // The space offered never runs past the buffer, and the buffer holds the whole message.
    space = reader.space();
    EXPECT_GE(space.size(), 255u);
}

TEST(TcpFrameReader, ShrinksBackAfterALargeMessage) {
    const std::vector<Message> ms = {Message(60000, 9)};
    TcpFrameReader reader;
    const auto stream = frame(ms);
    std::size_t pos = 0;
    while (pos < stream.size()) {
        auto space = reader.space();
        const std::size_t n = std::min(space.size(), stream.size() - pos);
        std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(pos), n, space.begin());
        reader.commit(n);
        pos += n;
        auto m = reader.next();
        ASSERT_TRUE(m.has_value());
    }
    EXPECT_GE(reader.capacity(), 60002u);
    (void)reader.space();
    EXPECT_EQ(reader.capacity(), TcpFrameReader::kInitialCapacity);
}

}  // namespace
}  // namespace dcp::dns
