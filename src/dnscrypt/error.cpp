#include "dnscrypt/error.hpp"

namespace dcp::dnscrypt {

std::string_view to_string(CertError e) noexcept {
    switch (e) {
        case CertError::TooShort:
            return "certificate shorter than 124 bytes";
        case CertError::BadMagic:
            return "certificate does not start with DNSC";
        case CertError::UnsupportedEsVersion:
            return "unsupported es-version";
        case CertError::BadSignature:
            return "certificate signature does not verify";
        case CertError::BadValidityPeriod:
            return "certificate ts-start is not before ts-end";
        case CertError::NotYetValid:
            return "certificate not valid yet";
        case CertError::Expired:
            return "certificate expired";
        case CertError::WeakKey:
            return "certificate resolver key is weak";
    }
    return "unknown certificate error";
}

std::string_view to_string(PacketError e) noexcept {
    switch (e) {
        case PacketError::ShortPacket:
            return "packet too short";
        case PacketError::TooLarge:
            return "packet too large";
        case PacketError::BadMagic:
            return "bad resolver magic";
        case PacketError::UnknownNonce:
            return "unknown client nonce";
        case PacketError::AuthFailed:
            return "authentication failed";
        case PacketError::BadPadding:
            return "bad padding";
        case PacketError::ShortMessage:
            return "decrypted message too short";
        case PacketError::CannotPad:
            return "query too large to pad within the limit";
        case PacketError::NoSpace:
            return "output buffer too small";
    }
    return "unknown packet error";
}

std::string_view to_string(KeyError e) noexcept {
    switch (e) {
        case KeyError::BadProviderKey:
            return "provider key must be 64 hex digits, optionally as 16 groups of 4 separated "
                   "by ':'";
    }
    return "unknown key error";
}

}  // namespace dcp::dnscrypt
