#include "common/bytes.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace dcp {
namespace {

TEST(ByteReader, ReadsBigEndianAndStopsAtTheEnd) {
    const std::vector<std::uint8_t> data = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
    ByteReader r(data);
    EXPECT_EQ(r.u8(), 0x01);
    EXPECT_EQ(r.u16(), 0x0203);
    EXPECT_EQ(r.u32(), 0x04050607u);
    EXPECT_TRUE(r.empty());
    EXPECT_FALSE(r.u8());
    EXPECT_FALSE(r.u16());
    EXPECT_FALSE(r.u32());
    EXPECT_FALSE(r.bytes(1));
    EXPECT_FALSE(r.skip(1));
}

TEST(ByteReader, ArrayRead) {
    const std::vector<std::uint8_t> data = {0x01, 0x02, 0x03};
    ByteReader r(data, 1);
    const auto two = r.array<2>();
    ASSERT_TRUE(two);
    EXPECT_EQ((*two)[1], 0x03);
    EXPECT_TRUE(r.ok());
}

TEST(ByteReader, FailureIsSticky) {
    // A 4-byte read fails on 3 bytes; a following 2-byte read must not succeed on what is left.
    const std::vector<std::uint8_t> data = {0x01, 0x02, 0x03};
    ByteReader r(data);
    EXPECT_FALSE(r.u32());
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.position(), 0u);
    EXPECT_FALSE(r.u16());
    EXPECT_FALSE(r.u8());
    EXPECT_FALSE((r.array<1>()));
    EXPECT_FALSE(r.skip(0));
    EXPECT_TRUE(r.empty());
}

TEST(ByteReader, HugeSkipDoesNotWrap) {
    const std::vector<std::uint8_t> data(4);
    ByteReader r(data, 2);
    EXPECT_FALSE(r.skip(static_cast<std::size_t>(-1)));
    EXPECT_EQ(r.position(), 2u);
    EXPECT_FALSE(r.ok());
}

TEST(ByteReader, OffsetPastEndIsClamped) {
    const std::vector<std::uint8_t> data(4);
    ByteReader r(data, 10);
    EXPECT_TRUE(r.empty());
}

TEST(ByteWriter, WritesAndRefusesOverflow) {
    std::vector<std::uint8_t> out(7);
    ByteWriter w(out);
    EXPECT_TRUE(w.u8(0xaa));
    EXPECT_TRUE(w.u16(0xbbcc));
    EXPECT_TRUE(w.u32(0x01020304));
    EXPECT_FALSE(w.u8(0));
    EXPECT_EQ(out, (std::vector<std::uint8_t>{0xaa, 0xbb, 0xcc, 1, 2, 3, 4}));
    ByteWriter w2(out, 5);
    EXPECT_FALSE(w2.u32(0));
    EXPECT_FALSE(w2.zeros(3));
    EXPECT_TRUE(w2.zeros(2));
    EXPECT_EQ(out[5], 0);
    const std::vector<std::uint8_t> three = {9, 9, 9};
    ByteWriter w3(out, 5);
    EXPECT_FALSE(w3.bytes(three));
    EXPECT_EQ(w3.position(), 5u);
}

TEST(Endian, LoadStore) {
    std::uint8_t b[4];
    store_u32_be(b, 0xdeadbeef);
    EXPECT_EQ(load_u32_be(b), 0xdeadbeefu);
    store_u16_be(b, 0x1234);
    EXPECT_EQ(b[0], 0x12);
    EXPECT_EQ(load_u16_be(b), 0x1234);
}

}  // namespace
}  // namespace dcp
