#include "dnscrypt/query_size_estimator.hpp"

#include <gtest/gtest.h>

namespace dcp::dnscrypt {
namespace {

TEST(QuerySizeEstimator, StartsAtTheSpecMinimum) {
    const QuerySizeEstimator e;
    EXPECT_EQ(e.min_query_len(), 256u);
}

TEST(QuerySizeEstimator, NeededLengthCoversTheAnswer) {
    EXPECT_EQ(QuerySizeEstimator::needed_for(10), 256u);
    EXPECT_EQ(QuerySizeEstimator::needed_for(958), 960u);
    EXPECT_EQ(QuerySizeEstimator::needed_for(959), 960u);
    EXPECT_EQ(QuerySizeEstimator::needed_for(960), 1024u);  // room for the 0x80
    for (std::size_t a = 0; a < 4000; a += 7) {
        const auto n = QuerySizeEstimator::needed_for(a);
        EXPECT_GT(n, a);
        EXPECT_EQ(n % 64, 0u);
    }
}

TEST(QuerySizeEstimator, OneTruncationIsEnoughForTheSameAnswer) {
    // The original grew 64 bytes per truncation: 958 bytes took 9 round trips.
    QuerySizeEstimator e;
    e.on_truncated(256, 958, 1232);
    EXPECT_GE(e.min_query_len(), 958u + 1);
    EXPECT_EQ(e.min_query_len(), 960u);
}

TEST(QuerySizeEstimator, AnswersOverTheAdvertisedPayloadTeachNothing) {
    QuerySizeEstimator e;
    e.on_truncated(256, 1000, 512);  // DNS-level truncation: the padding was not the reason
    EXPECT_EQ(e.min_query_len(), 256u);
}

TEST(QuerySizeEstimator, AnswersUdpCannotCarryAreLeftToTcp) {
    QuerySizeEstimator e(4096);
    e.on_truncated(256, 5000, 65535);
    EXPECT_EQ(e.min_query_len(), 256u);
}

TEST(QuerySizeEstimator, LearnsTheResolversCeiling) {
    QuerySizeEstimator e;
    e.on_truncated(256, 2000, 4096);
    EXPECT_EQ(e.min_query_len(), 2048u);
    // Padded enough and truncated again: the resolver will not send 2000 bytes over UDP.
    e.on_truncated(2048, 2000, 4096);
    EXPECT_EQ(e.min_query_len(), 1984u);
    // Nothing beyond the ceiling any more.
    e.on_truncated(256, 1990, 4096);
    EXPECT_EQ(e.min_query_len(), 1984u);
    e.on_truncated(256, 1500, 4096);
    EXPECT_EQ(e.min_query_len(), 1984u);  // never shrinks on truncation
}

TEST(QuerySizeEstimator, ShrinksBackAfterAWindowOfSmallAnswers) {
    QuerySizeEstimator e;
    e.on_truncated(256, 1500, 4096);
    EXPECT_EQ(e.min_query_len(), 1536u);
    // The window that saw the large answer keeps the padding for it.
    for (std::size_t i = 0; i < QuerySizeEstimator::kWindow; ++i) e.on_udp_answer(100);
    EXPECT_EQ(e.min_query_len(), 1536u);
    for (std::size_t i = 0; i < QuerySizeEstimator::kWindow - 1; ++i) e.on_udp_answer(100);
    EXPECT_EQ(e.min_query_len(), 1536u);
    e.on_udp_answer(700);
    EXPECT_EQ(e.min_query_len(), 704u);  // what the largest answer of the window needed
    for (std::size_t i = 0; i < QuerySizeEstimator::kWindow; ++i) e.on_udp_answer(50);
    EXPECT_EQ(e.min_query_len(), 256u);
}

TEST(QuerySizeEstimator, ThroughARelayNeverBelow512) {
    // A relay drops answers larger than the query: relayed queries start at 512 and never
    // shrink below it; they grow for larger answers as any other.
    QuerySizeEstimator e(4096 - 28, kMinRelayedQueryLength);
    EXPECT_EQ(e.min_query_len(), 512u);
    e.on_truncated(512, 900, 4096);
    EXPECT_EQ(e.min_query_len(), 960u);
    for (std::size_t i = 0; i < 2 * QuerySizeEstimator::kWindow; ++i) e.on_udp_answer(50);
    EXPECT_EQ(e.min_query_len(), 512u);
    EXPECT_EQ(QuerySizeEstimator::needed_for(10, kMinRelayedQueryLength), 512u);
    // A largest packet too small for the floor: the floor is what fits.
    EXPECT_EQ(QuerySizeEstimator(300, kMinRelayedQueryLength).min_query_len(), 256u);
}

}  // namespace
}  // namespace dcp::dnscrypt
