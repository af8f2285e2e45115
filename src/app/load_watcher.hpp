#pragma once
// Spill-over (no --threads): every 100 ms, the process's CPU time says whether the workers
// reading are saturated (one more reads) or have long had room to spare (one fewer); the
// decision itself is net::SpillControl's.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>

#include "net/asio.hpp"
#include "net/spill_control.hpp"

namespace dcp::app {

class LoadWatcher {
  public:
    // `set_reading(worker, on)`, called on `io`'s thread: worker `worker` (1 and up; worker 0
    // always reads) is to start or stop reading.
    LoadWatcher(asio::io_context& io, std::size_t workers,
                std::function<void(std::size_t worker, bool on)> set_reading);

    void start();
    void stop();

  private:
    void next_tick();
    static std::chrono::microseconds process_cpu_time();

    static constexpr auto kInterval = std::chrono::milliseconds(100);

    asio::steady_timer timer_;
    net::SpillControl spill_;
    std::function<void(std::size_t, bool)> set_reading_;
    std::chrono::microseconds last_cpu_{0};
    std::chrono::steady_clock::time_point last_tick_;
};

}  // namespace dcp::app
