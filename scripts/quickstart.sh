#!/usr/bin/env bash
# README's first command: install what is missing, build, and train the default experiment
# (experiments/quickstart.json: EP on Fashion-MNIST); prints the test error.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/physlearn run experiments/quickstart.json "$@"
