#!/usr/bin/env bash
# A working proxy with no Internet: starts NSD (a made-up zone), Debian's dnsdist as a DNSCrypt
# resolver in front of it, and the proxy, all on 127.0.0.1, then asks the proxy with dig.
#   scripts/demo.sh          show a few answers and stop everything
#   scripts/demo.sh --keep   leave them running until Enter is pressed
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target dnscrypt-proxy
DCP_PROXY_BIN="$PWD/build/src/app/dnscrypt-proxy" exec python3 tests/integration/demo.py "$@"
