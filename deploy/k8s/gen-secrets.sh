#!/usr/bin/env bash
# Prints, on stdout, the two Secrets deploy/k8s/base expects, with fresh
# random values; nothing is written to disk. Apply them directly or feed
# them to your secret manager (Sealed Secrets, SOPS, External Secrets):
#
#   deploy/k8s/gen-secrets.sh | kubectl apply -f -
#
# Secret stsd-secrets (the broker's environment):
#   STSD_MASTER_KEY              32 random bytes, base64 — every replica
#                                must share it; losing it loses every
#                                sealed secret in the store
#   STSD_ROOT_ACCESS_KEY_ID      AKIA…, in stsd's layout (it names the account)
#   STSD_ROOT_SECRET_ACCESS_KEY  40 characters
#   STSD_REDIS_URL               redis://:PASSWORD@stsd-redis:6379/0
# Secret stsd-redis (Redis's requirepass): password, the same PASSWORD.
#
# Usage: gen-secrets.sh [NAMESPACE [ACCOUNT_ID]] (default stsd, 123456789012).
# Needs bash, openssl and od.
set -euo pipefail
ns="${1:-stsd}"
account="${2:-123456789012}"
[[ "$account" =~ ^[0-9]{12}$ ]] || { echo "account must be 12 digits" >&2; exit 2; }

# An access key id as stsd mints them (README "The IAM API"): "AKIA" and 16
# base32 characters of 80 bits = flag bit | 40-bit account | 39 random bits.
# Bash integers are 64-bit, so encode the two 40-bit halves separately.
base32_40() {
  local v=$1 out="" i alphabet=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567
  for ((i = 35; i >= 0; i -= 5)); do out+="${alphabet:$(((v >> i) & 31)):1}"; done
  printf '%s' "$out"
}
read -r b1 b2 b3 b4 b5 < <(od -An -N5 -tu1 /dev/urandom)
random=$(( (b1 << 31) | (b2 << 23) | (b3 << 15) | (b4 << 7) | (b5 >> 1) ))  # 39 bits
account=$((10#$account))
high=$(( (1 << 39) | (account >> 1) ))
low=$(( ((account & 1) << 39) | random ))
key_id="AKIA$(base32_40 "$high")$(base32_40 "$low")"

master_key=$(openssl rand -base64 32)
secret_key=$(openssl rand -base64 30)   # 40 characters of [A-Za-z0-9+/]
redis_password=$(openssl rand -hex 32)  # hex: safe in a URL and in redis.conf

cat <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: stsd-secrets
  namespace: $ns
type: Opaque
stringData:
  STSD_MASTER_KEY: "$master_key"
  STSD_ROOT_ACCESS_KEY_ID: "$key_id"
  STSD_ROOT_SECRET_ACCESS_KEY: "$secret_key"
  STSD_REDIS_URL: "redis://:$redis_password@stsd-redis:6379/0"
---
apiVersion: v1
kind: Secret
metadata:
  name: stsd-redis
  namespace: $ns
type: Opaque
stringData:
  password: "$redis_password"
YAML
