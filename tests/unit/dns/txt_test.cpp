#include "dns/txt.hpp"

#include <gtest/gtest.h>

#include "unit/dns/dns_builder.hpp"

namespace dcp::dns {
namespace {

using test::MsgBuilder;
using test::txt_rdata;

std::vector<std::uint8_t> bytes_of(const std::string& s) {
    return {s.begin(), s.end()};
}

Name name_of(const char* text) {
    return *encode_name(text);
}

TEST(Txt, ConcatenatesStringsPerRecordAndSkipsOtherTypes) {
    const auto msg = MsgBuilder()
                         .header(1, 0x8180, 1, 3, 0, 0)
                         .question("2.dnscrypt-cert.example", 16)
                         .record_at(12, 16, 60, txt_rdata({"abc", "def"}))
                         .record_at(12, 1, 60, {1, 2, 3, 4})
                         .record_at(12, 16, 60, txt_rdata({std::string(255, 'x'), "y"}))
                         .build();
    const auto txt = extract_txt_answers(msg, name_of("2.DNSCRYPT-cert.example"));
    ASSERT_TRUE(txt) << to_string(txt.error());
    ASSERT_EQ(txt->size(), 2u);
    EXPECT_EQ((*txt)[0], bytes_of("abcdef"));
    EXPECT_EQ((*txt)[1], bytes_of(std::string(255, 'x') + "y"));
}

TEST(Txt, OnlyRecordsOfTheOwnerAndClassIn) {
    const auto msg = MsgBuilder()
                         .header(1, 0x8180, 1, 4, 0, 0)
                         .question("a.example", 16)
                         .record("other.example", 16, 60, txt_rdata({"other owner"}))
                         .record_at(12, 16, 60, txt_rdata({"chaos"}), 3)
                         .record("a.example", 16, 60, txt_rdata({"mine, uncompressed"}))
                         .record_at(12, 16, 60, txt_rdata({"mine"}))
                         .build();
    const auto txt = extract_txt_answers(msg, name_of("a.example"));
    ASSERT_TRUE(txt);
    ASSERT_EQ(txt->size(), 2u);
    EXPECT_EQ((*txt)[0], bytes_of("mine, uncompressed"));
    EXPECT_EQ((*txt)[1], bytes_of("mine"));
}

TEST(Txt, IgnoresAuthorityAndAdditional) {
    const auto msg = MsgBuilder()
                         .header(1, 0x8180, 1, 1, 1, 1)
                         .question("t.example", 16)
                         .record_at(12, 16, 60, txt_rdata({"answer"}))
                         .record_at(12, 16, 60, txt_rdata({"authority"}))
                         .record_at(12, 16, 60, txt_rdata({"additional"}))
                         .build();
    const auto txt = extract_txt_answers(msg, name_of("t.example"));
    ASSERT_TRUE(txt);
    ASSERT_EQ(txt->size(), 1u);
    EXPECT_EQ((*txt)[0], bytes_of("answer"));
}

TEST(Txt, EmptyRdataGivesEmptyText) {
    const auto msg = MsgBuilder()
                         .header(1, 0x8180, 1, 1, 0, 0)
                         .question("t.example", 16)
                         .record_at(12, 16, 60, {})
                         .build();
    const auto txt = extract_txt_answers(msg, name_of("t.example"));
    ASSERT_TRUE(txt);
    ASSERT_EQ(txt->size(), 1u);
    EXPECT_TRUE((*txt)[0].empty());
}

TEST(Txt, StringOverrunningRdataIsAnError) {
    const auto msg = MsgBuilder()
                         .header(1, 0x8180, 1, 1, 0, 0)
                         .question("t.example", 16)
                         .record_at(12, 16, 60, {5, 'a', 'b'})
                         .build();
    const auto txt = extract_txt_answers(msg, name_of("t.example"));
    ASSERT_FALSE(txt);
    EXPECT_EQ(txt.error(), Error::ShortPacket);
}

TEST(Txt, MalformedMessageIsAnError) {
    auto msg = MsgBuilder()
                   .header(1, 0x8180, 1, 2, 0, 0)
                   .question("t.example", 16)
                   .record_at(12, 16, 60, txt_rdata({"a"}))
                   .build();
    EXPECT_FALSE(extract_txt_answers(msg, name_of("t.example")));  // ANCOUNT 2, one present
    // A TXT owner whose pointer leads nowhere sensible.
    auto bad_owner = MsgBuilder()
                         .header(1, 0x8180, 1, 1, 0, 0)
                         .question("t.example", 16)
                         .record_at(13, 16, 60, txt_rdata({"a"}))
                         .build();
    bad_owner[13] = 0xc0;  // turn the question's first label into a pointer to itself
    bad_owner[14] = 13;
    EXPECT_FALSE(extract_txt_answers(bad_owner, name_of("t.example")));
}

}  // namespace
}  // namespace dcp::dns
