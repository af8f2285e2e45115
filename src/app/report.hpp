#pragma once
// SIGUSR1's report: every worker's counters and server figures summed, as log lines. Pure: the
// runtime gathers, this adds up and formats (unit-tested; tests/integration's
// lab.sigusr1_report reads the same lines).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/counters.hpp"
#include "upstream/pool.hpp"

namespace dcp::app {

class Report {
  public:
    explicit Report(std::size_t workers) : workers_(workers) {}

    // Worker `index`'s share, in any order.
    void add(std::size_t index, const Counters& counters,
             const std::vector<upstream::ServerReport>& servers);

    // "counters: ...", then "queries by worker: ..." with several workers, then one
    // "server NAME: ..." line per server with several servers.
    [[nodiscard]] std::vector<std::string> lines() const;

  private:
    std::size_t workers_;
    Counters sum_;
    std::vector<upstream::ServerReport> servers_;
    // Queries received, by worker (--threads is at most 64; a fixed array also spares GCC 12
    // -O3 a false null-dereference warning on a vector's resize here).
    std::array<std::uint64_t, 64> per_worker_{};
};

}  // namespace dcp::app
