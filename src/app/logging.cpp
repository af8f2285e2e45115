#include "app/logging.hpp"

#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

#include <mutex>
#include <stdexcept>

namespace dcp::app {
namespace {

// A file sink that can reopen its file in place (spdlog's basic_file_sink cannot).
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    explicit ReopenableFileSink(std::string path) : path_(std::move(path)) {
        file_.open(path_, false);
    }
    void reopen() {
        std::lock_guard<std::mutex> lock(mutex_);
        file_.close();
        file_.open(path_, false);
    }

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        file_.write(formatted);
        file_.flush();  // a proxy logs little; losing the last lines to a crash is worse
    }
    void flush_() override { file_.flush(); }

  private:
    std::string path_;
    spdlog::details::file_helper file_;
};

std::shared_ptr<ReopenableFileSink> g_file_sink;

}  // namespace

std::optional<int> parse_log_level(const std::string& text) {
    static const std::pair<const char*, spdlog::level::level_enum> kNames[] = {
        {"trace", spdlog::level::trace},  {"debug", spdlog::level::debug},
        {"info", spdlog::level::info},    {"notice", spdlog::level::info},
        {"warning", spdlog::level::warn}, {"warn", spdlog::level::warn},
        {"error", spdlog::level::err},    {"critical", spdlog::level::critical},
        {"off", spdlog::level::off}};
    for (const auto& [name, level] : kNames) {
        if (text == name) return level;
    }
    // Syslog numbers, as the original took them: 0 emerg .. 7 debug.
    if (text.size() == 1 && text[0] >= '0' && text[0] <= '7') {
        static const spdlog::level::level_enum kSyslog[] = {
            spdlog::level::critical, spdlog::level::critical, spdlog::level::critical,
            spdlog::level::err,      spdlog::level::warn,     spdlog::level::info,
            spdlog::level::info,     spdlog::level::debug};
        return kSyslog[text[0] - '0'];
    }
    return std::nullopt;
}

void setup_logging(const LogSettings& settings, bool daemon) {
    const auto level = parse_log_level(settings.level);
    if (!level) {
        throw std::runtime_error("--loglevel: '" + settings.level +
                                 "' is not a level (trace, debug, info, warning, error, "
                                 "critical, off, or 0-7)");
    }
    std::vector<spdlog::sink_ptr> sinks;
    if (settings.file) {
        try {
            g_file_sink = std::make_shared<ReopenableFileSink>(*settings.file);
        } catch (const spdlog::spdlog_ex& e) {
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
    logger->set_level(static_cast<spdlog::level::level_enum>(*level));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

void reopen_log_file() {
    if (g_file_sink) g_file_sink->reopen();
}

}  // namespace dcp::app
