#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for SECONDS (default 20).
# New inputs go to fuzz-out/<target>/ (not committed); findings stop the run and fail the script.
# Targets run side by side, one per core (DCP_FUZZ_JOBS to change).
#   scripts/fuzz.sh [SECONDS] [TARGET...] [--build-only|--run-only]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
shift || true
build=1
run=1
targets=()
for a in "$@"; do
    case "$a" in
        --build-only) run=0 ;;   # CI builds beside another step's tests, and fuzzes later
        --run-only) build=0 ;;
        *) targets+=("$a") ;;
    esac
done
if [ ${#targets[@]} -eq 0 ]; then
    targets=(dns_query dns_response certificate dnscrypt_response tcp_frame config_file endpoint
             stamp minisign resolver_list doh_message rule_files local_answer http2_client)
fi

./scripts/install-deps.sh
if [ $build -eq 1 ]; then
    CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DDCP_LIBFUZZER=ON -DDCP_BUILD_TESTS=OFF -DDCP_BUILD_BENCH=OFF -DDCP_WARNINGS_AS_ERRORS=ON
    cmake --build build-fuzz
fi
[ $run -eq 1 ] || exit 0

# Two targets at a time (one per core); each one's output is printed when it ends.
jobs=${DCP_FUZZ_JOBS:-$(nproc)}
run_one() {
    local t=$1 seconds=$2
    mkdir -p "fuzz-out/$t"
    if ./build-fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -print_final_stats=1 \
            -artifact_prefix="fuzz-out/$t-" "fuzz-out/$t" "fuzz/corpus/$t" \
            >"fuzz-out/$t.log" 2>&1; then
        echo "== fuzz_$t for ${seconds}s: ok"
        tail -n 15 "fuzz-out/$t.log"
    else
        echo "== fuzz_$t for ${seconds}s: FAILED"
        tail -n 80 "fuzz-out/$t.log"
        return 1
    fi
}
export -f run_one
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$seconds"
