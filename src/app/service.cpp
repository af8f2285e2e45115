#include "app/service.hpp"

#include <spdlog/spdlog.h>

#include <ctime>
#include <optional>
#include <vector>

#include "app/catalogue.hpp"
#include "app/client_key.hpp"
#include "app/logging.hpp"
#include "app/process.hpp"
#include "app/runtime.hpp"

namespace dcp::app {

int serve(config::Settings settings) {
    const auto& svc = settings.service;
    // Everything that can fail for a reason the user must fix fails here, before serving and
    // while errors still reach the terminal.
    std::optional<UserInfo> user;
    if (svc.user) user = lookup_user(*svc.user, svc.user_chroot);
    setup_logging({svc.loglevel, svc.logfile, svc.syslog,
                   user ? std::optional<uid_t>(user->uid) : std::nullopt},
                  svc.daemonize);
    for (const auto& note : settings.notes) spdlog::warn("{}", note);
    std::vector<LoadedSource> sources;
    if (settings.catalogue) sources = choose_catalogue_servers(settings);
    // The time zone, for time-restricted rules, read now: a chroot hides /etc/localtime.
    tzset();
    auto keys = load_client_keys(settings.client_key_file);
    Runtime proxy(settings, keys);  // binds every socket, port 53 included
    // Before the chroot (it loads libcurl); its thread starts after fork() and the privilege drop.
    SourceRefresher refresher(std::move(sources));

    if (svc.daemonize) {
        // Before any worker thread exists: fork() keeps only the calling thread.
        proxy.for_each_io(
            [](asio::io_context& io) { io.notify_fork(asio::execution_context::fork_prepare); });
        daemonize();
        proxy.for_each_io(
            [](asio::io_context& io) { io.notify_fork(asio::execution_context::fork_child); });
    }
    std::optional<PidFile> pid_file;
    if (svc.pid_file) pid_file.emplace(*svc.pid_file);
    if (user) {
        if (user->chroot) proxy.rules_in_jail(user->home);
        drop_privileges(*user);
        if (user->chroot) {
            note_chroot(user->home);
            if (pid_file) pid_file->note_chroot(user->home);
            spdlog::info("running as {} (uid {}, gid {}), chrooted to {}", user->name, user->uid,
                         user->gid, user->home);
        } else {
            spdlog::info("running as {} (uid {}, gid {}; user_name: no chroot)", user->name,
                         user->uid, user->gid);
        }
    }
    // After fork() and the privilege drop: downloads run as the user, in the jail if any.
    refresher.start();
    proxy.on_hangup = [&refresher] { refresher.refresh_now(); };
    proxy.run();
    refresher.stop();
    return 0;
}

}  // namespace dcp::app
