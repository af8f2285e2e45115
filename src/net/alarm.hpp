#pragma once
// One timer on an injected monotonic clock: Asio's steady_timer on the system's clock; on a
// ManualSteadyClock (tests), the clock's advance() fires it. Its handler is set once, so arming
// it again and again (the pool does, once per query at low load) allocates nothing.

#include <functional>
#include <memory>

#include "common/clock.hpp"
#include "common/liveness.hpp"
#include "common/noncopyable.hpp"
#include "net/asio.hpp"

namespace dcp::net {

class Alarm final : private ManualSteadyClock::Waiter, NonCopyable {
  public:
    Alarm(asio::io_context& io, const SteadyClock& clock, std::function<void()> on_time);
    ~Alarm();

    // Fires once at `t` (at once when it has passed), replacing any time set before.
    void at(SteadyClock::time_point t);
    void cancel();

  private:
    void on_due() override;
    [[nodiscard]] SteadyClock::time_point due() const override { return due_; }

    ManualSteadyClock* manual_;  // the clock, when it is a manual one (else the system's)
    asio::steady_timer timer_;
    std::function<void()> on_time_;
    SteadyClock::time_point due_{};
    std::uint64_t generation_ = 0;  // a completion of an earlier wait is stale
    Liveness alive_;
};

}  // namespace dcp::net
