#!/usr/bin/env bash
# `make bench`: every benchmark of BENCHMARKS.md in one go (issue 11), then
# the generated section of BENCHMARKS.md rewritten from this run's figures
# (scripts/bench_report.py; the hand-written sections are kept).
#
#   make bench                 # full run: about 30-40 minutes after the build
#   BENCH_QUICK=1 make bench   # smoke run: short measurements, small sizes
#
# Steps (each writes its raw output to $BENCH_OUT, default
# $CARGO_TARGET_DIR/bench-results/<UTC time>):
#   1. criterion: policy (stsd vs Cedar, statements per policy), sigv4,
#      credential (seal/unseal, TOTP), oidc (JWT), authorize (in process,
#      and against the number of principals);
#   2. load: every workload of tests/benches/load.rs (/healthz, STS
#      actions, Authorize over gRPC and JSON, agent reads) in one daemon's
#      run, BENCH_LOAD_RUNS times (each run measures /healthz beside the
#      rest, so each ratio is within one run);
#   3. start-up time against the store's size (STSD_BENCH_STARTUP);
#   4. memory per cached session (session_memory);
#   5. the callgrind instruction counts (scripts/bench-check.sh).
# Knobs: BENCH_QUICK=1, BENCH_LOAD_RUNS (3; quick 1), BENCH_LOAD_SECONDS
# (8; quick 2), BENCH_STEPS (a comma list of criterion,load,startup,memory,
# icount; default all), BENCH_NO_WRITE=1 (print the section, leave
# BENCHMARKS.md alone), BENCH_NO_BUILD=1 (reuse the last build's binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stsd/target}"
scripts/install-bench-deps.sh

quick="${BENCH_QUICK:-}"
steps=",${BENCH_STEPS:-criterion,load,startup,memory,icount},"
out="${BENCH_OUT:-$CARGO_TARGET_DIR/bench-results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
echo "bench: raw results in $out"

if [[ -n "$quick" ]]; then
  crit_args=(--warm-up-time 0.3 --measurement-time 1)
  load_runs="${BENCH_LOAD_RUNS:-1}"
  load_secs="${BENCH_LOAD_SECONDS:-2}"
  load_warmup=0.5
  startup_sizes="${BENCH_STARTUP_SIZES:-0,200}"
  sessions="${BENCH_SESSIONS:-20000,100000}"
  principals="${BENCH_PRINCIPALS:-10,1000}"
else
  crit_args=(--warm-up-time 1 --measurement-time 3)
  load_runs="${BENCH_LOAD_RUNS:-3}"
  load_secs="${BENCH_LOAD_SECONDS:-8}"
  load_warmup=2
  startup_sizes="${BENCH_STARTUP_SIZES:-0,1000,4000}"
  sessions="${BENCH_SESSIONS:-100000,1000000}"
  principals="${BENCH_PRINCIPALS:-10,100,1000,10000,100000,1000000}"
fi

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# A failing step is reported (and the run exits non-zero at the end); the
# others still run and the report is still written.
failures=()
failed() { echo "bench: $1 FAILED (see $out)" >&2; failures+=("$1"); }
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tests Cargo.toml Cargo.lock || echo '+changes')"
  echo "quick=${quick:-0}"
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "rustc=$(rustc --version)"
  echo "valgrind=$(valgrind --version 2>/dev/null || echo none)"
  echo "load_before=$(loadavg)"
  echo "crit_args=${crit_args[*]}"
  echo "load_runs=$load_runs"
  echo "load_seconds=$load_secs"
} >"$out/meta.txt"

# Build everything first, so build time is not in any figure; then run
# the bench binaries themselves (`--bench`, as `cargo bench` does), so no
# step waits for cargo's lock on a target directory shared with other
# builds.
# BENCH_NO_BUILD=1 reuses the binaries of the last build this script made
# (when another build holds the lock and the tree has not changed).
last_build="$CARGO_TARGET_DIR/bench-results/last-build.json"
if [[ -n "${BENCH_NO_BUILD:-}" && -f "$last_build" ]]; then
  json="$(cat "$last_build")"
