#pragma once
// The one way a callback that may outlive its object (an Asio handler, a coroutine's completion,
// a post) learns that the object has stopped or gone: it holds a Liveness::Token, copied when
// the callback is made, and checks it first.

#include <memory>
#include <utility>

#include "common/noncopyable.hpp"

namespace dcp {

class Liveness : NonCopyable {
  public:
    class Token {
      public:
        [[nodiscard]] explicit operator bool() const { return *flag_; }

      private:
        friend class Liveness;
        explicit Token(std::shared_ptr<const bool> flag) : flag_(std::move(flag)) {}
        std::shared_ptr<const bool> flag_;
    };

    Liveness() = default;
    ~Liveness() { end(); }

    [[nodiscard]] Token token() const { return Token(flag_); }
    [[nodiscard]] bool alive() const { return *flag_; }
    // Stopped: every token says so from now on.
    void end() { *flag_ = false; }

  private:
    std::shared_ptr<bool> flag_ = std::make_shared<bool>(true);
};

}  // namespace dcp
