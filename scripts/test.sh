#!/usr/bin/env bash
# Installs what is missing, builds from scratch with warnings as errors and
# runs every test (unit and integration) through ctest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

scripts/deps.sh
rm -rf build
scripts/build.sh
cd build
ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
