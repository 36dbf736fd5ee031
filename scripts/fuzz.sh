#!/usr/bin/env bash
# Builds the libFuzzer harness (tests/fuzz/fuzz_sip.c) with clang, ASan and
# UBSan in build-fuzz/, and runs it for FUZZ_SECONDS (default 60) from the
# committed corpus (tests/fuzz/corpus, not modified: new inputs go to
# build-fuzz/corpus).  Any crash, sanitizer report or leak fails; the
# input that caused it is left in build-fuzz/ (crash-*, leak-*).
#
#   scripts/fuzz.sh            # 60 s
#   FUZZ_SECONDS=600 scripts/fuzz.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

CC=clang cmake -S . -B build-fuzz -DLOCUS_FUZZ=ON -DLOCUS_WERROR=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_sip >/dev/null
mkdir -p build-fuzz/corpus
cd build-fuzz
# libre prints a line for every message it cannot decode: not ours to read;
# the harness adds seeds of in-dialog requests with Routes stamped by its
# own key (no committed seed can carry a valid stamp)
LOCUS_FUZZ_SEEDS=corpus ASAN_OPTIONS=detect_leaks=1 ./fuzz_sip -max_total_time="${FUZZ_SECONDS:-60}" \
	-print_final_stats=1 -close_fd_mask=0 corpus "$top/tests/fuzz/corpus" \
	2>fuzz.log || { tail -n 60 fuzz.log; echo "fuzz: FAILED (build-fuzz/fuzz.log)"; exit 1; }
grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)|cov: " fuzz.log |
	tail -n 4
echo "fuzz: ok"
