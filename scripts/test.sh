#!/usr/bin/env bash
# Installs what is missing, builds from scratch with warnings as errors and
# runs every test (unit and integration) through ctest.  Then builds the
# Debian package and installs, runs and removes it (tests/package/run.sh;
# as root, as CI runs).  Then builds again with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/) and runs every test once more,
# leak detection on: any sanitizer report in locus's output fails its
# test.  Last, 60 s of fuzzing (scripts/fuzz.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

scripts/deps.sh
rm -rf build build-asan
scripts/build.sh
(cd build && ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@")

echo "test: the Debian package (scripts/package.sh, tests/package/run.sh)"
deb=$(scripts/package.sh)
tests/package/run.sh "$deb"

echo "test: again under ASan and UBSan (build-asan)"
cmake -S . -B build-asan -DLOCUS_WERROR=ON -DLOCUS_SANITIZE=ON \
	-DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j "$(nproc)" >/dev/null
cd build-asan
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
cd "$top"

echo "test: fuzzing for ${FUZZ_SECONDS:-60} s (scripts/fuzz.sh)"
scripts/fuzz.sh
