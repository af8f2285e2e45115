// SIGUSR1's report: sums over workers and the lines the log gets (the integration tests'
// lab.sigusr1_report parses these exact shapes).
#include "app/report.hpp"

#include <gtest/gtest.h>

namespace dcp::app {
namespace {

upstream::ServerReport server(const char* name, std::uint64_t queries, bool up = true) {
    upstream::ServerReport r;
    r.id = std::string("id-") + name;
    r.name = name;
    r.up = up;
    r.srtt = std::chrono::microseconds(1500);
    r.p95 = std::chrono::microseconds(4000);
    r.queries = queries;
    r.answers = queries;
    return r;
}

TEST(Report, ServersAreSummedByIdentityNotByPosition) {
    Report report(2);
    // Two workers listing the same servers in other orders, and one server only one knows.
    report.add(0, Counters{}, {server("a", 4), server("b", 1)});
    report.add(1, Counters{}, {server("c", 5), server("b", 2), server("a", 3)});
    const auto lines = report.lines();
    ASSERT_EQ(lines.size(), 5U);
    EXPECT_EQ(lines[2].rfind("server a: up, rtt 1.5 ms (p95 4.0 ms), 7 queries", 0), 0U)
        << lines[2];
    EXPECT_EQ(lines[3].rfind("server b: up, rtt 1.5 ms (p95 4.0 ms), 3 queries", 0), 0U)
        << lines[3];
    EXPECT_EQ(lines[4].rfind("server c: up, rtt 1.5 ms (p95 4.0 ms), 5 queries", 0), 0U)
        << lines[4];
}

TEST(Report, OneWorkerOneServerIsTheCountersLineAlone) {
    Report report(1);
    Counters c;
    c.queries_udp = 3;
    c.answered = 3;
    report.add(0, c, {server("a", 3)});
    const auto lines = report.lines();
    ASSERT_EQ(lines.size(), 1U);
    EXPECT_EQ(lines[0], "counters: queries_udp=3 answered=3");
}

TEST(Report, NothingCountedSaysAllZero) {
    Report report(1);
    report.add(0, Counters{}, {});
    EXPECT_EQ(report.lines(), std::vector<std::string>{"counters: (all zero)"});
}

TEST(Report, WorkersAreSummedAndListedInTheirOrderWhateverTheOrderTheyReport) {
    Report report(3);
    Counters w0, w1, w2;
    w0.queries_udp = 5;
    w1.queries_tcp = 2;
    w2.queries_udp = 1;
    w2.queries_tcp = 1;
    // Workers report as their threads get to it.
    report.add(2, w2, {server("a", 2), server("b", 0, false)});
    report.add(0, w0, {server("a", 4), server("b", 1)});
    report.add(1, w1, {server("a", 1), server("b", 1)});
    const auto lines = report.lines();
    ASSERT_EQ(lines.size(), 4U);
    EXPECT_EQ(lines[0], "counters: queries_udp=6 queries_tcp=3");
    EXPECT_EQ(lines[1], "queries by worker: 5 2 2");
    // a: 7 of 9 queries; b: 2 of 9, and down: one worker saw it down (ServerReport's +=).
    EXPECT_EQ(lines[2],
              "server a: up, rtt 1.5 ms (p95 4.0 ms), 7 queries (77.8 %), 7 answers, 0 failures, "
              "0 hedges (0 won)");
    EXPECT_EQ(lines[3].rfind("server b: down, ", 0), 0U);
    EXPECT_NE(lines[3].find(" 2 queries (22.2 %)"), std::string::npos);
}

TEST(Report, NoQueriesAtAllIsZeroPercentNotADivisionByZero) {
    Report report(1);
    report.add(0, Counters{}, {server("a", 0), server("b", 0)});
    const auto lines = report.lines();
    ASSERT_EQ(lines.size(), 3U);
    EXPECT_NE(lines[1].find("0 queries (0.0 %)"), std::string::npos);
}

}  // namespace
}  // namespace dcp::app
