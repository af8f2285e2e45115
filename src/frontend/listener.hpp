#pragma once
// What a worker does with each way in for local clients, whatever its protocol (plain DNS over
// UDP and TCP today; a local DoH or DoT server would be one more): start, share, stop, name.

#include <string>

#include "common/noncopyable.hpp"

namespace dcp::frontend {

class Listener : NonCopyable {
  public:
    virtual ~Listener() = default;

    // Bound already (by the constructor). `active` false: ready, but taking no clients until
    // set_active(true) (a standby worker).
    virtual void start(bool active) = 0;
    // A standby worker's share of a shared socket, from its own thread. Clients already taken
    // (a batch being read, connections accepted) are served either way.
    virtual void set_active(bool on) = 0;
    virtual void stop() = 0;
    // The listening socket, for the other workers to share (net::ListenShare).
    [[nodiscard]] virtual int native_handle() = 0;
    // As the log says it: "127.0.0.1:53 (UDP)".
    [[nodiscard]] virtual std::string describe() const = 0;
};

}  // namespace dcp::frontend
