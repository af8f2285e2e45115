#pragma once
// Datagrams produced while one readiness event is handled leave in one batched call per socket
// at the end of that handler, instead of one system call each: a listener that read 20 queries
// sends 20 encrypted queries with one sendmmsg, an exchanger that read 20 answers sends 20
// replies with one. Outside any handler (a coroutine finishing a TCP fallback, say) a flush
// request is served at once. Per thread: each worker has its own.

#include <vector>

#include "common/noncopyable.hpp"

namespace dcp::net {

class Flushable : NonCopyable {
  public:
    Flushable() = default;
    virtual ~Flushable();

    // Sends what is queued: now, or when the outermost open FlushScope on this thread closes.
    void request_flush();

  protected:
    virtual void flush() = 0;

  private:
    friend class FlushScope;
    bool flush_requested_ = false;
};

class FlushScope : NonCopyable {
  public:
    FlushScope() noexcept;
    ~FlushScope();
};

}  // namespace dcp::net
