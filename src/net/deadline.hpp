#pragma once
// An I/O operation raced against a timer: the one way every protocol (UDP waits, TCP steps,
// DoH's connect and handshake, certificate fetches) bounds a wait.

#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/result.hpp"
#include "net/asio.hpp"

namespace dcp::net {

// Runs one I/O operation (started with net::use_nothrow) against `timer`: the bytes it moved
// (0 for a connect), or its error, asio::error::timed_out when the timer fired first.
template <class Operation>
[[nodiscard]] awaitable<dcp::Result<std::size_t, asio::error_code>> before_deadline(
    Operation operation, asio::steady_timer& timer) {
    using namespace ops;
    auto r = co_await (std::move(operation) || timer.async_wait(use_nothrow));
    if (r.index() == 1) co_return Unexpected(asio::error_code(asio::error::timed_out));
    const auto& done = std::get<0>(r);
    if (std::get<0>(done)) co_return Unexpected(std::get<0>(done));
    if constexpr (std::tuple_size_v < std::decay_t < decltype(done) >>> 1) {
        co_return std::get<1>(done);
    } else {
        co_return std::size_t{0};
    }
}

}  // namespace dcp::net
