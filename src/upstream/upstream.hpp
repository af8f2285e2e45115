#pragma once
// What the query processor sees of the upstream side: one client query in, one answer out,
// whichever servers and protocols were tried on the way (upstream::Pool), or a fake in tests.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/intrusive_list.hpp"
#include "common/noncopyable.hpp"
#include "common/result.hpp"
#include "dns/message.hpp"
#include "net/asio.hpp"
#include "upstream/exchange_error.hpp"
#include "upstream/transport.hpp"

namespace dcp::upstream {

class Pool;

// A client's query on its way upstream. The caller fills in the inputs and hands it to
// Upstream::begin; complete() is then called exactly once (possibly before begin returns) with
// the answer to give the client, and release() once nothing refers to the object any more
// (later, when a server not chosen still owes an answer). Reusable after release().
class ClientQuery : public OutgoingQuery, NonCopyable {
  public:
    virtual ~ClientQuery() = default;

    static constexpr std::size_t kMaxAttempts = 3;

    // During complete(): the server whose answer it is, as the log names it (empty when none).
    [[nodiscard]] std::string_view answered_by() const { return answered_by_; }

  protected:
    // The answer (a view valid during the call only), or why there is none.
    virtual void complete(dcp::Result<MutableBytes, ExchangeError> answer) = 0;
    virtual void release() {}

  private:
    friend class Pool;
    friend class Upstream;

    // One try at one server.
    class Try final : public Attempt {
      public:
        ClientQuery* owner = nullptr;
        std::uint16_t server = 0;
        bool live = false;
        bool hedge = false;
        bool failure_counted = false;
        std::chrono::steady_clock::time_point sent{};

      protected:
        void complete(dcp::Result<MutableBytes, ExchangeError> answer) override;
    };

    Pool* pool_ = nullptr;
    std::string_view answered_by_;
    std::array<Try, kMaxAttempts> tries_{};
    std::uint8_t started_ = 0;
    std::uint8_t outstanding_ = 0;
    bool done_ = false;
    bool action_hedge_ = false;  // the next action: a hedge (else a failover, or reaping)
    std::chrono::steady_clock::time_point deadline_{};
    std::chrono::steady_clock::time_point action_at_{};
    // The pool's lists: every query by deadline, queries with a next action by its time.
    ListHook<ClientQuery> deadlines_;
    ListHook<ClientQuery> actions_;
};

class Upstream : NonCopyable {
  public:
    Upstream();
    virtual ~Upstream();
    // Some server can take a query now.
    [[nodiscard]] virtual bool ready() const = 0;
    virtual void begin(ClientQuery& query) = 0;

    // The same as a coroutine, for callers that can wait (the TCP listener): writes the answer
    // into `answer`; the server that gave it, as ClientQuery::answered_by().
    [[nodiscard]] net::awaitable<dcp::Result<std::string_view, ExchangeError>> exchange(
        asio::io_context& io, const dns::QueryInfo& info, Bytes query, std::uint16_t udp_payload,
        std::vector<std::uint8_t>& answer);

  protected:
    // For implementations: the two callbacks of a query.
    static void complete(ClientQuery& query, dcp::Result<MutableBytes, ExchangeError> answer) {
        query.complete(answer);
    }
    static void release(ClientQuery& query) { query.release(); }

  private:
    class WaitingQuery;
    WaitingQuery& acquire_waiting(asio::io_context& io);
    // exchange()'s queries, reused: one may outlive its coroutine while a server owes an answer.
    std::vector<std::unique_ptr<WaitingQuery>> waiting_;
    std::vector<WaitingQuery*> free_waiting_;
};

}  // namespace dcp::upstream
