#pragma once

namespace dcp {

// A base for objects that others hold by reference or pointer (callbacks, pooled slots, a
// query in flight): neither copied nor moved, and not deleted through this base.
class NonCopyable {
  public:
    NonCopyable(const NonCopyable&) = delete;
    NonCopyable& operator=(const NonCopyable&) = delete;

  protected:
    NonCopyable() = default;
    ~NonCopyable() = default;
};

}  // namespace dcp
