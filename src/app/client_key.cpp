#include "app/client_key.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "config/options.hpp"
#include "dnscrypt/provider_key.hpp"

namespace dcp::app {

using config::ConfigError;

crypto::KeyPair load_client_keys(const std::optional<std::string>& file) {
    if (!file) return crypto::KeyPair::generate();
    // Read with plain system calls into one buffer that is wiped: a stream's internal buffer or
    // a string would leave copies of the secret in freed memory.
    const int fd = ::open(file->c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        throw ConfigError("--client-key: cannot read '" + *file + "': " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        // As ssh does for private keys: say so, but go on (refusing would break existing set-ups).
        spdlog::warn("--client-key: '{}' can be read by other users (mode {:o}); chmod 600 it",
                     *file, st.st_mode & 07777);
    }
    // The longest accepted form is 79 characters; a little room for line ends and spaces.
    std::array<char, 128> content{};
    std::size_t len = 0;
    for (;;) {
        const auto n = ::read(fd, content.data() + len, content.size() - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += static_cast<std::size_t>(n);
        if (len == content.size()) break;
    }
    ::close(fd);
    while (len > 0 && std::isspace(static_cast<unsigned char>(content[len - 1]))) --len;
    // Same forms as a provider key: 64 hex digits, plain or in colon-separated groups of 4.
    auto secret = dnscrypt::parse_provider_key(std::string_view(content.data(), len));
    sodium_memzero(content.data(), content.size());
    if (!secret) {
        throw ConfigError("--client-key: '" + *file +
                          "' must hold a secret key of 64 hex digits, optionally as 16 groups "
                          "of 4 separated by ':'");
    }
    auto pair = crypto::KeyPair::from_secret(*secret);
    sodium_memzero(secret->data(), secret->size());
    if (!pair) throw ConfigError("--client-key: the key in '" + *file + "' is not usable");
    return std::move(*pair);
}

}  // namespace dcp::app
