#include "crypto/error.hpp"

namespace dcp::crypto {

std::string_view to_string(Error e) noexcept {
    switch (e) {
        case Error::WeakKey:
            return "weak X25519 key (all-zero shared secret)";
        case Error::AuthFailed:
            return "authentication failed";
    }
    return "unknown crypto error";
}

}  // namespace dcp::crypto
