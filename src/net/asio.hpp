#pragma once
// The one header that brings Asio in. Asio 1.22 keeps as_tuple and the awaitable operators under
// asio::experimental; the aliases here make an upgrade a one-line change. Asio is compiled once
// (asio_impl.cpp, ASIO_SEPARATE_COMPILATION) rather than in every translation unit.

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace dcp::net {

template <class T>
using awaitable = asio::awaitable<T>;

// Completion token: errors come back as values in a tuple, never as exceptions.
inline constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);

namespace ops = asio::experimental::awaitable_operators;

}  // namespace dcp::net
