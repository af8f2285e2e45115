#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test.
#   scripts/test.sh             g++ RelWithDebInfo build (build/): unit, vector, fuzz-corpus
#                               replay and integration tests
#   scripts/test.sh --sanitize  the same tests in a g++ Debug ASan+UBSan build (build-asan/)
#   scripts/test.sh --release   the same tests in a g++ Release (-O3) build (build-release/)
#   scripts/test.sh --clang     the same tests in a clang Release build (build-clang/)
# Our builds treat warnings as errors; a user's plain cmake build does not.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
compiler=g++
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
case "${1:-}" in
    --sanitize)
        build_dir=build-asan
        cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DDCP_SANITIZE=ON -DDCP_BUILD_BENCH=OFF) ;;
    --release)
        build_dir=build-release
        cmake_args=(-DCMAKE_BUILD_TYPE=Release) ;;
    --clang)
        build_dir=build-clang
        compiler=clang++
        cmake_args=(-DCMAKE_BUILD_TYPE=Release -DDCP_BUILD_BENCH=OFF) ;;
    "") ;;
    *) echo "usage: $0 [--sanitize|--release|--clang]" >&2; exit 2 ;;
esac

./scripts/install-deps.sh
CXX=$compiler cmake -S . -B "$build_dir" -G Ninja -DDCP_WARNINGS_AS_ERRORS=ON "${cmake_args[@]}"
cmake --build "$build_dir"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)"
