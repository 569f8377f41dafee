#!/usr/bin/env bash
# Regenerates the expected outputs of the Kustomize conformance corpus
# (tests/conformance/kustomize/cases/*) with the real `kubectl kustomize`.
#
# For every case directory, the directory that is built is the case directory itself, or,
# when the case has a file named BUILD, the relative directory written on its single line.
# On success, kubectl's stdout is written to expected.yaml (and expected-error.txt removed);
# on failure, its stderr is written to expected-error.txt (and expected.yaml removed).
#
# kubectl runs from the repository root, on a relative path, with a minimal environment
# (an env file's bare `KEY` line reads the process environment); in error messages, klog's
# header (date, time, pid) is dropped, any absolute path of the repository is made
# relative, and only the first 20 lines are kept, so the outputs do not depend on the
# machine or the run. Warnings kubectl prints on stderr when it succeeds are not recorded.
#
# Usage: scripts/regen-kustomize-conformance.sh [case-name...]
#        (needs `kubectl` on PATH; tested with kubectl v1.32 / Kustomize v5.5.0; offline once
#        the Helm oracle venv exists — `helmCharts` cases run scripts/helm_template_shim.py)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
rel_cases="tests/conformance/kustomize/cases"
cd "$root"

command -v kubectl >/dev/null || { echo "kubectl is not on PATH" >&2; exit 1; }
kubectl_bin="$(command -v kubectl)"
kubectl version --client

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# `helmCharts` cases: kubectl kustomize --enable-helm runs a `helm` command; this one
# (scripts/helm_template_shim.py) renders with Helm v4.2.3's own library, the oracle of the
# Helm corpus (PyPI helm-python-sdk, in the venv scripts/regen-helm-conformance.sh uses).
# shellcheck source=scripts/helm-oracle-venv.sh
source "$root/scripts/helm-oracle-venv.sh"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$venv/bin/python" "$root/scripts/helm_template_shim.py" > "$work/helm"
chmod +x "$work/helm"

if (($# > 0)); then
  names=("$@")
else
  names=()
  for dir in "$rel_cases"/*/; do
    names+=("$(basename "$dir")")
  done
fi

ok=0
failed=0
for name in "${names[@]}"; do
  case_dir="$rel_cases/$name"
  [[ -d "$case_dir" ]] || { echo "no such case: $name" >&2; exit 1; }
  build="$case_dir"
  if [[ -f "$case_dir/BUILD" ]]; then
    sub="$(head -n 1 "$case_dir/BUILD" | tr -d '[:space:]')"
    case "$sub" in
      "" | /* | *..*) echo "$case_dir/BUILD: expected a relative directory inside the case" >&2; exit 1 ;;
    esac
    build="$case_dir/$sub"
  fi
  [[ -d "$build" ]] || { echo "$name: build directory $build does not exist" >&2; exit 1; }

  if env -i PATH="/usr/bin:/bin" HOME="$work" PYTHONDONTWRITEBYTECODE=1 "$kubectl_bin" kustomize \
      --enable-helm --helm-command "$work/helm" "$build" \
      >"$work/stdout" 2>"$work/stderr"; then
    cp "$work/stdout" "$case_dir/expected.yaml"
    rm -f "$case_dir/expected-error.txt"
    ok=$((ok + 1))
    echo "ok     $name"
  else
    # Drop klog's header (severity, date, time, pid, source line), which changes on every
    # run, and the repository's absolute path. sed reads all of its input: no SIGPIPE
    # under pipefail.
    sed -E -e 's/^[EWIF][0-9]{4} [0-9:.]+ +[0-9]+ [A-Za-z0-9_.-]+:[0-9]+\] //' \
      -e "s|$root/||g" "$work/stderr" | sed -n '1,20p' >"$case_dir/expected-error.txt"
    rm -f "$case_dir/expected.yaml"
    failed=$((failed + 1))
    echo "error  $name: $(sed -n 1p "$case_dir/expected-error.txt")"
  fi
done
echo "$ok cases built, $failed cases refused by kubectl kustomize"
