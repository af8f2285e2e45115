#include "dnscrypt/padding.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace dcp::dnscrypt {
namespace {

TEST(Padding, UdpSpecRule) {
    EXPECT_EQ(*udp_padded_length(40, 256, 4096), 256u);
    EXPECT_EQ(*udp_padded_length(255, 256, 4096), 256u);
    EXPECT_EQ(*udp_padded_length(256, 256, 4096), 320u);  // room for the 0x80
    EXPECT_EQ(*udp_padded_length(40, 300, 4096), 320u);   // min rounded up to 64
    EXPECT_EQ(*udp_padded_length(1000, 256, 4096), 1024u);
    for (std::size_t len = 0; len < 2000; ++len) {
        const auto p = udp_padded_length(len, 256, 4096);
        ASSERT_TRUE(p);
        EXPECT_EQ(*p % 64, 0u);
        EXPECT_GE(*p, 256u);
        EXPECT_GE(*p, len + 1);
        EXPECT_LE(*p, std::max<std::size_t>(256, len + 64));
    }
}

TEST(Padding, UdpLimitFallsBackToTcp) {
    // 68 + 4032 > 4096: cannot be sent over UDP.
    const auto r = udp_padded_length(4000, 256, 4096);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), PacketError::CannotPad);
    EXPECT_EQ(*udp_padded_length(3950, 256, 4096), 3968u);  // 68 + 3968 = 4036
    // Extra headers (a relay's) count too: 68 + 92 + 3968 > 4096.
    EXPECT_EQ(udp_padded_length(3950, 256, 4096, 28 + 64).error(), PacketError::CannotPad);
    EXPECT_EQ(udp_padded_length(10, 256, 60).error(), PacketError::CannotPad);
    EXPECT_EQ(udp_padded_length(70000, 256, 100000).error(), PacketError::TooLarge);
}

TEST(Padding, TcpPadIsOneTo256BytesAndAligned) {
    for (std::size_t len = 12; len < 600; ++len) {
        for (std::uint32_t extra = 0; extra < kTcpPaddingChoices + 2; ++extra) {
            const auto p = tcp_padded_length(len, extra);
            EXPECT_EQ(p % 64, 0u);
            EXPECT_GE(p - len, 1u);
            EXPECT_LE(p - len, kMaxTcpPadding);
        }
    }
    // The spec's example: a 56-byte query gets 8, 72, 136 or 200 bytes.
    EXPECT_EQ(tcp_padded_length(56, 0) - 56, 8u);
    EXPECT_EQ(tcp_padded_length(56, 3) - 56, 200u);
}

TEST(Padding, PadAndUnpad) {
    std::vector<std::uint8_t> buf(64, 0xee);
    buf[0] = 1;
    buf[9] = 0;  // a message that itself ends in a zero byte
    pad(buf, 10, 64);
    EXPECT_EQ(buf[10], 0x80);
    EXPECT_EQ(buf[63], 0);
    EXPECT_EQ(*unpadded_length(buf), 10u);
}

TEST(Padding, UnpadRejects) {
    EXPECT_EQ(unpadded_length(std::vector<std::uint8_t>{}).error(), PacketError::BadPadding);
    EXPECT_EQ(unpadded_length(std::vector<std::uint8_t>(64, 0)).error(), PacketError::BadPadding);
    EXPECT_EQ(unpadded_length(std::vector<std::uint8_t>{1, 2, 0x81, 0}).error(),
              PacketError::BadPadding);
    EXPECT_EQ(unpadded_length(std::vector<std::uint8_t>{1, 2, 3}).error(), PacketError::BadPadding);
    EXPECT_EQ(*unpadded_length(std::vector<std::uint8_t>{0x80}), 0u);
    // Alignment is not insisted on (servers are not bound to it).
    EXPECT_EQ(*unpadded_length(std::vector<std::uint8_t>{1, 2, 3, 0x80, 0}), 3u);
}

// The scan goes eight bytes at a time: every message length and padding length around those
// steps, with and without the delimiter, and with a stray byte inside the zeros.
TEST(Padding, UnpadEveryLengthAndOffset) {
    for (std::size_t msg = 0; msg <= 40; ++msg) {
        for (std::size_t zeros = 0; zeros <= 40; ++zeros) {
            std::vector<std::uint8_t> buf(msg, 0x11);
            buf.push_back(0x80);
            buf.resize(buf.size() + zeros, 0);
            ASSERT_EQ(*unpadded_length(buf), msg) << msg << " " << zeros;
            buf[msg] = 0;  // no delimiter: the message's own last byte is not 0x80
            EXPECT_FALSE(unpadded_length(buf)) << msg << " " << zeros;
            if (zeros > 0) {
                buf[msg] = 0x80;
                buf[msg + zeros] = 0x01;  // a non-zero byte after the delimiter
                EXPECT_FALSE(unpadded_length(buf)) << msg << " " << zeros;
            }
        }
    }
}

}  // namespace
}  // namespace dcp::dnscrypt
