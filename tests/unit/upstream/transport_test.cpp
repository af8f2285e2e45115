// Transport's helpers for its implementations: what completes an attempt whose coroutine threw.
#include "upstream/transport.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "net/asio.hpp"

namespace dcp::upstream {
namespace {

class RecordingAttempt final : public Attempt {
  public:
    int completions = 0;
    std::optional<ExchangeError> error;

  protected:
    void complete(dcp::Result<MutableBytes, ExchangeError> answer) override {
        ++completions;
        if (!answer) error = answer.error();
    }
};

// A transport whose whole exchange is a coroutine, as the plain transport's TCP retry is.
class CoroutineTransport final : public Transport {
  public:
    explicit CoroutineTransport(asio::io_context& io) : io_(io) {}
    Liveness alive;
    std::uint64_t exceptions = 0;
    bool throws = true;

    [[nodiscard]] bool ready() const override { return true; }
    void begin(Attempt& a) override {
        asio::co_spawn(io_, exchange(a), fail_on_exception(a, alive.token(), exceptions));
    }
    bool cancel(Attempt&) override { return false; }

  private:
    net::awaitable<void> exchange(Attempt& a) {
        if (throws) throw std::runtime_error("internal error in the middle of an exchange");
        complete(a, Unexpected(ExchangeError::Timeout));
        co_return;
    }
    asio::io_context& io_;
};

TEST(FailOnException, AnAttemptWhoseCoroutineThrewCompletesOnceAsANetworkFailure) {
    asio::io_context io;
    CoroutineTransport transport(io);
    RecordingAttempt attempt;
    transport.begin(attempt);
    io.run();
    EXPECT_EQ(attempt.completions, 1);
    EXPECT_EQ(attempt.error, ExchangeError::Network);
    EXPECT_EQ(transport.exceptions, 1U);
}

TEST(FailOnException, AnAttemptThatCompletedNormallyIsNotCompletedAgain) {
    asio::io_context io;
    CoroutineTransport transport(io);
    transport.throws = false;
    RecordingAttempt attempt;
    transport.begin(attempt);
    io.run();
    EXPECT_EQ(attempt.completions, 1);
    EXPECT_EQ(attempt.error, ExchangeError::Timeout);
    EXPECT_EQ(transport.exceptions, 0U);
}

TEST(FailOnException, NothingOnceTheTransportHasStopped) {
    asio::io_context io;
    CoroutineTransport transport(io);
    RecordingAttempt attempt;
    transport.begin(attempt);
    transport.alive.end();  // stopped before the coroutine ran
    io.run();
    EXPECT_EQ(attempt.completions, 0);
    EXPECT_EQ(transport.exceptions, 0U);
}

}  // namespace
}  // namespace dcp::upstream
