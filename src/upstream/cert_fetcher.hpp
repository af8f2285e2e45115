#pragma once
// Fetching the resolver's certificates: a plain TXT query to the resolver's own address, over
// UDP then TCP (TC, loss or an unusable answer), or TCP then UDP in TCP-only mode (Debian's
// dnsdist 1.7 answers certificate queries over TCP with an empty message, hence the fallback).

#include <string>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "dnscrypt/cert_answer.hpp"
#include "net/asio.hpp"
#include "upstream/resolver_config.hpp"

namespace dcp::upstream {

struct FetchFailure {
    std::string reason;  // for the log: what went wrong on each transport tried
};

[[nodiscard]] net::awaitable<dcp::Result<dnscrypt::CertificateChoice, FetchFailure>>
fetch_certificates(const ResolverConfig& config, const Clock& clock);

}  // namespace dcp::upstream
