// restrict_protocols against libcurls of both ages, and one that refuses: what is asked of each,
// and that a refusal stops the transfer instead of letting it run unrestricted.

#include "sources/curl_protocols.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <variant>
#include <vector>

namespace dcp::sources {
namespace {

struct FakeCurl {
    std::set<CURLoption> unknown;  // answered CURLE_UNKNOWN_OPTION (an older libcurl)
    std::set<CURLoption> refused;  // answered another error
    std::vector<std::pair<CURLoption, std::variant<std::string, long>>> set;

    CURLcode operator()(CURLoption option, const char* value) {
        return record(option, std::string(value));
    }
    CURLcode operator()(CURLoption option, long value) { return record(option, value); }

  private:
    CURLcode record(CURLoption option, std::variant<std::string, long> value) {
        if (unknown.contains(option)) return CURLE_UNKNOWN_OPTION;
        if (refused.contains(option)) return CURLE_BAD_FUNCTION_ARGUMENT;
        set.emplace_back(option, std::move(value));
        return CURLE_OK;
    }
};

TEST(RestrictProtocols, ByNameOnACurrentLibcurl) {
    FakeCurl curl;
    EXPECT_FALSE(restrict_protocols(curl));
    ASSERT_EQ(curl.set.size(), 2U);
    EXPECT_EQ(curl.set[0].first, CURLOPT_PROTOCOLS_STR);
    EXPECT_EQ(std::get<std::string>(curl.set[0].second), "https,file");
    EXPECT_EQ(curl.set[1].first, CURLOPT_REDIR_PROTOCOLS_STR);
    EXPECT_EQ(std::get<std::string>(curl.set[1].second), "https");
}

TEST(RestrictProtocols, BitmasksOnALibcurlOlderThan785) {
    FakeCurl curl;
    curl.unknown = {CURLOPT_PROTOCOLS_STR, CURLOPT_REDIR_PROTOCOLS_STR};
    EXPECT_FALSE(restrict_protocols(curl));
    ASSERT_EQ(curl.set.size(), 2U);
    EXPECT_EQ(curl.set[0].first, CURLOPT_PROTOCOLS);
    EXPECT_EQ(std::get<long>(curl.set[0].second), CURLPROTO_HTTPS | CURLPROTO_FILE);
    EXPECT_EQ(curl.set[1].first, CURLOPT_REDIR_PROTOCOLS);
    EXPECT_EQ(std::get<long>(curl.set[1].second), CURLPROTO_HTTPS);
}

TEST(RestrictProtocols, ARefusalIsAnErrorNeverAnUnrestrictedTransfer) {
    for (const auto& [unknown, refused] :
         std::vector<std::pair<std::set<CURLoption>, std::set<CURLoption>>>{
             {{}, {CURLOPT_PROTOCOLS_STR}},
             {{}, {CURLOPT_REDIR_PROTOCOLS_STR}},
             {{CURLOPT_PROTOCOLS_STR}, {CURLOPT_PROTOCOLS}},
             {{CURLOPT_PROTOCOLS_STR}, {CURLOPT_REDIR_PROTOCOLS}},
             {{CURLOPT_PROTOCOLS_STR, CURLOPT_PROTOCOLS}, {}}}) {
        FakeCurl curl;
        curl.unknown = unknown;
        curl.refused = refused;
        EXPECT_TRUE(restrict_protocols(curl));
    }
}

}  // namespace
}  // namespace dcp::sources
