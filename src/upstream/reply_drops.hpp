#pragma once
// One place that maps why a resolver packet was refused to the counter that records it.

#include "common/counters.hpp"
#include "dnscrypt/error.hpp"

namespace dcp::upstream {

inline void count_reply_drop(Counters& counters, dnscrypt::PacketError error) noexcept {
    switch (error) {
        case dnscrypt::PacketError::UnknownNonce:
            ++counters.reply_unknown_nonce;
            break;
        case dnscrypt::PacketError::AuthFailed:
            ++counters.reply_auth_failed;
            break;
        case dnscrypt::PacketError::BadPadding:
        case dnscrypt::PacketError::ShortMessage:
            ++counters.reply_bad_padding;
            break;
        default:
            ++counters.reply_bad_magic;
            break;  // length or magic
    }
}

}  // namespace dcp::upstream
