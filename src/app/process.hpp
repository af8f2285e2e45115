#pragma once
// The process side of running as a service: detaching from the terminal, the pid file, and
// giving up root. POSIX only (Linux, the BSDs, macOS).

#include <optional>
#include <string>
#include <vector>

namespace dcp::app {

// fork, setsid, fork again; the original process exits 0 once the daemon exists. stdin, stdout
// and stderr go to /dev/null; the working directory becomes /. Throws std::runtime_error.
// Call it before any thread or event loop exists.
void daemonize();

// Writes the pid at start and removes the file at exit. The directory is kept open so the file
// can still be removed after a chroot (it needs to be writable by the --user then).
class PidFile {
  public:
    explicit PidFile(std::string path);  // throws std::runtime_error
    ~PidFile();
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;

  private:
    std::string path_;
    std::string name_;
    int dir_fd_ = -1;
};

// Looks the user and its groups up now, before the chroot hides /etc, and fails early with a
// clear message: unknown user, or a home directory that cannot be the chroot.
struct UserInfo {
    std::string name;
    unsigned uid = 0;
    unsigned gid = 0;
    std::string home;
    std::vector<unsigned> groups;
};
[[nodiscard]] UserInfo lookup_user(const std::string& name);  // throws std::runtime_error

// chroot() to the user's home directory, then the user's groups, gid and uid. Checks that root
// cannot be regained. Throws std::runtime_error naming the step that failed.
void drop_privileges(const UserInfo& user);

}  // namespace dcp::app
