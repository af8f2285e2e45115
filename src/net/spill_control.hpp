#pragma once
// How many workers read the listening sockets when the user did not say (no --threads): the
// first always; one more when those reading are saturated, one fewer when the load would fit in
// fewer with room to spare. Each worker that reads costs wake-ups and system calls of its own, and
// on a machine whose cores are shared with the resolver and the clients two half-busy workers
// cost more CPU per query than one busy one (bench/README.md): more workers only when one core
// is not enough. Pure: fed the process's CPU time per interval, it answers the count.

#include <cstddef>

namespace dcp::net {

struct SpillSettings {
    double saturated = 0.85;      // busy fraction of a core per reading worker: add one
    int saturated_intervals = 3;  // ... after this many intervals in a row
    double spare = 0.5;           // fewer: when the load fits in one worker fewer at this fraction
    int spare_intervals = 20;     // ... after this many intervals in a row
};

class SpillControl {
  public:
    SpillControl(std::size_t workers, SpillSettings settings = {}) noexcept
        : workers_(workers == 0 ? 1 : workers), settings_(settings) {}

    // `busy_cores`: the process's CPU time over the last interval divided by the interval (1.0:
    // one core all the time). Returns how many workers should read from now on.
    std::size_t update(double busy_cores) noexcept;

    [[nodiscard]] std::size_t reading() const noexcept { return reading_; }
    [[nodiscard]] std::size_t workers() const noexcept { return workers_; }

  private:
    std::size_t workers_;
    SpillSettings settings_;
    std::size_t reading_ = 1;
    int saturated_for_ = 0;
    int spare_for_ = 0;
};

}  // namespace dcp::net
