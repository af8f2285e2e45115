#include "upstream/upstream.hpp"

namespace dcp::upstream {

// exchange()'s query: owns copies of its inputs (a server not chosen may answer after the
// coroutine has gone) and goes back to the free list once both the coroutine has taken its
// result and the pool has released it.
class Upstream::WaitingQuery final : public ClientQuery {
  public:
    WaitingQuery(Upstream& owner, asio::io_context& io) : wake(io), owner_(owner) {}

    asio::steady_timer wake;
    std::optional<dcp::Result<std::string_view, ExchangeError>> result;
    std::vector<std::uint8_t> answer;
    dns::QueryInfo info_copy;
    std::vector<std::uint8_t> message_copy;
    bool released = false;
    bool taken = false;

    void give_back() {
        if (released && taken) owner_.free_waiting_.push_back(this);
    }

  protected:
    void complete(dcp::Result<MutableBytes, ExchangeError> a) override {
        if (a) {
            answer.assign(a->begin(), a->end());
            result.emplace(answered_by());
        } else {
            result.emplace(Unexpected(a.error()));
        }
        wake.cancel();
    }
    void release() override {
        released = true;
        give_back();
    }

  private:
    Upstream& owner_;
};

Upstream::Upstream() = default;
Upstream::~Upstream() = default;

Upstream::WaitingQuery& Upstream::acquire_waiting(asio::io_context& io) {
    if (free_waiting_.empty()) {
        waiting_.push_back(std::make_unique<WaitingQuery>(*this, io));
        free_waiting_.push_back(waiting_.back().get());
    }
    WaitingQuery& q = *free_waiting_.back();
    free_waiting_.pop_back();
    q.released = q.taken = false;
    q.result.reset();
    q.wake.expires_at(asio::steady_timer::time_point::max());
    return q;
}

net::awaitable<dcp::Result<std::string_view, ExchangeError>> Upstream::exchange(
    asio::io_context& io, const dns::QueryInfo& info, Bytes query, std::uint16_t udp_payload,
    std::vector<std::uint8_t>& answer) {
    WaitingQuery& q = acquire_waiting(io);
    q.info_copy = info;
    q.message_copy.assign(query.begin(), query.end());
    q.info = &q.info_copy;
    q.message = q.message_copy;
    q.udp_payload = udp_payload;
    begin(q);
    if (!q.result) co_await q.wake.async_wait(net::use_nothrow);
    const auto result = *q.result;
    if (result) answer.swap(q.answer);
    q.taken = true;
    q.give_back();
    co_return result;
}

}  // namespace dcp::upstream
