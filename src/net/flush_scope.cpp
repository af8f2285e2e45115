#include "net/flush_scope.hpp"

#include <algorithm>

namespace dcp::net {
namespace {

struct ThreadState {
    int depth = 0;
    std::vector<Flushable*> requested;
};

ThreadState& state() {
    thread_local ThreadState s;
    return s;
}

}  // namespace

void Flushable::request_flush() {
    auto& s = state();
    if (s.depth == 0) {
        flush();
        return;
    }
    if (flush_requested_) return;
    flush_requested_ = true;
    s.requested.push_back(this);
}

Flushable::~Flushable() {
    if (!flush_requested_) return;
    auto& r = state().requested;
    r.erase(std::remove(r.begin(), r.end(), this), r.end());
}

FlushScope::FlushScope() noexcept {
    ++state().depth;
}

FlushScope::~FlushScope() {
    auto& s = state();
    if (s.depth > 1) {
        --s.depth;
        return;
    }
    // Still "inside" while flushing: a flush can make more output (an exchanger whose send
    // failed completes its queries with SERVFAIL, which queues client replies); those are
    // served by this same loop.
    for (std::size_t i = 0; i < s.requested.size(); ++i) {
        Flushable* f = s.requested[i];
        f->flush_requested_ = false;
        f->flush();
    }
    s.requested.clear();
    --s.depth;
}

}  // namespace dcp::net
