#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the benchmarks use. Idempotent: packages
# already present are left alone, and apt is only asked when something is missing.
set -euo pipefail

packages=(
    # build
    cmake ninja-build g++ pkg-config python3
    # libraries
    libsodium-dev libasio-dev libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
    # resolver-list downloads (HTTPS with certificate verification)
    libcurl4-openssl-dev
    # DNS-over-HTTPS upstream: TLS (through asio::ssl) and HTTP/2 framing
    libssl-dev libnghttp2-dev
    # tests, benchmarks, fuzzing (clang's libFuzzer and sanitizer runtimes)
    libgtest-dev libbenchmark-dev nlohmann-json3-dev clang libclang-rt-14-dev clang-format
    # real servers and clients for the integration tests and benchmarks
    dnsdist nsd unbound bind9-dnsutils knot-dnsutils dnsperf
    # the fault campaign (tests/campaign): a wrong clock for one process
    faketime
    # DoH tests: connections counted on the server side (ss); the expired test certificate is
    # made under faketime
    iproute2
    # resolver-list signatures: the interop test signs with the reference tool
    minisign
    # the test CA and server certificate of the HTTPS list server in the tests
    openssl
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Debian's maintainer scripts would start nsd, unbound and dnsdist as system services on their
# default ports; the tests start their own instances, so keep the packaged ones stopped.
policy_added=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    policy_added=1
fi
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
if [ $policy_added -eq 1 ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
