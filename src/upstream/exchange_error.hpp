#pragma once

#include <cstdint>
#include <string_view>

namespace dcp::upstream {

enum class ExchangeError : std::uint8_t {
    Timeout,    // no acceptable answer before the deadline
    Network,    // connect/send/receive failed
    BadAnswer,  // the resolver's answer failed a check (counted by reason where it happened)
    TooLarge,   // the answer does not fit where it must go
};

[[nodiscard]] constexpr std::string_view to_string(ExchangeError e) noexcept {
    switch (e) {
        case ExchangeError::Timeout:
            return "timeout";
        case ExchangeError::Network:
            return "network error";
        case ExchangeError::BadAnswer:
            return "bad answer";
        case ExchangeError::TooLarge:
            return "answer too large";
    }
    return "unknown";
}

}  // namespace dcp::upstream
