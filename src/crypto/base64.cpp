#include "crypto/base64.hpp"

#include <sodium.h>

namespace dcp::crypto {
namespace {

int sodium_variant(Base64 v) noexcept {
    return v == Base64::Original ? sodium_base64_VARIANT_ORIGINAL
                                 : sodium_base64_VARIANT_URLSAFE_NO_PADDING;
}

}  // namespace

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text, Base64 variant) {
    std::vector<std::uint8_t> out(text.size() / 4 * 3 + 3);
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                          sodium_variant(variant)) != 0 ||
        end != text.data() + text.size()) {
        return std::nullopt;
    }
    out.resize(len);
    return out;
}

std::string base64_encode(Bytes data, Base64 variant) {
    const auto v = sodium_variant(variant);
    std::string out(sodium_base64_encoded_len(data.size(), v), '\0');
    sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), v);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

}  // namespace dcp::crypto
