#pragma once
// The resolver used when none is given on the command line.
//
// Quad9, "quad9-dnscrypt-ip4-nofilter-pri" in the signed public-resolvers.md list (snapshot
// 2026-07-24, shared/data/dnscrypt-resolvers-v3/): no logging, no filtering, DNSSEC validation,
// anycast on many sites (a short path from most places), run by a non-profit, and listed for
// years with the same provider key. Its stamp:
// sdns://AQcAAAAAAAAADTkuOS45LjEwOjg0NDMgZ8hHuMh1jNEgJFVDvnVnRt803x2EwAuMRwNo34Idhj4ZMi5kbnNjcnlwdC1jZXJ0LnF1YWQ5Lm5ldA
// A later version picks resolvers from the whole signed list automatically.

namespace dcp::config {

inline constexpr const char* kDefaultResolverAddress = "9.9.9.10:8443";
inline constexpr const char* kDefaultProviderName = "2.dnscrypt-cert.quad9.net";
inline constexpr const char* kDefaultProviderKey =
    "67c847b8c8758cd120245543be756746df34df1d84c00b8c470368df821d863e";
inline constexpr const char* kDefaultLocalAddress = "127.0.0.1:53";

}  // namespace dcp::config
