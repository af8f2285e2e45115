#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for SECONDS (default 20).
# New inputs go to fuzz-out/<target>/ (not committed); findings stop the run and fail the script.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(dns_query dns_response certificate dnscrypt_response tcp_frame config_file endpoint
             stamp minisign resolver_list doh_message rule_files local_answer)
fi

./scripts/install-deps.sh
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DDCP_LIBFUZZER=ON -DDCP_BUILD_TESTS=OFF -DDCP_BUILD_BENCH=OFF -DDCP_WARNINGS_AS_ERRORS=ON
cmake --build build-fuzz

for t in "${targets[@]}"; do
    mkdir -p "fuzz-out/$t"
    echo "== fuzz_$t for ${seconds}s"
    ./build-fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="fuzz-out/$t-" "fuzz-out/$t" "fuzz/corpus/$t"
done
