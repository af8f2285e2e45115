#include "net/datagram_queue.hpp"

#include <algorithm>
#include <cstring>

namespace dcp::net {

DatagramQueue::DatagramQueue(std::size_t capacity, std::size_t max_datagram)
    : max_(max_datagram),
      entries_(capacity),
      arena_(new std::uint8_t[capacity * rounded(max_datagram)]) {}

Datagram& DatagramQueue::next() noexcept {
    // count_ < capacity, and every queued datagram took at most rounded(max_): room is left.
    Datagram& d = entries_[count_];
    d.data = arena_.get() + used_;
    d.capacity = max_;
    d.size = 0;
    d.truncated = false;
    return d;
}

void DatagramQueue::push() noexcept {
    Datagram& d = entries_[count_];
    d.size = std::min(d.size, max_);
    used_ += rounded(d.size);
    ++count_;
}

void DatagramQueue::clear() noexcept {
    count_ = 0;
    used_ = 0;
}

void DatagramQueue::drop_front(std::size_t n) noexcept {
    n = std::min(n, count_);
    std::size_t at = 0;
    for (std::size_t i = n; i < count_; ++i) {
        Datagram& from = entries_[i];
        Datagram& to = entries_[i - n];
        // Toward the front only: a datagram never overlaps one still to be moved.
        std::memmove(arena_.get() + at, from.data, from.size);
        const std::size_t size = from.size;
        to.peer = from.peer;
        to.peer_len = from.peer_len;
        to.data = arena_.get() + at;
        to.capacity = max_;
        to.size = size;
        at += rounded(size);
    }
    count_ -= n;
    used_ = at;
}

}  // namespace dcp::net
