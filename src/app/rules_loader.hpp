#pragma once
// Reads the rule files the settings name into one RuleSet, logging every line it skipped (file
// and line number) and what it loaded. At start a file that cannot be read stops the proxy
// (ConfigError); on SIGHUP the caller keeps the rules it had.

#include <memory>

#include "config/config.hpp"
#include "rules/rule_set.hpp"

namespace dcp::app {

[[nodiscard]] std::shared_ptr<const rules::RuleSet> load_rules(const config::RulesConfig& config);

}  // namespace dcp::app
