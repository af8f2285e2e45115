#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test.
#   scripts/test.sh             g++ RelWithDebInfo build (build/): unit, vector, fuzz-corpus
#                               replay and integration tests
#   scripts/test.sh --sanitize  the same tests in a g++ RelWithDebInfo ASan+UBSan build
#                               (build-asan/)
#   scripts/test.sh --release   the same tests in a g++ Release (-O3) build (build-release/)
#   scripts/test.sh --clang     the same tests in a clang Release build (build-clang/)
#   ... --labels REGEX          only the ctest labels matching REGEX: unit, fuzz-replay,
#                               integration and its parts' functional, statistical, smoke
#                               (tests/integration/run_all.py; .ci/run says which build runs what).
#                               Without it: everything but the smoke part (a subset of the rest)
#   ... --build-only | --test-only   one half (CI overlaps one build's tests with the next build)
# Our builds treat warnings as errors; a user's plain cmake build does not.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
compiler=g++
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
labels=""
build=1
test=1
while [ $# -gt 0 ]; do
    case "$1" in
        --sanitize)
            # Optimised (RelWithDebInfo): the sanitizers catch the same at -O2, and the tests
            # run several times faster than at -O0.
            build_dir=build-asan
            cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCP_SANITIZE=ON -DDCP_BUILD_BENCH=OFF) ;;
        --release)
            build_dir=build-release
            cmake_args=(-DCMAKE_BUILD_TYPE=Release -DDCP_BUILD_BENCH=OFF) ;;
        --clang)
            build_dir=build-clang
            compiler=clang++
            cmake_args=(-DCMAKE_BUILD_TYPE=Release -DDCP_BUILD_BENCH=OFF) ;;
        --labels)
            labels=$2
            shift ;;
        --build-only) test=0 ;;
        --test-only) build=0 ;;
        *) echo "usage: $0 [--sanitize|--release|--clang] [--labels REGEX]" \
                "[--build-only|--test-only]" >&2; exit 2 ;;
    esac
    shift
done

./scripts/install-deps.sh
if [ $build -eq 1 ]; then
    CXX=$compiler cmake -S . -B "$build_dir" -G Ninja -DDCP_WARNINGS_AS_ERRORS=ON "${cmake_args[@]}"
    cmake --build "$build_dir"
fi
if [ $test -eq 1 ]; then
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    # One more job than cores: integration parts spend most of their time waiting on servers.
    ctest_args=(--test-dir "$build_dir" --output-on-failure -j"$(( $(nproc) + 1 ))")
    if [ -n "$labels" ]; then ctest_args+=(-L "$labels"); else ctest_args+=(-LE smoke); fi
    ctest "${ctest_args[@]}"
fi
