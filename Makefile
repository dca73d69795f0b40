# stsd — two commands set everything up on a fresh Debian machine with the
# Rust toolchain: `make run` and `make test`. See README.md.

SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/stsd/target
CARGO ?= cargo

.PHONY: run test deps lint unit bench fuzz fmt

## Build and start stsd on its embedded defaults. Until the daemon lands
## (issue 3) this runs the policy simulator on the bundled example.
run:
	$(CARGO) build --release --bin stsd
	$(CARGO_TARGET_DIR)/release/stsd policy validate examples/policies/*.json
	$(CARGO_TARGET_DIR)/release/stsd policy simulate --input examples/simulate.json --output table

## Install what the tests need, then run every test.
test: deps lint unit

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

## Criterion benchmarks; figures go to BENCHMARKS.md by hand for now.
bench:
	$(CARGO) bench --locked --bench policy

## Fuzz each target for FUZZ_SECONDS (default 60) with cargo-fuzz on the
## stable toolchain (RUSTC_BOOTSTRAP lets cargo-fuzz pass its -Z flags).
FUZZ_SECONDS ?= 60
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd tests/fuzz && for t in $$(RUSTC_BOOTSTRAP=1 cargo fuzz list --fuzz-dir . ); do \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; done

fmt:
	$(CARGO) fmt --all
