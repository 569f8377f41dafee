#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, engine tests, CLI snapshot tests and the
# emulator-backed end-to-end tests. Installs what the tests need by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "==> building (all targets)"
cargo build --workspace --all-targets --locked

echo "==> running tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

echo "==> running doc tests"
cargo test --workspace --locked --doc

echo "==> checking the benchmark runs (small size)"
cargo run --locked --quiet --bin braid-bench -- --sizes 200 --check
