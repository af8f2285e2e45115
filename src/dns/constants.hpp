#pragma once
// Wire-format constants (RFC 1035, RFC 6891). Layouts are named, never magic offsets.

#include <cstddef>
#include <cstdint>

namespace dcp::dns {

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kOffsetId = 0;
inline constexpr std::size_t kOffsetFlags = 2;
inline constexpr std::size_t kOffsetQdCount = 4;
inline constexpr std::size_t kOffsetAnCount = 6;
inline constexpr std::size_t kOffsetNsCount = 8;
inline constexpr std::size_t kOffsetArCount = 10;
static_assert(kOffsetArCount + 2 == kHeaderSize);

inline constexpr std::size_t kMaxNameWireSize = 255;
inline constexpr std::size_t kMaxLabelSize = 63;
inline constexpr std::size_t kMaxMessageSize = 65535;
// A query that can mean anything: header + root name + type + class.
inline constexpr std::size_t kMinQuerySize = kHeaderSize + 1 + 4;
// Payload size a client that sent no OPT can receive over UDP (RFC 1035 4.2.1).
inline constexpr std::uint16_t kClassicUdpLimit = 512;
// The largest UDP answer we send a client, whatever it advertises: a spoofed 60-byte query must
// not reflect tens of KiB (an answer that came over TCP or DoH is truncated beyond it). 4096 as
// dnscrypt-proxy 2 (MaxDNSUDPPacketSize) and Unbound's edns-buffer-size ceiling.
inline constexpr std::uint16_t kMaxClientUdpLimit = 4096;

// Fixed part of a resource record after its owner name: type, class, TTL, RDLENGTH.
inline constexpr std::size_t kRecordFixedSize = 10;
// An OPT record with no options: root name + fixed part.
inline constexpr std::size_t kEmptyOptSize = 1 + kRecordFixedSize;

namespace flags {
inline constexpr std::uint16_t kQr = 0x8000;
inline constexpr std::uint16_t kOpcodeMask = 0x7800;
inline constexpr std::uint16_t kAa = 0x0400;
inline constexpr std::uint16_t kTc = 0x0200;
inline constexpr std::uint16_t kRd = 0x0100;
inline constexpr std::uint16_t kRa = 0x0080;
inline constexpr std::uint16_t kAd = 0x0020;
inline constexpr std::uint16_t kCd = 0x0010;
inline constexpr std::uint16_t kRcodeMask = 0x000f;
}  // namespace flags

// DO bit inside the OPT TTL field's low 16 bits (RFC 3225).
inline constexpr std::uint16_t kOptFlagDo = 0x8000;

enum class RecordType : std::uint16_t {
    A = 1,
    NS = 2,
    CNAME = 5,
    SOA = 6,
    MX = 15,
    TXT = 16,
    AAAA = 28,
    OPT = 41,
};

enum class RecordClass : std::uint16_t { IN = 1 };

enum class Rcode : std::uint8_t {
    NoError = 0,
    FormErr = 1,
    ServFail = 2,
    NxDomain = 3,
    NotImp = 4,
    Refused = 5,
};

}  // namespace dcp::dns
