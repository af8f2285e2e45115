#include "dns/error.hpp"

namespace dcp::dns {

std::string_view to_string(Error e) noexcept {
    switch (e) {
        case Error::ShortPacket:
            return "message too short";
        case Error::TooLarge:
            return "message too large";
        case Error::NotAQuery:
            return "not a query (QR set)";
        case Error::NotAResponse:
            return "not a response (QR clear)";
        case Error::NoQuestion:
            return "no question";
        case Error::TooManyQuestions:
            return "more than one question";
        case Error::BadLabelType:
            return "unsupported label type";
        case Error::NameTooLong:
            return "name longer than 255 bytes";
        case Error::BadPointer:
            return "bad compression pointer";
        case Error::TrailingData:
            return "trailing data after the last record";
        case Error::MultipleOpt:
            return "more than one OPT record";
        case Error::BadOpt:
            return "malformed OPT record";
        case Error::NoSpace:
            return "output buffer too small";
        case Error::IdMismatch:
            return "response ID does not match the query";
        case Error::QuestionMismatch:
            return "response question does not match the query";
        case Error::BadName:
            return "invalid domain name";
    }
    return "unknown DNS error";
}

}  // namespace dcp::dns
