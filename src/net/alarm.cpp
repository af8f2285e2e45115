#include "net/alarm.hpp"

namespace dcp::net {

Alarm::Alarm(asio::io_context& io, const SteadyClock& clock, std::function<void()> on_time)
    :  // Once, here: a manual clock is a test's, and it drives the alarm itself.
      manual_(dynamic_cast<ManualSteadyClock*>(const_cast<SteadyClock*>(&clock))),
      timer_(io),
      on_time_(std::move(on_time)) {}

Alarm::~Alarm() {
    alive_.end();
    cancel();
}

void Alarm::at(SteadyClock::time_point t) {
    due_ = t;
    const auto generation = ++generation_;
    if (manual_ != nullptr) {
        manual_->add(*this);
        return;
    }
    timer_.expires_at(t);
    timer_.async_wait([this, generation, alive = alive_.token()](const asio::error_code&) {
        if (alive && generation == generation_) on_time_();
    });
}

void Alarm::cancel() {
    ++generation_;
    if (manual_ != nullptr) {
        manual_->remove(*this);
        return;
    }
    timer_.cancel();
}

void Alarm::on_due() {
    ++generation_;
    on_time_();
}

}  // namespace dcp::net
