#pragma once
// A doubly linked list through hooks its elements carry: no allocation, O(1) removal, an
// element in as many lists as it has hooks. The pool's deadline and action lists and the UDP
// exchanger's deadline list are these.

namespace dcp {

template <class T>
struct ListHook {
    T* prev = nullptr;
    T* next = nullptr;
    bool linked = false;
};

template <class T, ListHook<T> T::*Hook>
class IntrusiveList {
  public:
    [[nodiscard]] T* front() const { return head_; }
    [[nodiscard]] T* back() const { return tail_; }
    [[nodiscard]] bool empty() const { return head_ == nullptr; }
    [[nodiscard]] static bool linked(const T& x) { return (x.*Hook).linked; }
    [[nodiscard]] static T* prev(const T& x) { return (x.*Hook).prev; }
    [[nodiscard]] static T* next(const T& x) { return (x.*Hook).next; }

    void push_back(T& x) { insert_after(tail_, x); }
    // After `after`; at the front when it is null. `x` must not be in this list.
    void insert_after(T* after, T& x) {
        auto& h = x.*Hook;
        h.prev = after;
        h.next = after != nullptr ? (after->*Hook).next : head_;
        (h.next != nullptr ? (h.next->*Hook).prev : tail_) = &x;
        (after != nullptr ? (after->*Hook).next : head_) = &x;
        h.linked = true;
    }
    // Nothing when `x` is in no list.
    void remove(T& x) {
        auto& h = x.*Hook;
        if (!h.linked) return;
        (h.prev != nullptr ? (h.prev->*Hook).next : head_) = h.next;
        (h.next != nullptr ? (h.next->*Hook).prev : tail_) = h.prev;
        h = {};
    }

  private:
    T* head_ = nullptr;
    T* tail_ = nullptr;
};

}  // namespace dcp
