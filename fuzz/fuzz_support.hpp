#pragma once
// Shared set-up for the fuzz targets: libsodium initialised once, and fixed keys so that inputs
// found by one run mean the same thing in the next.

#include <cstdlib>

#include "crypto/sodium.hpp"

namespace dcp::fuzz {

inline void init_once() {
    static const bool ok = crypto::initialize();
    if (!ok) std::abort();
}

}  // namespace dcp::fuzz
