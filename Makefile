# stsd — two commands set everything up on a fresh Debian machine with the
# Rust toolchain: `make run` and `make test`. See README.md.

SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/stsd/target
CARGO ?= cargo
# The Python test virtualenv that scripts/install-test-deps.sh creates.
VENV ?= $(HOME)/.cache/stsd/venv

.PHONY: run test deps lint unit python bench bench-check bench-load fuzz timing fmt

## Build and start stsd on its embedded defaults (config/stsd.toml: the
## embedded store in ./stsd-data, listening on 127.0.0.1:8433).
run:
	$(CARGO) build --release --bin stsd
	$(CARGO_TARGET_DIR)/release/stsd serve --config config/stsd.toml

## Install what the tests need, then run every test.
test: deps lint unit python

## Idempotent installation of test dependencies (apt packages, virtualenvs,
## npm packages) — see scripts/install-test-deps.sh.
deps:
	scripts/install-test-deps.sh

lint:
	scripts/check-domain-purity.sh
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --all-targets --locked
	$(CARGO) test --doc --locked

## Integration tests in Python: the real `stsd serve` on an ephemeral
## loopback port, driven by boto3 and the AWS CLI (tests/python); they also
## run the JavaScript SDK v3 test (tests/js, npm packages from `make deps`).
python:
	$(CARGO) build --bin stsd --locked
	PYTHONDONTWRITEBYTECODE=1 STSD_BIN=$(CARGO_TARGET_DIR)/debug/stsd $(VENV)/bin/pytest tests/python -q

## Every benchmark (criterion, load, start-up, session memory,
## instruction counts); rewrites the generated section of BENCHMARKS.md.
## BENCH_QUICK=1 for a smoke run (scripts/bench.sh lists the knobs).
bench: deps
	scripts/bench.sh

## The callgrind instruction counts of the evaluator, SigV4 and Authorize
## paths against tests/benches/icount-baseline.tsv (fails over +10 %).
bench-check:
	scripts/install-bench-deps.sh
	scripts/bench-check.sh

## HTTP load generator: /healthz, GetCallerIdentity and AssumeRole against a
## release daemon it starts (STSD_BENCH_* in tests/benches/load.rs).
bench-load:
	$(CARGO) bench --locked --bench load

## Fuzz each target for FUZZ_SECONDS (default 60) with cargo-fuzz on the
## stable toolchain (RUSTC_BOOTSTRAP lets cargo-fuzz pass its -Z flags).
## The instrumented build has its own target dir (FUZZ_TARGET_DIR); each
## run's last libFuzzer line (execs, cov, ft) goes to tests/fuzz/logs/.
FUZZ_SECONDS ?= 60
FUZZ_TARGET_DIR ?= $(HOME)/.cache/stsd/fuzz-target
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd tests/fuzz && mkdir -p logs && export CARGO_TARGET_DIR=$(FUZZ_TARGET_DIR) RUSTC_BOOTSTRAP=1 && \
	  for t in $$(cargo fuzz list --fuzz-dir . ); do \
	  cargo fuzz run --fuzz-dir . $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    2>&1 | tee logs/$$t.log | grep -E '^#[0-9]+ +(DONE|pulse)|stat::|SUMMARY|panicked' ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; done

## dudect-style timing check of the SigV4 signature comparison (ignored by
## `make test`: timing is noise on a shared machine; SECURITY.md has a run).
timing:
	$(CARGO) test --release --locked --test constant_time -- --ignored --nocapture

fmt:
	$(CARGO) fmt --all
