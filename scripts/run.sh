#!/usr/bin/env bash
# Installs what is missing, builds the proxy, and runs it. With no arguments it uses its
# compiled-in defaults: listen on 127.0.0.1:53, forward to the default public resolver (Quad9,
# see src/config/defaults.hpp). Any arguments are passed to dnscrypt-proxy (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target dnscrypt-proxy
exec ./build/src/app/dnscrypt-proxy "$@"
