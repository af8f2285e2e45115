#pragma once
// Time is injected: protocol code takes `now` as an argument, schedulers take a Clock, and tests
// use a fake clock to expire certificates.

#include <chrono>
#include <cstdint>

namespace dcp {

using UnixSeconds = std::chrono::sys_seconds;

class Clock {
  public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual UnixSeconds now() const = 0;
};

class SystemClock final : public Clock {
  public:
    [[nodiscard]] UnixSeconds now() const override {
        return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    }
};

// For tests and replays: returns whatever it was last set to.
class FakeClock final : public Clock {
  public:
    explicit FakeClock(UnixSeconds start) : now_(start) {}
    [[nodiscard]] UnixSeconds now() const override { return now_; }
    void set(UnixSeconds t) { now_ = t; }
    void advance(std::chrono::seconds d) { now_ += d; }

  private:
    UnixSeconds now_;
};

inline UnixSeconds unix_seconds(std::int64_t s) {
    return UnixSeconds{std::chrono::seconds{s}};
}

}  // namespace dcp
