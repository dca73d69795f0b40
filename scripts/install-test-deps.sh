#!/usr/bin/env bash
# Installs what `make test` needs, idempotently, on a fresh Debian machine.
# Safe to run again: apt skips what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages (none are needed yet by the policy evaluator; the daemon,
# federation and browser tests add theirs here).
APT_PACKAGES=()
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# Rust components used by `make lint`.
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
echo "test dependencies are installed"
