#include "app/process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
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

PidFile::PidFile(std::string path) : path_(std::move(path)) {
    const auto slash = path_.rfind('/');
    const std::string dir =
        slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
    name_ = slash == std::string::npos ? path_ : path_.substr(slash + 1);
    dir_fd_ = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd_ < 0) fail("--pid-file: cannot open directory " + dir);
    const int fd = openat(dir_fd_, name_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("--pid-file: cannot write " + path_);
    const std::string text = std::to_string(getpid()) + "\n";
    const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    if (!ok) fail("--pid-file: cannot write " + path_);
}

PidFile::~PidFile() {
    if (dir_fd_ >= 0) {
        unlinkat(dir_fd_, name_.c_str(), 0);  // best effort: the log says if it stays
        close(dir_fd_);
    }
}

UserInfo lookup_user(const std::string& name) {
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
    struct stat st {};
    if (u.home.empty() || u.home == "/" || stat(u.home.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        throw std::runtime_error("--user: the home directory of '" + name + "' ('" + u.home +
                                 "') does not exist or is not a directory; it becomes the "
                                 "chroot, so it must (and should be empty)");
    }
    return u;
}

void drop_privileges(const UserInfo& user) {
    if (geteuid() != 0) {
        throw std::runtime_error("--user needs to start as root (to chroot and change user)");
    }
    if (chroot(user.home.c_str()) != 0) fail("--user: chroot to " + user.home);
    if (chdir("/") != 0) fail("--user: chdir / in the chroot");
    const std::vector<gid_t> groups(user.groups.begin(), user.groups.end());
    if (setgroups(groups.size(), groups.data()) != 0) fail("--user: setgroups");
    if (setgid(user.gid) != 0) fail("--user: setgid");
    if (setuid(user.uid) != 0) fail("--user: setuid");
    if (user.uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        throw std::runtime_error("--user: root could be regained after dropping privileges");
    }
}

}  // namespace dcp::app
