#!/usr/bin/env bash
# Configures and builds locus in build/ (warnings are errors).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$top" -B "$top/build" -DLOCUS_WERROR=ON >/dev/null
cmake --build "$top/build" -j "$(nproc)"
