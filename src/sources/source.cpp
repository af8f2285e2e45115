#include "sources/source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/read_file.hpp"
#include "minisign/minisign.hpp"
#include "sources/embedded.hpp"

namespace dcp::sources {
namespace {

constexpr std::size_t kMaxSignature = 16 * 1024;

dcp::Result<std::string, std::string> read_whole(const std::string& path, std::size_t max) {
    auto text = read_whole_file(path, max);
    if (!text) return Unexpected(path + ": " + text.error());
    return std::move(*text);
}

Bytes bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Verifies `text` with `sig` and parses it: the state, or why not.
dcp::Result<SourceState, std::string> verified(const SourceConfig& c, const std::string& text,
                                               const std::string& sig, std::string origin) {
    const auto key = minisign::parse_public_key(c.minisign_key);
    if (!key) return Unexpected("minisign_key: " + minisign::to_string(key.error()));
    const auto comment = minisign::verify(*key, sig, bytes_of(text));
    if (!comment) return Unexpected(origin + ": " + minisign::to_string(comment.error()));
    SourceState s;
    s.list = parse_list(text, c.prefix);
    if (s.list.entries.empty()) return Unexpected(origin + ": no servers in the list");
    s.origin = std::move(origin);
    s.trusted_comment = *comment;
    return s;
}

// "timestamp:1784887140\tfile:..." -> 1784887140 (0 when absent).
long long signed_timestamp(const std::string& comment) {
    const auto at = comment.find("timestamp:");
    if (at == std::string::npos) return 0;
    return std::strtoll(comment.c_str() + at + 10, nullptr, 10);
}

// Writes `data` to a new file beside `path` and returns the new file's name. mkstemp: a name
// nobody can guess, created with O_EXCL, so a file or link planted at a predictable name (the
// old "<cache>.tmp.<pid>", a hard link to a file of root's) is never opened and written.
dcp::Result<std::string, std::string> write_temporary(const std::string& path,
                                                      const std::string& data) {
    const auto failure = [&] { return Unexpected(path + ": " + std::strerror(errno)); };
    std::string name = path + ".tmp.XXXXXX";
    const int fd = ::mkstemp(name.data());
    if (fd < 0) return failure();
    const auto fail = [&] {
        auto why = failure();  // errno before close() and unlink() can change it
        ::close(fd);
        ::unlink(name.c_str());
        return why;
    };
    std::size_t done = 0;
    while (done < data.size()) {
        const auto n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail();
        done += static_cast<std::size_t>(n);
    }
    // mkstemp makes it 0600: the lists are public, and readable by the proxy's user.
    if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) return fail();
    if (::close(fd) != 0) {
        auto why = failure();
        ::unlink(name.c_str());
        return why;
    }
    return name;
}

// Both files, each through a temporary file renamed over the old one, the list last: a reader
// never sees a half-written file, and a list that does not match its signature is refused at
// the next start (and downloaded again).
dcp::Result<void, std::string> write_cache(const SourceConfig& c, const std::string& text,
                                           const std::string& sig) {
    const std::string sig_path = c.cache_file + ".minisig";
    const auto text_tmp = write_temporary(c.cache_file, text);
    if (!text_tmp) return Unexpected(text_tmp.error());
    const auto sig_tmp = write_temporary(sig_path, sig);
    if (!sig_tmp) {
        ::unlink(text_tmp->c_str());
        return Unexpected(sig_tmp.error());
    }
    if (::rename(sig_tmp->c_str(), sig_path.c_str()) != 0 ||
        ::rename(text_tmp->c_str(), c.cache_file.c_str()) != 0) {
        Unexpected why(c.cache_file + ": " + std::strerror(errno));
        ::unlink(text_tmp->c_str());
        ::unlink(sig_tmp->c_str());
        return why;
    }
    return {};
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::optional<std::string> embedded_name_for(const SourceConfig& c) {
    if (c.minisign_key != kOfficialListKey) return std::nullopt;
    for (const std::string name : {"public-resolvers", "relays"}) {
        const std::string file = "/" + name + ".md";
        if (ends_with("/" + c.cache_file, file)) return name;
        for (const auto& url : c.urls) {
            if (ends_with(url, file)) return name;
        }
    }
    return std::nullopt;
}

dcp::Result<SourceState, std::string> load_at_start(const SourceConfig& c,
                                                    std::chrono::system_clock::time_point now) {
    std::string why_not_cache;
    std::optional<SourceState> cached;
    const auto text = read_whole(c.cache_file, c.limits.max_bytes);
    const auto sig = text ? read_whole(c.cache_file + ".minisig", kMaxSignature) : text;
    if (text && sig) {
        auto s = verified(c, *text, *sig, "cache " + c.cache_file);
        if (s) {
            struct stat st {};
            if (::stat(c.cache_file.c_str(), &st) == 0) {
                s->cached_at = std::chrono::system_clock::from_time_t(st.st_mtime);
                s->stale = now - *s->cached_at >= c.refresh_delay;
            }
            cached = std::move(*s);
        } else {
            why_not_cache = s.error();
        }
    } else {
        why_not_cache = sig.error();  // the list's reason, or the signature's
    }

    if (const auto name = embedded_name_for(c)) {
        const auto e = embedded_list(*name);
        // The newer of the two, by the time they were signed: the embedded copy is verified and
        // parsed only when it would win (start-up time).
        const auto embedded_sig = minisign::parse_signature(e.signature);
        const bool newer =
            !cached || (embedded_sig && signed_timestamp(embedded_sig->trusted_comment) >
                                            signed_timestamp(cached->trusted_comment));
        if (newer) {
            auto s = verified(c, std::string(e.text), std::string(e.signature), "embedded copy");
            if (s) {
                s->stale = true;
                return std::move(*s);
            }
        }
    }
    if (cached) return std::move(*cached);
    return Unexpected(why_not_cache);
}

dcp::Result<SourceState, std::string> refresh(const SourceConfig& c) {
    if (c.urls.empty()) return Unexpected(std::string("no urls"));
    std::string failures;
    for (const auto& url : c.urls) {
        const auto fail = [&](const std::string& why) {
            failures += (failures.empty() ? "" : "; ") + url + ": " + why;
        };
        auto text = fetch_url(url, c.limits);
        if (!text) {
            fail(text.error());
            continue;
        }
        FetchLimits sig_limits = c.limits;
        sig_limits.max_bytes = kMaxSignature;
        auto sig = fetch_url(url + ".minisig", sig_limits);
        if (!sig) {
            fail("signature: " + sig.error());
            continue;
        }
        auto s = verified(c, *text, *sig, url);
        if (!s) {
            failures += (failures.empty() ? "" : "; ") + s.error();
            continue;
        }
        if (const auto written = write_cache(c, *text, *sig); !written) {
            // Still a good list for this run; the next start downloads it again.
            s->origin += " (not cached: " + written.error() + ")";
        } else {
            s->cached_at = std::chrono::system_clock::now();
        }
        s->stale = false;
        return std::move(*s);
    }
    return Unexpected(failures);
}

}  // namespace dcp::sources
