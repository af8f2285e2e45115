#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test.
#   scripts/test.sh             release build (build/): unit, vector, fuzz-corpus replay and
#                               integration tests
#   scripts/test.sh --sanitize  the same tests in an ASan+UBSan build (build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCP_WARNINGS_AS_ERRORS=ON)
if [ "${1:-}" = "--sanitize" ]; then
    build_dir=build-asan
    cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DDCP_SANITIZE=ON -DDCP_BUILD_BENCH=OFF -DDCP_WARNINGS_AS_ERRORS=ON)
fi

./scripts/install-deps.sh
cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}"
cmake --build "$build_dir"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)"
