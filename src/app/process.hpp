#pragma once
// The process side of running as a service: detaching from the terminal, the pid file, and
// giving up root. POSIX only (Linux, the BSDs, macOS).

#include <optional>
#include <string>
#include <vector>

#include "common/noncopyable.hpp"

namespace dcp::app {

// fork, setsid, fork again; the original process exits 0 once the daemon exists. stdin, stdout
// and stderr go to /dev/null; the working directory becomes /. Throws std::runtime_error.
// Call it before any thread or event loop exists.
void daemonize();

// Writes the pid at start and removes the file at exit. It is opened as root, maybe in a
// directory others can write to, so it is never followed through a symbolic link, must be a
// regular file with no other hard link, and is truncated only after those checks.
// After a chroot the file is removed through its path inside the jail when it lies there; one
// outside cannot be reached from inside (no descriptor of a directory outside is kept: that
// would let code in the jail leave it), so it is emptied through the file's own descriptor
// instead, which marks it stale for init scripts.
class PidFile : NonCopyable {
  public:
    explicit PidFile(std::string path);  // throws std::runtime_error
    ~PidFile();

    // The process is now chrooted to `root` (canonical: UserInfo::home).
    void note_chroot(const std::string& root);

  private:
    std::string path_;                      // absolute and canonical, as seen before any chroot
    std::optional<std::string> jail_path_;  // its path inside the chroot, when it lies there
    bool chrooted_ = false;
    bool written_ = false;
};

// The path without symbolic links or relative parts (relative to the current directory when it
// does not exist yet), so it can be compared with a chroot's. Call it before the chroot.
[[nodiscard]] std::string canonical_path(const std::string& path);

// Where `path` (canonical, as seen before the chroot) is inside a chroot at `root` (canonical),
// or nothing when it lies outside.
[[nodiscard]] std::optional<std::string> path_in_jail(const std::string& path,
                                                      const std::string& root);

// Looks the user and its groups up now, before the chroot hides /etc, and fails early with a
// clear message: unknown user, or a home directory that cannot be the chroot.
struct UserInfo {
    std::string name;
    unsigned uid = 0;
    unsigned gid = 0;
    std::string home;  // canonical (canonical_path), so paths can be compared with it
    std::vector<unsigned> groups;
    bool chroot = true;  // --user chroots to the home; dnscrypt-proxy 2's user_name does not
};
// `chroot`: the home must exist and becomes the root. Throws std::runtime_error.
[[nodiscard]] UserInfo lookup_user(const std::string& name, bool chroot = true);

// chroot() to the user's home directory, then the user's groups, gid and uid. Checks that root
// cannot be regained. Throws std::runtime_error naming the step that failed.
void drop_privileges(const UserInfo& user);

}  // namespace dcp::app
