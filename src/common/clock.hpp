#pragma once
// Time is injected: protocol code takes `now` as an argument, schedulers take a Clock (wall
// time: certificates' validity) or a SteadyClock (monotonic: deadlines, back-offs, round trips),
// and tests use fake ones: a FakeClock to expire certificates, a ManualSteadyClock to run a
// scheduler's minutes in no time (net::Alarm fires on it).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

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

class SteadyClock {
  public:
    using time_point = std::chrono::steady_clock::time_point;
    using duration = std::chrono::steady_clock::duration;
    virtual ~SteadyClock() = default;
    [[nodiscard]] virtual time_point now() const = 0;
};

class SystemSteadyClock final : public SteadyClock {
  public:
    [[nodiscard]] time_point now() const override { return std::chrono::steady_clock::now(); }
};

// The process's one monotonic clock (stateless: shared by every thread).
[[nodiscard]] inline const SteadyClock& system_steady_clock() {
    static const SystemSteadyClock clock;
    return clock;
}

// For tests: time moves only when advance() says so; whatever waits on it (net::Alarm) is told
// then, in the order of the times it waits for.
class ManualSteadyClock final : public SteadyClock {
  public:
    class Waiter {
      public:
        // Called by advance() once `due()` has come.
        virtual void on_due() = 0;
        [[nodiscard]] virtual time_point due() const = 0;

      protected:
        ~Waiter() = default;
    };

    [[nodiscard]] time_point now() const override { return now_; }
    // Moves time on by `d`, stopping at each waiter's time on the way to tell it.
    void advance(duration d) {
        const auto until = now_ + d;
        for (;;) {
            Waiter* next = nullptr;
            for (Waiter* w : waiters_) {
                if (w->due() <= until && (next == nullptr || w->due() < next->due())) next = w;
            }
            if (next == nullptr) break;
            now_ = std::max(now_, next->due());
            remove(*next);
            next->on_due();
        }
        now_ = until;
    }
    void add(Waiter& w) {
        if (std::find(waiters_.begin(), waiters_.end(), &w) == waiters_.end()) {
            waiters_.push_back(&w);
        }
    }
    void remove(Waiter& w) { std::erase(waiters_, &w); }

  private:
    time_point now_{std::chrono::hours(24)};  // not the epoch: "never" stays distinguishable
    std::vector<Waiter*> waiters_;
};

inline UnixSeconds unix_seconds(std::int64_t s) {
    return UnixSeconds{std::chrono::seconds{s}};
}

}  // namespace dcp
