#!/usr/bin/env bash
# Installs what `make bench` and `make bench-check` need beyond
# scripts/install-test-deps.sh (which `make bench` runs first: the build's
# libraries, redis-server, openssl), idempotently: valgrind (callgrind
# instruction counts) and python3 (scripts/bench_report.py).
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PACKAGES=(valgrind python3)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
