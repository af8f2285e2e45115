#include "app/server_list.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "app/catalogue.hpp"
#include "sources/embedded.hpp"

namespace dcp::app {
namespace {

std::string properties(const stamp::Stamp& s) {
    std::string out;
    const auto add = [&out](const char* p) { out += out.empty() ? p : std::string(",") + p; };
    if (s.dnssec()) add("dnssec");
    if (s.no_log()) add("nolog");
    if (s.no_filter()) add("nofilter");
    return out.empty() ? "-" : out;
}

std::string address_of(const stamp::Stamp& s) {
    const auto where = stamp::server_address(s);
    if (!where) return s.address;
    const bool v6 = where->host.find(':') != std::string::npos;
    return (v6 ? "[" + where->host + "]" : where->host) + ":" + std::to_string(where->port);
}

}  // namespace

int print_server_list(const config::Settings& settings, bool all, bool json) {
    sources::Selection selection;
    if (settings.catalogue) {
        auto catalogue = *settings.catalogue;
        if (all) {
            catalogue.filters = sources::Filters::everything();
            catalogue.statics.clear();  // named servers would restrict the list to themselves
        }
        selection = catalogue_selection(catalogue);
    } else {
        const auto list = sources::load_embedded("public-resolvers");
        if (!list) {
            std::fprintf(stderr, "dnscrypt-proxy: the embedded resolver list does not verify: %s\n",
                         minisign::to_string(list.error()).c_str());
            return 1;
        }
        selection = sources::select_servers(
            list->entries, all ? sources::Filters::everything() : sources::Filters{});
    }
    if (json) {
        // The fields of dnscrypt-proxy 2's -json output, so scripts written for it keep working.
        auto out = nlohmann::json::array();
        for (const auto& c : selection.servers) {
            const auto where = stamp::server_address(c.stamp);
            out.push_back(
                {{"name", c.name},
                 {"proto", std::string(stamp::protocol_name(c.stamp.protocol))},
                 {"ipv6", !c.stamp.address.empty() && c.stamp.address.front() == '['},
                 {"addrs", where ? nlohmann::json::array({where->host}) : nlohmann::json::array()},
                 {"ports", where ? nlohmann::json::array({where->port}) : nlohmann::json::array()},
                 {"dnssec", c.stamp.dnssec()},
                 {"nolog", c.stamp.no_log()},
                 {"nofilter", c.stamp.no_filter()},
                 {"description", c.description},
                 {"stamp", stamp::encode(c.stamp).value_or("")}});
        }
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    for (const auto& c : selection.servers) {
        std::printf("%-40s %-9s %-28s %s\n", c.name.c_str(),
                    std::string(stamp::protocol_name(c.stamp.protocol)).c_str(),
                    address_of(c.stamp).c_str(), properties(c.stamp).c_str());
    }
    return 0;
}

}  // namespace dcp::app
