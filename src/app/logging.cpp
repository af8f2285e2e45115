#include "app/logging.hpp"

#include <fcntl.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "app/process.hpp"
#include "common/noncopyable.hpp"
#include "common/result.hpp"

namespace dcp::app {
namespace {

// A file sink that can reopen its file in place (spdlog's basic_file_sink cannot), and that never
// loses its file: the new one is opened first and replaces the old one only once it is open, so
// a failed reopen (a path outside the chroot, no permission) leaves logging where it was.
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex>, NonCopyable {
  public:
    ReopenableFileSink(const std::string& path, std::optional<uid_t> user) : user_(user) {
        const auto fd = open_log(path, user_);
        if (!fd) throw std::runtime_error("cannot open '" + path + "': " + fd.error());
        fd_ = *fd;
        path_ = canonical_path(path);
    }
    ~ReopenableFileSink() override {
        if (fd_ >= 0) ::close(fd_);
    }

    [[nodiscard]] const std::string& path() const { return path_; }

    // Opens `where` (the log file's path as this process sees it now) and writes there from
    // now on. Returns the error text when it cannot be opened; the old file stays in use then.
    std::optional<std::string> reopen(const std::string& where) {
        const auto fd = open_log(where, user_);
        if (!fd) return fd.error();
        std::lock_guard<std::mutex> lock(mutex_);
        ::close(fd_);
        fd_ = *fd;
        return std::nullopt;
    }

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        // Unbuffered and appended whole: a proxy logs little, and losing the last lines to a
        // crash is worse. A failed write (disk full) is dropped: logging must not stop serving.
        const char* p = formatted.data();
        std::size_t left = formatted.size();
        while (left > 0) {
            const auto n = ::write(fd_, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    }
    void flush_() override {}

  private:
    // Opened as root, the file must be one the proxy's user cannot have planted: a symbolic
    // link or a hard link (to /etc/cron.d/x, say) would have root write through it at the next
    // start. So no link, a regular file, owned by root or by the proxy's user (--user).
    static dcp::Result<int, std::string> open_log(const std::string& path,
                                                  std::optional<uid_t> user) {
        // O_APPEND: lines land at the end even when logrotate's copytruncate shortens the file.
        const int fd = ::open(
            path.c_str(),
            O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0) {
            return Unexpected(
                errno == ELOOP ? std::string("it is a symbolic link; refusing to write through it")
                               : std::string(std::strerror(errno)));
        }
        struct stat st {};
        std::string refusal;
        if (fstat(fd, &st) != 0) {
            refusal = std::strerror(errno);
        } else if (!S_ISREG(st.st_mode)) {
            refusal = "it is not a regular file";
        } else if (st.st_nlink != 1) {
            refusal = "it has other hard links; refusing to write to it";
        } else if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != user) {
            refusal = "it belongs to uid " + std::to_string(st.st_uid) +
                      ", neither root nor the proxy's user; refusing to write to it";
        }
        if (!refusal.empty()) {
            ::close(fd);
            return Unexpected(std::move(refusal));
        }
        // Blocking writes from now on (O_NONBLOCK only kept a planted FIFO from hanging open).
        const int flags = fcntl(fd, F_GETFL);
        if (flags >= 0) (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        return fd;
    }

    std::string path_;  // absolute, as seen before any chroot
    std::optional<uid_t> user_;
    int fd_ = -1;
};

std::shared_ptr<ReopenableFileSink> g_file_sink;
std::optional<std::string> g_chroot;  // set once the process is chrooted there

}  // namespace

void setup_logging(const LogSettings& settings, bool daemon) {
    // config::LogLevel follows spdlog's order.
    const auto level = static_cast<spdlog::level::level_enum>(settings.level);
    std::vector<spdlog::sink_ptr> sinks;
    if (settings.file) {
        try {
            g_file_sink = std::make_shared<ReopenableFileSink>(*settings.file, settings.user);
        } catch (const std::runtime_error& e) {
            throw std::runtime_error("--logfile: " + std::string(e.what()));
        }
        sinks.push_back(g_file_sink);
    }
    if (settings.syslog || (daemon && !settings.file)) {
        // LOG_NDELAY connects to /dev/log now, so logging still works after a chroot.
        sinks.push_back(std::make_shared<spdlog::sinks::syslog_sink_mt>(
            "dnscrypt-proxy", LOG_PID | LOG_NDELAY, LOG_DAEMON, false));
    }
    if (!daemon && !settings.file && !settings.syslog) {
        sinks.push_back(std::make_shared<spdlog::sinks::stdout_sink_mt>());
    }
    auto logger = std::make_shared<spdlog::logger>("dnscrypt-proxy", sinks.begin(), sinks.end());
    logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
    logger->set_level(level);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

std::optional<std::string> reopen_log_file() {
    if (!g_file_sink) return std::nullopt;
    const std::string& path = g_file_sink->path();
    std::string where = path;
    if (g_chroot) {
        const auto inside = path_in_jail(path, *g_chroot);
        if (!inside) {
            return "cannot reopen " + path + ": it is outside the chroot " + *g_chroot +
                   "; still writing to the file opened at start (have logrotate use "
                   "copytruncate, or keep the log file inside the chroot)";
        }
        where = *inside;
    }
    if (auto error = g_file_sink->reopen(where)) {
        return "cannot reopen " + path + ": " + *error +
               "; still writing to the file opened before";
    }
    return std::nullopt;
}

bool has_log_file() {
    return g_file_sink != nullptr;
}

void note_chroot(const std::string& root) {
    g_chroot = root;
}

}  // namespace dcp::app
