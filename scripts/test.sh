#!/usr/bin/env bash
# README's second command: install what is missing, build, and run the test suite (ctest).
# Long training runs are labelled "slow" and left out; run them with: ctest --test-dir build -L slow
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -LE slow -j"$(nproc 2>/dev/null || echo 2)" "$@"
