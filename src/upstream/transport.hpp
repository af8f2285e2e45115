#pragma once
// The seam between the pool (which server, when to ask another) and a protocol (how one server
// is asked): a Transport takes Attempts. One Transport per server per worker: DNSCrypt's
// (upstream::Resolver), DNS-over-HTTPS's, plain DNS's (forwarding rules). Nothing here knows a
// protocol: each keeps its own state for an attempt (AttemptState).

#include <cstdint>
#include <exception>
#include <memory>
#include <type_traits>

#include "common/bytes.hpp"
#include "common/liveness.hpp"
#include "common/noncopyable.hpp"
#include "common/result.hpp"
#include "dns/message.hpp"
#include "upstream/exchange_error.hpp"

namespace dcp::upstream {

// What a transport keeps for one attempt it is carrying (DNSCrypt: the session, keys and
// nonce; DoH: the HTTP/2 stream; plain DNS: the socket). The transport owns and pools these;
// an Attempt only points at the one it is bound to, while it is.
class AttemptState {
  public:
    virtual ~AttemptState() = default;
};

// What goes to a server: a client's query (ClientQuery) and each try of it (Attempt) alike.
struct OutgoingQuery {
    const dns::QueryInfo* info = nullptr;  // the client's query
    Bytes message;                         // the query to send (EDNS-adjusted)
    std::uint16_t udp_payload = 512;       // the UDP size `message` advertises
};

// One try of one query at one server. The caller fills in the inputs, hands it to
// Transport::begin, and keeps it (and what the inputs point to) alive until complete() has
// been called: exactly once, possibly before begin() returns, unless Transport::cancel took it
// back. Reusable after that: pools of them serve any number of queries without allocating.
class Attempt : public OutgoingQuery, NonCopyable {
  public:
    virtual ~Attempt() = default;

  protected:
    // The checked answer (a view valid during the call only), or why none came.
    virtual void complete(dcp::Result<MutableBytes, ExchangeError> answer) = 0;

  private:
    friend class Transport;
    AttemptState* state_ = nullptr;  // the transport's, while one carries this attempt
};

class Transport {
  public:
    virtual ~Transport() = default;
    // Can take a query now (DNSCrypt: a certificate valid now).
    [[nodiscard]] virtual bool ready() const = 0;
    // Starts `attempt`; its outcome reaches attempt.complete().
    virtual void begin(Attempt& attempt) = 0;
    // Takes back an attempt whose answer is no longer wanted, when that can be done at once
    // (complete() is then never called): true. False when it will still complete.
    virtual bool cancel(Attempt& attempt) = 0;

  protected:
    // Delivers an attempt's outcome.
    static void complete(Attempt& attempt, dcp::Result<MutableBytes, ExchangeError> answer) {
        attempt.complete(answer);
    }
    // This transport's state for `attempt` (bind: from begin() until the attempt completes or
    // is cancelled), or null. An attempt is carried by one transport at a time, so the state
    // bound to it is of the type of the transport asking.
    template <class State>
    static void bind(Attempt& attempt, State* state) {
        static_assert(std::is_base_of_v<AttemptState, State>);
        attempt.state_ = state;
    }
    template <class State>
    [[nodiscard]] static State* bound(const Attempt& attempt) {
        static_assert(std::is_base_of_v<AttemptState, State> && std::is_final_v<State>);
        return static_cast<State*>(attempt.state_);
    }
    // The completion handler of a coroutine that carries `attempt` to its end. An exception
    // escaping the coroutine would leave the attempt waiting for ever, its slot in the pool
    // taken: it completes as a network failure instead, counted in `exceptions`. Nothing once
    // the transport has stopped (`alive` false): the attempt's owner is gone too.
    [[nodiscard]] static auto fail_on_exception(Attempt& attempt, Liveness::Token alive,
                                                std::uint64_t& exceptions) {
        return [&attempt, alive = std::move(alive), &exceptions](const std::exception_ptr& e) {
            if (!e || !alive) return;
            ++exceptions;
            attempt.complete(Unexpected(ExchangeError::Network));
        };
    }
};

}  // namespace dcp::upstream
