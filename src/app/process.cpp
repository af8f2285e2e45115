#include "app/process.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace dcp::app {
namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

void daemonize() {
    pid_t pid = fork();
    if (pid < 0) fail("fork");
    if (pid > 0) _exit(0);
    if (setsid() < 0) fail("setsid");
    pid = fork();  // no longer a session leader: can never reacquire a terminal
    if (pid < 0) fail("fork");
    if (pid > 0) _exit(0);
    if (chdir("/") != 0) fail("chdir /");
    const int null = open("/dev/null", O_RDWR);
    if (null < 0) fail("open /dev/null");
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO) close(null);
}

std::string canonical_path(const std::string& path) {
    std::array<char, PATH_MAX> out{};
    if (::realpath(path.c_str(), out.data()) != nullptr) return out.data();
    if (!path.empty() && path.front() == '/') return path;
    std::array<char, PATH_MAX> cwd{};
    if (::getcwd(cwd.data(), cwd.size()) == nullptr) return path;
    return std::string(cwd.data()) + "/" + path;
}

std::optional<std::string> path_in_jail(const std::string& path, const std::string& root) {
    if (path.size() <= root.size() + 1 || path.compare(0, root.size(), root) != 0 ||
        path[root.size()] != '/') {
        return std::nullopt;
    }
    return path.substr(root.size());
}

PidFile::PidFile(std::string path) {
    const int fd = ::open(
        path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) {
        if (errno == ELOOP) {
            throw std::runtime_error("--pid-file: " + path +
                                     " is a symbolic link; refusing to write through it");
        }
        fail("--pid-file: cannot write " + path);
    }
    // Closed before anything else happens, whatever the outcome: a descriptor kept past the
    // privilege drop would let a compromised proxy write another pid, which root's stop scripts
    // would then kill.
    struct stat st {};
    const bool stat_ok = fstat(fd, &st) == 0;
    const bool regular = stat_ok && S_ISREG(st.st_mode) && st.st_nlink == 1;
    const std::string text = std::to_string(getpid()) + "\n";
    const bool written = regular && ftruncate(fd, 0) == 0 &&
                         write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const int saved_errno = errno;  // of fstat or the write, for fail()
    ::close(fd);
    errno = saved_errno;
    if (!stat_ok) fail("--pid-file: " + path);
    if (!regular) {
        throw std::runtime_error(
            "--pid-file: " + path +
            (S_ISREG(st.st_mode) ? " has other hard links" : " is not a regular file") +
            "; refusing to overwrite it");
    }
    if (!written) fail("--pid-file: cannot write " + path);
    path_ = canonical_path(path);
    written_ = true;
}

void PidFile::note_chroot(const std::string& root) {
    chrooted_ = true;
    jail_path_ = path_in_jail(path_, root);
    if (!jail_path_) {
        spdlog::warn("the pid file {} lies beyond the jail {}: it cannot be removed at exit", path_,
                     root);
    }
}

PidFile::~PidFile() {
    if (!written_) return;
    if (!chrooted_) {
        ::unlink(path_.c_str());
    } else if (jail_path_) {
        ::unlink(jail_path_->c_str());
    }
}

UserInfo lookup_user(const std::string& name, bool chroot) {
    errno = 0;
    const passwd* pw = getpwnam(name.c_str());
    if (pw == nullptr) {
        if (errno != 0) fail("--user: looking up '" + name + "'");
        throw std::runtime_error("--user: no such user '" + name + "'");
    }
    UserInfo u{name, pw->pw_uid, pw->pw_gid, pw->pw_dir ? pw->pw_dir : "", {}};
    int count = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    if (getgrouplist(name.c_str(), u.gid, groups.data(), &count) < 0) {
        groups.resize(static_cast<std::size_t>(count));
        getgrouplist(name.c_str(), u.gid, groups.data(), &count);
    }
    groups.resize(static_cast<std::size_t>(std::max(count, 0)));
    u.groups.assign(groups.begin(), groups.end());
    if (u.groups.empty()) u.groups.push_back(u.gid);
    u.chroot = chroot;
    if (!chroot) return u;
    struct stat st {};
    if (u.home.empty() || u.home == "/" || stat(u.home.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        throw std::runtime_error("--user: the home directory of '" + name + "' ('" + u.home +
                                 "') does not exist or is not a directory; it becomes the "
                                 "chroot, so it must (and should be empty)");
    }
    // Resolved now, while the whole file system is visible: after the chroot, paths opened
    // before it (log file, pid file) are compared with this one to find them inside the jail.
    u.home = canonical_path(u.home);
    return u;
}

void drop_privileges(const UserInfo& user) {
    if (geteuid() != 0) {
        throw std::runtime_error("--user needs to start as root (to chroot and change user)");
    }
    if (user.chroot) {
        if (chroot(user.home.c_str()) != 0) fail("--user: chroot to " + user.home);
        if (chdir("/") != 0) fail("--user: chdir / in the chroot");
    }
    const std::vector<gid_t> groups(user.groups.begin(), user.groups.end());
    if (setgroups(groups.size(), groups.data()) != 0) fail("--user: setgroups");
    if (setgid(user.gid) != 0) fail("--user: setgid");
    if (setuid(user.uid) != 0) fail("--user: setuid");
    if (user.uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        throw std::runtime_error("--user: root could be regained after dropping privileges");
    }
}

}  // namespace dcp::app
