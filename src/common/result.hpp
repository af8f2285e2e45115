#pragma once
// Result<T, E>: a small subset of C++23 std::expected, so per-packet failures are values.
// g++ 12 has no <expected> under -std=c++20; the API mirrors std::expected (has_value, value,
// error, operator*, operator->, value_or) so it can be swapped for it with an alias later.

#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

namespace dcp {

template <class E>
class Unexpected {
  public:
    constexpr explicit Unexpected(E error) : error_(std::move(error)) {}
    [[nodiscard]] constexpr const E& error() const noexcept { return error_; }

  private:
    E error_;
};

// Security invariant checks stay on in release builds: using a failed Result's value is a
// programmer error, never something remote input can make us continue past.
[[noreturn]] inline void result_access_violation() noexcept {
    std::abort();
}

template <class T, class E>
class [[nodiscard]] Result {
  public:
    using value_type = T;
    using error_type = E;

    constexpr Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
    constexpr Result(Unexpected<E> error)                                              // NOLINT
        : storage_(std::in_place_index<1>, error.error()) {}

    [[nodiscard]] constexpr bool has_value() const noexcept { return storage_.index() == 0; }
    constexpr explicit operator bool() const noexcept { return has_value(); }

    constexpr T& value() & {
        if (!has_value()) result_access_violation();
        return std::get<0>(storage_);
    }
    constexpr const T& value() const& {
        if (!has_value()) result_access_violation();
        return std::get<0>(storage_);
    }
    constexpr T&& value() && {
        if (!has_value()) result_access_violation();
        return std::get<0>(std::move(storage_));
    }
    constexpr const E& error() const {
        if (has_value()) result_access_violation();
        return std::get<1>(storage_);
    }
    constexpr T& operator*() & { return value(); }
    constexpr const T& operator*() const& { return value(); }
    constexpr T&& operator*() && { return std::move(*this).value(); }
    constexpr T* operator->() { return &value(); }
    constexpr const T* operator->() const { return &value(); }
    template <class U>
    constexpr T value_or(U&& fallback) const& {
        return has_value() ? std::get<0>(storage_) : static_cast<T>(std::forward<U>(fallback));
    }

    // As std::expected::transform: fn(value) when there is one, else the same error.
    template <class F>
    constexpr auto transform(F&& fn) const& -> Result<std::invoke_result_t<F, const T&>, E> {
        if (!has_value()) return Unexpected<E>(error());
        return std::forward<F>(fn)(std::get<0>(storage_));
    }
    template <class F>
    constexpr auto transform(F&& fn) && -> Result<std::invoke_result_t<F, T&&>, E> {
        if (!has_value()) return Unexpected<E>(error());
        return std::forward<F>(fn)(std::get<0>(std::move(storage_)));
    }

  private:
    std::variant<T, E> storage_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
  public:
    using value_type = void;
    using error_type = E;

    constexpr Result() = default;
    constexpr Result(Unexpected<E> error) : error_(error.error()), ok_(false) {}  // NOLINT

    [[nodiscard]] constexpr bool has_value() const noexcept { return ok_; }
    constexpr explicit operator bool() const noexcept { return ok_; }
    constexpr void value() const {
        if (!ok_) result_access_violation();
    }
    constexpr const E& error() const {
        if (ok_) result_access_violation();
        return error_;
    }

  private:
    E error_{};
    bool ok_ = true;
};

}  // namespace dcp
