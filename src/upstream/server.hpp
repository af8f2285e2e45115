#pragma once
// A server of the pool, whatever its protocol: what the configuration says of it (ServerSpec),
// what every server shares (TransportSettings), and the transport one worker has for it
// (ServerTransport). upstream/factory.hpp, the one place that knows the protocols, checks
// specs and makes their transports.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "net/asio.hpp"
#include "stamp/stamp.hpp"
#include "upstream/transport.hpp"

namespace dcp::upstream {

// Where a relayed server's packets go (anonymized DNSCrypt).
struct RelaySpec {
    std::string name;
    asio::ip::address address;
    std::uint16_t port = 443;
};

struct ServerSpec {
    // The server's identity (factory.hpp's server_id): the same in every worker and across a
    // reload, so wiring, reports and metrics name a server by it, never by a position.
    std::string id;
    std::string name;  // as the user knows it: list or [static] name, else from the stamp
    stamp::Stamp stamp;
    std::optional<RelaySpec> relay;

    // For the log: the name, and the relay if any.
    [[nodiscard]] std::string label() const { return relay ? name + " via " + relay->name : name; }
};

// What every server shares. Set by config::validate() from the options (their defaults:
// config/options.hpp, once).
struct TransportSettings {
    std::chrono::milliseconds timeout{0};  // per query; a miss is a SERVFAIL to the client
    std::chrono::seconds cert_refresh{0};  // DNSCrypt certificates fetched again this often
    bool tcp_only = false;
    std::optional<std::uint16_t> tcp_port;  // DNSCrypt over TCP to this port (--tcp-port)
    bool ephemeral_keys = false;            // DNSCrypt: a fresh key pair per query
};

// One server as one worker sees it: a Transport with a life of its own, and what it learns
// that the same server's transports in the other workers should take too.
class ServerTransport : public Transport {
  public:
    // Something this transport learned for the same server's transports in every other worker
    // (DNSCrypt: a new certificate session, a truncation lesson, the certificate round trip).
    // `apply` runs on each of their threads with that worker's transport of this server (of
    // the sender's type: one server, one protocol); then `done`, if any, on the sender's.
    struct Lesson {
        std::function<void(ServerTransport&)> apply;
        std::function<void()> done;
    };

    // `lead`: the one worker whose transport does the server-wide work (DNSCrypt: fetching
    // certificates) and shares what comes of it.
    virtual void start(bool lead) = 0;
    // Closes everything; attempts in flight are dropped without completion.
    virtual void stop() = 0;
    // SIGHUP: server-wide state fetched now rather than at its time (DNSCrypt: certificates).
    virtual void refresh_now() {}
    // For the start-up banner: the server and where it is reached, as the only server
    // ("resolver NAME (192.0.2.1:443), UDP and TCP"); how it is reached, as one of several
    // ("UDP and TCP", "DoH").
    [[nodiscard]] virtual std::string describe() const = 0;
    [[nodiscard]] virtual std::string way() const = 0;

    // Where lessons go (the runtime, to the other workers). Unset: one worker, nothing to
    // share; a lesson's `done` runs at once.
    void on_share(std::function<void(Lesson)> f) { share_ = std::move(f); }
    // Where a first latency estimate goes (this worker's pool).
    void on_latency_estimate(std::function<void(std::chrono::microseconds)> f) {
        estimate_ = std::move(f);
    }

  protected:
    void share(Lesson lesson) const {
        if (share_) {
            share_(std::move(lesson));
        } else if (lesson.done) {
            lesson.done();
        }
    }
    void estimate_latency(std::chrono::microseconds rtt) const {
        if (estimate_) estimate_(rtt);
    }

  private:
    std::function<void(Lesson)> share_;
    std::function<void(std::chrono::microseconds)> estimate_;
};

}  // namespace dcp::upstream
