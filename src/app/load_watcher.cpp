#include "app/load_watcher.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <utility>

namespace dcp::app {

LoadWatcher::LoadWatcher(asio::io_context& io, std::size_t workers,
                         std::function<void(std::size_t, bool)> set_reading)
    : timer_(io), spill_(workers), set_reading_(std::move(set_reading)) {}

void LoadWatcher::start() {
    last_cpu_ = process_cpu_time();
    last_tick_ = std::chrono::steady_clock::now();
    next_tick();
}

void LoadWatcher::stop() {
    timer_.cancel();
}

std::chrono::microseconds LoadWatcher::process_cpu_time() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return std::chrono::seconds(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           std::chrono::microseconds(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

void LoadWatcher::next_tick() {
    timer_.expires_after(kInterval);
    timer_.async_wait([this](const asio::error_code& ec) {
        if (ec) return;
        const auto cpu = process_cpu_time();
        const auto now = std::chrono::steady_clock::now();
        const double busy = std::chrono::duration<double>(cpu - last_cpu_).count() /
                            std::chrono::duration<double>(now - last_tick_).count();
        last_cpu_ = cpu;
        last_tick_ = now;
        const std::size_t before = spill_.reading();
        const std::size_t after = spill_.update(busy);
        if (after != before) {
            spdlog::debug("load {:.2f} cores: {} of {} workers reading", busy, after,
                          spill_.workers());
            set_reading_(std::max(before, after) - 1, after > before);
        }
        next_tick();
    });
}

}  // namespace dcp::app
