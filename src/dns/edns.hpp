#pragma once
// EDNS(0) handling on the way up (advertise a UDP payload size to the resolver) and on the way
// back (remove an OPT record the client never sent).

#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "dns/error.hpp"
#include "dns/message.hpp"

namespace dcp::dns {

inline constexpr std::uint16_t kDefaultEdnsPayloadSize = 1280;

struct EdnsDecision {
    std::size_t size = 0;    // message length after the change
    bool opt_added = false;  // the proxy added an OPT the client did not send
    // The UDP payload size the query now advertises as far as a server is concerned: the OPT's
    // (never below 512, RFC 6891 6.2.5), or 512 without one.
    std::uint16_t advertised_payload = kClassicUdpLimit;
};

// The original dnscrypt-proxy's rule (edns.c, edns_add_section):
//  - configured size <= 512: the query goes as it is (no OPT is added);
//  - the client sent an OPT: the query goes as it is (the client's size is kept, since the
//    client is the one that must receive the answer);
//  - otherwise an empty OPT advertising the configured size is appended.
// `buf` holds the query in its first `info.size` bytes and has room to grow.
[[nodiscard]] Result<EdnsDecision> apply_edns_payload_policy(
    MutableBytes buf, const QueryInfo& info, std::uint16_t configured_size) noexcept;

inline constexpr std::uint16_t kEdnsOptionClientSubnet = 8;  // RFC 7871

// Whether the message's OPT record carries an option with this code (a malformed option list
// counts as carrying it: the caller then treats the query as the more cautious way).
[[nodiscard]] bool has_edns_option(Bytes msg, const OptRecord& opt, std::uint16_t code) noexcept;

// Sets the advertised UDP payload size of an OPT record in place.
void set_opt_udp_payload(MutableBytes msg, const OptRecord& opt, std::uint16_t size) noexcept;

// Removes the OPT record from a message (first `len` bytes of `msg`) and decrements ARCOUNT;
// returns the new length (unchanged when there is no OPT).
[[nodiscard]] Result<std::size_t> remove_opt(MutableBytes msg, std::size_t len) noexcept;

}  // namespace dcp::dns
