// Stamps written: the fields back into the binary layout (length-prefixed, sets with the high
// bit marking "more"), base64url without padding.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/base64.hpp"
#include "stamp/stamp.hpp"

namespace dcp::stamp {
namespace {

void put_lp(std::vector<std::uint8_t>& out, std::string_view x) {
    out.push_back(static_cast<std::uint8_t>(x.size()));
    out.insert(out.end(), x.begin(), x.end());
}

void put_vlp(std::vector<std::uint8_t>& out, const std::vector<std::string>& xs) {
    if (xs.empty()) {
        out.push_back(0);
        return;
    }
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const auto more = i + 1 < xs.size() ? 0x80U : 0U;
        out.push_back(static_cast<std::uint8_t>(xs[i].size() | more));
        out.insert(out.end(), xs[i].begin(), xs[i].end());
    }
}

}  // namespace

StampResult<std::string> encode(const Stamp& s) {
    const auto too_long = [](std::string_view field, std::size_t n) {
        return Unexpected(StampError{std::string(field) + ": " + std::to_string(n) +
                                         " bytes, at most 255 fit (127 in a set)",
                                     0});
    };
    std::vector<std::string> hashes;
    for (const auto& h : s.hashes) hashes.emplace_back(h.begin(), h.end());
    const std::pair<std::string_view, std::size_t> fields[] = {
        {"address", s.address.size()},
        {"provider name", s.provider_name.size()},
        {"host name", s.hostname.size()},
        {"path", s.path.size()}};
    for (const auto& [field, n] : fields) {
        if (n > 255) return too_long(field, n);
    }
    for (const auto& b : s.bootstrap) {
        if (b.empty() || b.size() > 127) return too_long("bootstrap address", b.size());
    }

    std::vector<std::uint8_t> out{static_cast<std::uint8_t>(s.protocol)};
    if (s.protocol != Protocol::DnsCryptRelay) {
        for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(s.props >> (8 * i)));
    }
    switch (s.protocol) {
        case Protocol::Plain:
        case Protocol::DnsCryptRelay:
            put_lp(out, s.address);
            break;
        case Protocol::DnsCrypt:
            put_lp(out, s.address);
            put_lp(out, std::string_view(reinterpret_cast<const char*>(s.provider_key.data()),
                                         s.provider_key.size()));
            put_lp(out, s.provider_name);
            break;
        case Protocol::DoH:
        case Protocol::DoT:
        case Protocol::DoQ:
        case Protocol::ODoHRelay:
            put_lp(out, s.address);
            put_vlp(out, hashes);
            put_lp(out, s.hostname);
            if (s.protocol == Protocol::DoH || s.protocol == Protocol::ODoHRelay) {
                put_lp(out, s.path);
            }
            if (!s.bootstrap.empty()) put_vlp(out, s.bootstrap);
            break;
        case Protocol::ODoHTarget:
            put_lp(out, s.hostname);
            put_lp(out, s.path);
            break;
    }
    return "sdns://" + crypto::base64_encode(out, crypto::Base64::UrlNoPadding);
}

}  // namespace dcp::stamp
