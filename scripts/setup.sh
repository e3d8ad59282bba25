#!/usr/bin/env bash
# Installs the Debian packages physlearn needs (only those missing), then configures and builds
# the project in build/ (Release). Safe to run again: a second run installs nothing and rebuilds
# only what changed. Run as root on Debian 12 (or with sudo available).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config zlib1g-dev libsundials-dev libeigen3-dev libngspice0-dev
  ngspice nlohmann-json3-dev doctest-dev libsuitesparse-dev libcli11-dev dataset-fashion-mnist
  gnuplot-nox libopenblas0-serial)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >&2
cmake --build build -j"$jobs" >&2
