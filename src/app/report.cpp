#include "app/report.hpp"

#include <spdlog/fmt/fmt.h>
#include <spdlog/fmt/ranges.h>

#include <algorithm>

namespace dcp::app {

void Report::add(std::size_t index, const Counters& counters,
                 const std::vector<upstream::ServerReport>& servers) {
    sum_ += counters;
    if (index < per_worker_.size()) {
        per_worker_[index] = counters.queries_udp + counters.queries_tcp;
    }
    for (const auto& server : servers) {
        const auto same = std::find_if(servers_.begin(), servers_.end(),
                                       [&](const auto& r) { return r.id == server.id; });
        if (same == servers_.end()) {
            servers_.push_back(server);
        } else {
            *same += server;
        }
    }
}

std::vector<std::string> Report::lines() const {
    std::vector<std::string> out;
    out.push_back("counters: " + sum_.to_string());
    const auto n = static_cast<std::ptrdiff_t>(std::min(workers_, per_worker_.size()));
    if (n > 1) {
        out.push_back(fmt::format("queries by worker: {}",
                                  fmt::join(per_worker_.begin(), per_worker_.begin() + n, " ")));
    }
    if (servers_.size() < 2) return out;
    std::uint64_t total = 0;
    for (const auto& r : servers_) total += r.queries;
    for (const auto& r : servers_) {
        out.push_back(fmt::format(
            "server {}: {}, rtt {:.1f} ms (p95 {:.1f} ms), {} queries ({:.1f} %), {} answers, "
            "{} failures, {} hedges ({} won)",
            r.name, r.up ? "up" : "down", static_cast<double>(r.srtt.count()) / 1e3,
            static_cast<double>(r.p95.count()) / 1e3, r.queries,
            total == 0 ? 0.0 : 100.0 * static_cast<double>(r.queries) / static_cast<double>(total),
            r.answers, r.failures, r.hedges, r.hedges_won));
    }
    return out;
}

}  // namespace dcp::app
