#include "app/rules_loader.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/read_file.hpp"

namespace dcp::app {
namespace {

// Rule lists of millions of lines exist; nothing sensible is larger.
constexpr std::size_t kMaxRuleFile = std::size_t{256} << 20;

std::string read_file(const std::string& path, const char* what) {
    auto text = read_whole_file(path, kMaxRuleFile);
    if (!text) {
        throw config::ConfigError(
            fmt::format("{}: cannot read '{}': {}", what, path, text.error()));
    }
    return std::move(*text);
}

// At most this many skipped lines are logged one by one per file; the rest are counted.
constexpr std::size_t kDiagnosticsPerFile = 20;

void report(const rules::Diagnostics& diagnostics) {
    std::size_t shown = 0;
    std::string file;
    std::size_t hidden = 0;
    for (const auto& d : diagnostics) {
        if (d.file != file) {
            if (hidden != 0) spdlog::warn("{}: {} more lines skipped", file, hidden);
            file = d.file;
            shown = hidden = 0;
        }
        if (shown++ < kDiagnosticsPerFile) {
            spdlog::warn("{}", d.to_string());
        } else {
            ++hidden;
        }
    }
    if (hidden != 0) spdlog::warn("{}: {} more lines skipped", file, hidden);
}

}  // namespace

std::shared_ptr<const rules::RuleSet> load_rules(const config::RulesConfig& config) {
    const auto start = std::chrono::steady_clock::now();
    auto set = std::make_shared<rules::RuleSet>();
    set->settings = config.policy;
    rules::Diagnostics diagnostics;
    std::string summary;
    auto note = [&summary](const std::string& what) {
        if (!summary.empty()) summary += ", ";
        summary += what;
    };
    if (!config.blocked_names.empty()) {
        set->blocked_names =
            rules::parse_name_rules(read_file(config.blocked_names, "blocked_names"),
                                    config.blocked_names, diagnostics, &config.schedules);
        note(std::to_string(set->blocked_names->matcher.size()) + " blocked names");
    }
    if (!config.allowed_names.empty()) {
        set->allowed_names =
            rules::parse_name_rules(read_file(config.allowed_names, "allowed_names"),
                                    config.allowed_names, diagnostics, &config.schedules);
        note(std::to_string(set->allowed_names->matcher.size()) + " allowed names");
    }
    if (!config.blocked_ips.empty()) {
        set->blocked_ips = rules::parse_ip_rules(read_file(config.blocked_ips, "blocked_ips"),
                                                 config.blocked_ips, diagnostics);
        note(std::to_string(set->blocked_ips->matcher.size()) + " blocked IP rules");
    }
    if (!config.allowed_ips.empty()) {
        set->allowed_ips = rules::parse_ip_rules(read_file(config.allowed_ips, "allowed_ips"),
                                                 config.allowed_ips, diagnostics);
        note(std::to_string(set->allowed_ips->matcher.size()) + " allowed IP rules");
    }
    if (!config.cloaking.empty()) {
        set->cloaking = rules::parse_cloaking_rules(read_file(config.cloaking, "cloaking_rules"),
                                                    config.cloaking, config.cloak_ptr, diagnostics);
        note(std::to_string(set->cloaking->entries.size()) + " cloaking rules");
    }
    if (!config.forwarding.empty()) {
        set->forwarding = rules::parse_forwarding_rules(
            read_file(config.forwarding, "forwarding_rules"), config.forwarding, diagnostics);
        note(std::to_string(set->forwarding->rules.size()) + " forwarding rules");
    }
    if (!config.captive_portals.empty()) {
        set->captive_portals =
            rules::parse_captive_portals(read_file(config.captive_portals, "captive_portals"),
                                         config.captive_portals, diagnostics);
        note(std::to_string(set->captive_portals->entries.size()) + " captive portal names");
    }
    if (config.policy.block_ipv6) note("block_ipv6");
    if (config.policy.block_unqualified) note("block_unqualified");
    if (config.policy.block_undelegated) note("block_undelegated");
    report(diagnostics);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    spdlog::info("rules: {} (loaded in {} ms)", summary, ms);
    return set;
}

}  // namespace dcp::app
