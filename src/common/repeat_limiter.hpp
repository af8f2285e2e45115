#pragma once
// How a recurring problem reaches the log: said when it first happens or changes, then again at
// most once per interval, with how many times it happened meanwhile (a server down at boot, a
// limit hit a thousand times a second, must not fill the log). The one rate limit for log
// lines; the caller logs the occurrences in between at debug, or not at all.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace dcp {

class RepeatLimiter {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;

    // `interval`: duration::max() says a repeated problem never again until it changes or
    // clear() is called.
    explicit RepeatLimiter(std::chrono::steady_clock::duration interval) : interval_(interval) {}

    // One occurrence of `what` at `now`. When it is to be said now: the occurrences this line
    // stands for (1, or more with those held back since the last line); else 0.
    [[nodiscard]] std::uint64_t occur(std::string_view what, TimePoint now) {
        ++held_;
        if (said_ && what == last_ && now - said_at_ < interval_) return 0;
        said_ = true;
        last_.assign(what);
        said_at_ = now;
        const auto n = held_;
        held_ = 0;
        return n;
    }

    // The problem is over (a server answered): the next occurrence is said at once.
    void clear() {
        said_ = false;
        last_.clear();
        held_ = 0;
    }

    // A problem has been said and not cleared since.
    [[nodiscard]] bool active() const { return said_; }

  private:
    std::chrono::steady_clock::duration interval_;
    bool said_ = false;
    std::string last_;
    TimePoint said_at_{};
    std::uint64_t held_ = 0;
};

}  // namespace dcp
