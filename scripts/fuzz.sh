#!/usr/bin/env bash
# Runs braid's cargo-fuzz targets (fuzz/fuzz_targets) for a bounded time each:
#
#   scripts/fuzz.sh            # 30 s per target (what scripts/test.sh runs)
#   scripts/fuzz.sh 600        # 10 minutes per target, on demand
#   scripts/fuzz.sh 600 kustomize manifests
#
# Targets: hcl_loader (config::load_module and load_project), manifests (manifests::
# source_documents → manifest_resources), kustomize (braid_kustomize::render), helm_chart
# (braid_helm::Chart::load and render, on a deep-stack thread as braid renders). Each starts
# from its seed corpus in fuzz/corpus/<target>/seed-*; what the fuzzer adds there stays out of
# git. A crash stops the run with exit 1 and leaves the input in fuzz/artifacts/<target>/:
# minimise it (cargo fuzz tmin), add it as a regression test in the crate that owns the code,
# then fix the panic (docs/RELIABILITY.md).
#
# cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
# Installs cargo-fuzz into ~/.cargo/bin if missing. Builds into FUZZ_TARGET_DIR (default
# ~/.cache/braid-fuzz-target). FUZZ_SANITIZER=address uses AddressSanitizer (default: none:
# braid forbids unsafe code, so what the fuzzer can find is panics, which need no sanitizer).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-30}"
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(hcl_loader manifests kustomize helm_chart)
target_dir="${FUZZ_TARGET_DIR:-$HOME/.cache/braid-fuzz-target}"
sanitizer="${FUZZ_SANITIZER:-none}"
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# The targets write project files: give them a temporary directory removed afterwards
# (libFuzzer exits without running destructors).
scratch="$(mktemp -d "${TMPDIR:-/tmp}/braid-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

echo "==> building the fuzz targets (sanitizer: $sanitizer)"
cargo fuzz build --sanitizer "$sanitizer" --debug-assertions --target-dir "$target_dir"

for target in "${targets[@]}"; do
  echo "==> fuzzing $target for ${seconds}s"
  mkdir -p "corpus/$target"
  log="$scratch/$target.log"
  code=0
  TMPDIR="$scratch" cargo fuzz run --sanitizer "$sanitizer" --debug-assertions \
    --target-dir "$target_dir" "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1 || code=$?
  grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb|new_units_added)|Done )' "$log" || true
  echo "corpus/$target: $(find "corpus/$target" -type f | wc -l) inputs"
  if [ "$code" != 0 ]; then
    echo "fuzz: $target crashed (exit $code); the input is in fuzz/artifacts/$target/" >&2
    tail -60 "$log" >&2
    exit 1
  fi
done
echo "==> fuzzing finished: no crash in ${#targets[@]} target(s), ${seconds}s each"
