#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test.
#   scripts/test.sh             g++ RelWithDebInfo build (build/): unit, vector, fuzz-corpus
#                               replay and integration tests
#   scripts/test.sh --sanitize  the same tests in a g++ ASan+UBSan build at -O1 -g, asserts on
#                               (build-asan/)
#   scripts/test.sh --release   the same tests in a g++ Release (-O3) build (build-release/)
#   scripts/test.sh --clang     the same tests in a clang Release build (build-clang-release/);
#                               with --sanitize, clang's ASan+UBSan (build-clang-asan/)
#   ... --labels REGEX          only the ctest labels matching REGEX: unit, fuzz-replay,
#                               integration and its parts' functional, statistical
#                               (tests/integration/run_all.py; .ci/run says which build runs what)
#   ... --build-only | --test-only   one half (CI overlaps one build's tests with the next build)
# Our builds treat warnings as errors; a user's plain cmake build does not.
set -euo pipefail
cd "$(dirname "$0")/.."

compiler=g++
sanitize=0
release=0
labels=""
build=1
test=1
while [ $# -gt 0 ]; do
    case "$1" in
        --sanitize) sanitize=1 ;;
        --release) release=1 ;;
        --clang) compiler=clang++ ;;
        --labels)
            labels=$2
            shift ;;
        --build-only) test=0 ;;
        --test-only) build=0 ;;
        *) echo "usage: $0 [--sanitize|--release] [--clang] [--labels REGEX]" \
                "[--build-only|--test-only]" >&2; exit 2 ;;
    esac
    shift
done
if [ $sanitize -eq 1 ]; then
    # -O1 -g, asserts on: AddressSanitizer's recommended level (it catches the same as at -O0,
    # compiles faster than -O2 and runs the tests several times faster than -O0).
    build_dir=build-asan
    cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
                -DDCP_SANITIZE=ON -DDCP_BUILD_BENCH=OFF)
elif [ $release -eq 1 ] || [ $compiler = clang++ ]; then
    build_dir=build-release
    cmake_args=(-DCMAKE_BUILD_TYPE=Release -DDCP_BUILD_BENCH=OFF)
else
    build_dir=build
    cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi
if [ $compiler = clang++ ]; then build_dir=${build_dir/build/build-clang}; fi

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
    if [ -n "$labels" ]; then ctest_args+=(-L "$labels"); fi
    ctest "${ctest_args[@]}"
fi
