#pragma once
// Datagrams waiting for one batched send, written one after another into one arena: a burst
// touches as many bytes as it queues, not its count times the largest datagram (64 replies of
// ~100 bytes made 64 pages resident, one per 4.6 KB slot, where they now fill two).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "net/datagram_batch.hpp"

namespace dcp::net {

class DatagramQueue {
  public:
    // At most `capacity` datagrams of at most `max_datagram` bytes each.
    DatagramQueue(std::size_t capacity, std::size_t max_datagram);

    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] bool full() const noexcept { return count_ == entries_.size(); }
    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] std::size_t max_datagram() const noexcept { return max_; }

    // The next entry, not yet queued: `data` after the queued bytes with room for
    // max_datagram() bytes (`capacity`). Write it, set `size` (and `peer`), then push().
    // Not while full(); valid until push(), clear() or drop_front().
    [[nodiscard]] Datagram& next() noexcept;
    // Queues next() (its `size` at most max_datagram()).
    void push() noexcept;

    [[nodiscard]] std::span<Datagram> queued() noexcept { return {entries_.data(), count_}; }
    void clear() noexcept;
    // The first `n` queued datagrams are gone (sent); the others move to the front, in order.
    void drop_front(std::size_t n) noexcept;

  private:
    static constexpr std::size_t kAlign = 8;
    static constexpr std::size_t rounded(std::size_t n) noexcept {
        return (n + kAlign - 1) / kAlign * kAlign;
    }

    std::size_t max_;
    std::vector<Datagram> entries_;
    std::unique_ptr<std::uint8_t[]> arena_;  // capacity × rounded(max): a full queue fits
    std::size_t count_ = 0;
    std::size_t used_ = 0;  // arena bytes the queued datagrams take
};

}  // namespace dcp::net
