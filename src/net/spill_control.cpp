#include "net/spill_control.hpp"

namespace dcp::net {

std::size_t SpillControl::update(double busy_cores) noexcept {
    const auto reading = static_cast<double>(reading_);
    if (reading_ < workers_ && busy_cores >= settings_.saturated * reading) {
        spare_for_ = 0;
        if (++saturated_for_ >= settings_.saturated_intervals) {
            ++reading_;
            saturated_for_ = 0;
        }
        return reading_;
    }
    saturated_for_ = 0;
    if (reading_ > 1 && busy_cores < settings_.spare * (reading - 1)) {
        if (++spare_for_ >= settings_.spare_intervals) {
            --reading_;
            spare_for_ = 0;
        }
        return reading_;
    }
    spare_for_ = 0;
    return reading_;
}

}  // namespace dcp::net