else
  json="$(cargo bench --locked --no-run --message-format=json 2>/dev/null)"
  mkdir -p "$(dirname "$last_build")"
  grep '"executable":"' <<<"$json" >"$last_build" || true
fi
bench_bin() {
  grep -o "\"executable\":\"[^\"]*/deps/$1-[0-9a-f]*\"" <<<"$json" | head -1 | cut -d'"' -f4
}
for b in policy sigv4 credential oidc authorize load session_memory; do
  [[ -x "$(bench_bin "$b")" ]] || { echo "bench: no binary for $b (does it build?)" >&2; exit 1; }
done
# The daemon the load runs start: a copy of this build's, taken now,
# since every clone sharing $CARGO_TARGET_DIR rebuilds release/stsd.
daemon="$(grep -o '"executable":"[^"]*/release/stsd"' <<<"$json" | head -1 | cut -d'"' -f4 || true)"
cp "${daemon:-$CARGO_TARGET_DIR/release/stsd}" "$out/stsd"
trap 'rm -f "$out/stsd"' EXIT
export STSD_BENCH_DAEMON_BIN="$out/stsd"

started="$(date +%s)"
echo "started=$started" >>"$out/meta.txt"

if [[ "$steps" == *,criterion,* ]]; then
  for b in policy sigv4 credential oidc; do
    echo "bench: criterion $b (load $(loadavg))"
    echo "$b $(loadavg)" >>"$out/criterion-load.txt"
    "$(bench_bin "$b")" --bench "${crit_args[@]}" >"$out/criterion-$b.txt" 2>&1 || failed "criterion $b"
  done
  echo "bench: criterion authorize + principals $principals (load $(loadavg))"
  echo "authorize $(loadavg)" >>"$out/criterion-load.txt"
  STSD_BENCH_PRINCIPALS="$principals" "$(bench_bin authorize)" --bench "${crit_args[@]}" \
    >"$out/criterion-authorize.txt" 2>&1 || failed "criterion authorize"
fi

if [[ "$steps" == *,load,* ]]; then
  for i in $(seq 1 "$load_runs"); do
    echo "bench: load run $i/$load_runs (load $(loadavg))"
    echo "run=$i load_before=$(loadavg)" >"$out/load-$i.txt"
    STSD_BENCH_SECONDS="$load_secs" STSD_BENCH_WARMUP="$load_warmup" \
      "$(bench_bin load)" --bench >>"$out/load-$i.txt" 2>&1 || failed "load run $i"
    echo "load_after=$(loadavg)" >>"$out/load-$i.txt"
  done
fi

if [[ "$steps" == *,startup,* ]]; then
  echo "bench: start-up time, users $startup_sizes (load $(loadavg))"
  echo "load_before=$(loadavg)" >"$out/startup.txt"
  STSD_BENCH_STARTUP="$startup_sizes" "$(bench_bin load)" --bench >>"$out/startup.txt" 2>&1 || failed startup
fi

if [[ "$steps" == *,memory,* ]]; then
  echo "bench: memory per cached session, $sessions"
  STSD_BENCH_SESSIONS="$sessions" "$(bench_bin session_memory)" --bench >"$out/memory.txt" 2>&1 || failed memory
fi

if [[ "$steps" == *,icount,* ]]; then
  echo "bench: instruction counts"
  scripts/bench-check.sh >"$out/icount.txt" 2>&1 || echo "bench: the instruction-count check failed (see the report)"
fi

echo "load_after=$(loadavg)" >>"$out/meta.txt"
rm -f "$out/stsd"
python3 scripts/bench_report.py "$out" BENCHMARKS.md ${BENCH_NO_WRITE:+--print}
if ((${#failures[@]})); then
  echo "bench: failed steps: ${failures[*]}" >&2
  exit 1
fi
