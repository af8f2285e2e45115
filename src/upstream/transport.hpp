#pragma once
// The seam between the pool (which server, when to ask another) and a protocol (how one server
// is asked): a Transport takes Attempts. One Transport per server per worker; DNSCrypt's is
// upstream::Resolver, DNS-over-HTTPS plugs in beside it.

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/shared_key.hpp"
#include "crypto/x25519.hpp"
#include "dns/message.hpp"
#include "dnscrypt/constants.hpp"
#include "dnscrypt/packet.hpp"
#include "dnscrypt/session.hpp"
#include "upstream/exchange_error.hpp"
#include "upstream/udp_exchanger.hpp"

namespace dcp::upstream {

// One try of one query at one server. The caller fills in the inputs, hands it to
// Transport::begin, and keeps it (and what the inputs point to) alive until complete() has
// been called: exactly once, possibly before begin() returns, unless Transport::cancel took it
// back. Reusable after that: pools of them serve any number of queries without allocating.
class Attempt : public PendingUdpQuery {
  public:
    Attempt() = default;
    ~Attempt() override = default;
    Attempt(const Attempt&) = delete;
    Attempt& operator=(const Attempt&) = delete;

    const dns::QueryInfo* info = nullptr;  // the client's query
    Bytes message;                         // the query to send (EDNS-adjusted)
    std::uint16_t udp_payload = 512;       // the UDP size `message` advertises

  protected:
    // The checked answer (a view valid during the call only), or why none came.
    virtual void complete(dcp::Result<MutableBytes, ExchangeError> answer) = 0;

  private:
    friend class Resolver;
    friend class Transport;
    void on_udp_answer(MutableBytes answer) final;
    void on_udp_failure(ExchangeError error) final;

    // DNSCrypt's state for this try: the session it encrypts for (kept for the whole try, so a
    // rotation changes nothing for it) and the keys (the session's, or a fresh pair per query
    // with --ephemeral-keys).
    class Resolver* resolver_ = nullptr;
    std::shared_ptr<const dnscrypt::Session> session_;
    dnscrypt::ClientMagic magic_{};
    const crypto::PublicKey* public_key_ = nullptr;  // the resolver's, or ephemeral_'s
    const crypto::SharedKey* session_key_ = nullptr;
    // --ephemeral-keys: this try's own key pair. Out of line (made for the first such try of
    // this Attempt, then reused): an Attempt per possible try is kept for each UDP query in
    // flight, and most runs never use it.
    struct Ephemeral {
        crypto::PublicKey public_key{};
        std::optional<crypto::SharedKey> shared;
    };
    std::unique_ptr<Ephemeral> ephemeral_;
    bool ephemeral_in_use_ = false;
    std::size_t padded_len_ = 0;
    std::chrono::steady_clock::time_point deadline_{};

    // Any other transport's state for this try (DoH: its HTTP/2 stream).
    void* transport_state_ = nullptr;

    [[nodiscard]] const crypto::SharedKey& shared() const {
        return ephemeral_in_use_ ? *ephemeral_->shared : *session_key_;
    }
    [[nodiscard]] dnscrypt::QueryKeys query_keys() const {
        return {magic_, *public_key_, shared()};
    }
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
    // For implementations other than Resolver: delivers an attempt's outcome.
    static void complete(Attempt& attempt, dcp::Result<MutableBytes, ExchangeError> answer) {
        attempt.complete(answer);
    }
    // For implementations other than Resolver: their own state for one attempt.
    static void*& state_of(Attempt& attempt) { return attempt.transport_state_; }
    // The completion handler of a coroutine that carries `attempt` to its end. An exception
    // escaping the coroutine would leave the attempt waiting for ever, its slot in the pool
    // taken: it completes as a network failure instead, counted in `exceptions`. Nothing once
    // the transport has stopped (`alive` false): the attempt's owner is gone too.
    [[nodiscard]] static auto fail_on_exception(Attempt& attempt, std::shared_ptr<bool> alive,
                                                std::uint64_t& exceptions) {
        return [&attempt, alive = std::move(alive), &exceptions](const std::exception_ptr& e) {
            if (!e || !*alive) return;
            ++exceptions;
            attempt.complete(Unexpected(ExchangeError::Network));
        };
    }
};

}  // namespace dcp::upstream
