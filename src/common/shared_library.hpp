#pragma once
// Libraries loaded with dlopen() only when a feature needs them (libcurl for list downloads,
// OpenSSL and nghttp2 for DoH): a proxy without the feature never maps them.

#include <initializer_list>
#include <string>

#include "common/result.hpp"

namespace dcp {

// The handle of the first of `names` that dlopen() can load (RTLD_NOW; RTLD_LOCAL: its symbols
// stay out of the global scope), or dlerror()'s words for the first name tried. Never closed by
// the callers: the libraries keep global state until exit.
[[nodiscard]] Result<void*, std::string> open_first_library(
    std::initializer_list<const char*> names);

}  // namespace dcp
