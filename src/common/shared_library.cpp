#include "common/shared_library.hpp"

#include <dlfcn.h>

namespace dcp {

Result<void*, std::string> open_first_library(std::initializer_list<const char*> names) {
    std::string first_error;
    for (const char* name : names) {
        if (void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL); lib != nullptr) return lib;
        if (const char* why = dlerror(); why != nullptr && first_error.empty()) first_error = why;
    }
    return Unexpected(first_error);
}

}  // namespace dcp
