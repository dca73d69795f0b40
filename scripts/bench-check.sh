#!/usr/bin/env bash
# Instruction-count check of the hot paths (issue 11): runs fixed
# workloads of the evaluator, SigV4 verification and Authorize under
# callgrind, counting only the instructions of each workload's function
# (`--toggle-collect`), and compares the count per iteration with the
# baseline in tests/benches/icount-baseline.tsv. Fails when a case costs
# more than BENCH_CHECK_TOLERANCE percent (default 10) over its baseline.
# Instruction counts are stable on a shared, noisy machine; times are not.
#
#   scripts/bench-check.sh                  # check (make bench-check)
#   BENCH_CHECK_UPDATE=1 scripts/bench-check.sh   # record a new baseline
#
# The counts depend on the compiler and on the CPU features valgrind
# reports (sha2 and ring pick their code at run time), so a new rustc or
# valgrind is a reason to record the baseline again, in its own commit.
# Prints one `ICOUNT <case> <Ir per iteration> <baseline> <change %>` line
# per case (scripts/bench.sh reads them).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stsd/target}"
BASELINE=tests/benches/icount-baseline.tsv
TOLERANCE="${BENCH_CHECK_TOLERANCE:-10}"

if ! command -v valgrind >/dev/null; then
  echo "bench-check: valgrind is not installed (scripts/install-bench-deps.sh installs it)" >&2
  exit 2
fi

# bench target, case, iterations
CASES=(
  "policy evaluator_realistic 2000"
  "policy evaluator_1x1 20000"
  "sigv4 sigv4_verify_warm 5000"
  "authorize authorize_user_key 2000"
  "authorize authorize_role_session 2000"
)

# BENCH_NO_BUILD=1: the binaries of scripts/bench.sh's last build (when
# another build holds cargo's lock on a shared target directory).
last_build="$CARGO_TARGET_DIR/bench-results/last-build.json"
if [[ -n "${BENCH_NO_BUILD:-}" && -f "$last_build" ]]; then
  json="$(cat "$last_build")"
else
  json="$(cargo bench --locked --no-run --bench policy --bench sigv4 --bench authorize \
    --message-format=json 2>/dev/null)"
fi
binary() {
  grep -o "\"executable\":\"[^\"]*/deps/$1-[0-9a-f]*\"" <<<"$json" | head -1 | cut -d'"' -f4
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
declare -A measured
for spec in "${CASES[@]}"; do
  read -r bench case n <<<"$spec"
  bin="$(binary "$bench")"
  [[ -x "$bin" ]] || { echo "bench-check: no binary for bench $bench" >&2; exit 2; }
  STSD_ICOUNT="$case:$n" valgrind --tool=callgrind --collect-atstart=no \
    --toggle-collect="*icount_*" --callgrind-out-file="$tmp/$case.out" \
    "$bin" >"$tmp/$case.stdout" 2>"$tmp/$case.err" \
    || { cat "$tmp/$case.err" >&2; echo "bench-check: $case failed" >&2; exit 2; }
  total="$(grep -o 'Collected : [0-9]*' "$tmp/$case.err" | awk '{print $3}')"
  [[ -n "$total" && "$total" -gt 0 ]] \
    || { cat "$tmp/$case.err" >&2; echo "bench-check: $case counted nothing" >&2; exit 2; }
  measured[$case]=$((total / n))
done

if [[ "${BENCH_CHECK_UPDATE:-}" == 1 ]]; then
  {
    echo "# Instructions per iteration of scripts/bench-check.sh's workloads"
    echo "# (callgrind Ir; $(rustc --version); $(valgrind --version))."
    echo "# Recorded with BENCH_CHECK_UPDATE=1 scripts/bench-check.sh."
    for spec in "${CASES[@]}"; do
      read -r _ case _ <<<"$spec"
      printf '%s\t%s\n' "$case" "${measured[$case]}"
    done
  } >"$BASELINE"
  echo "bench-check: baseline written to $BASELINE"
fi

failed=0
printf '%-26s %14s %14s %9s\n' case "Ir/iteration" baseline change
for spec in "${CASES[@]}"; do
  read -r _ case _ <<<"$spec"
  now="${measured[$case]}"
  base="$(awk -F'\t' -v c="$case" '$1 == c {print $2}' "$BASELINE" 2>/dev/null || true)"
  if [[ -z "$base" ]]; then
    printf '%-26s %14s %14s %9s\n' "$case" "$now" "-" "new"
    echo "ICOUNT $case $now - -"
    failed=1
    continue
  fi
  change="$(awk -v a="$now" -v b="$base" 'BEGIN {printf "%+.1f", 100 * (a - b) / b}')"
  verdict=""
  if awk -v a="$now" -v b="$base" -v t="$TOLERANCE" 'BEGIN {exit !(a > b * (1 + t / 100))}'; then
    verdict="  FAIL (over +$TOLERANCE %)"
    failed=1
  elif awk -v a="$now" -v b="$base" -v t="$TOLERANCE" 'BEGIN {exit !(a < b * (1 - t / 100))}'; then
    verdict="  (cheaper: record the new baseline)"
  fi
  printf '%-26s %14s %14s %8s%%%s\n' "$case" "$now" "$base" "$change" "$verdict"
  echo "ICOUNT $case $now $base $change"
done
if ((failed)); then
  echo "bench-check: instruction counts over the baseline (or missing from it)" >&2
  exit 1
fi
echo "bench-check: all cases within +$TOLERANCE % of the baseline"
