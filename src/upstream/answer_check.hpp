#pragma once
// One place that decides whether a packet from the resolver is the answer to one query: its
// nonce half, authentication, padding, then the DNS ID and question. Every refusal is counted
// by reason.

#include <optional>

#include "common/bytes.hpp"
#include "common/counters.hpp"
#include "crypto/shared_key.hpp"
#include "dns/message.hpp"
#include "dnscrypt/constants.hpp"
#include "dnscrypt/packet.hpp"
#include "upstream/reply_drops.hpp"

namespace dcp::upstream {

// Decrypts `packet` in place; the DNS answer (a view into it), or nothing when it is not the
// answer to the query sent with `nonce` and `key` asking `question` with `id`.
[[nodiscard]] inline std::optional<MutableBytes> open_answer(
    MutableBytes packet, const dnscrypt::ClientNonceHalf& nonce, const crypto::SharedKey& key,
    std::uint16_t id, const dns::Question& question, Counters& counters) {
    const auto msg = dnscrypt::decrypt_response(packet, nonce, key);
    if (!msg) {
        count_reply_drop(counters, msg.error());
        return std::nullopt;
    }
    if (!dns::check_response_matches(*msg, id, question)) {
        ++counters.reply_mismatch;
        return std::nullopt;
    }
    return *msg;
}

}  // namespace dcp::upstream
