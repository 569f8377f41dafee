#!/usr/bin/env bash
# Sweeps braid's Kustomize renderer against `kubectl kustomize` over Kustomize's own test
# cases: the krusty tests (api/krusty/*_test.go) and the examples (examples/), at the
# Kustomize release kubectl v1.32 embeds (tag kustomize/v5.5.0). See README.md beside this.
#
# 1. extracts api/krusty, api/testutils and examples at that tag from the Kustomize repository
#    into WORKDIR/src, and the cases from them into WORKDIR/krusty and WORKDIR/examples
#    (extract_krusty.py, extract_examples.py; each writes WORKDIR/manifest-<corpus>.json);
# 2. builds braid's renderer (`cargo build -p braid-kustomize --example render`), unless
#    BRAID_KUSTOMIZE_RENDER names one;
# 3. runs `kubectl kustomize` (kubectl from PATH) and the renderer on every case that is not
#    skipped (compare.py), prints the totals per corpus and the cases that do not match, with
#    their class, and writes WORKDIR/results-krusty.json and WORKDIR/results-examples.json
#    (showdiff.py RESULTS [CASE...] prints the differences of the `differ` cases).
#
# WORKDIR defaults to a new temporary directory, which is kept. In a WORKDIR given, the
# files and directories this script writes are replaced; nothing else there is touched.
#
# Usage: scripts/kustomize-sweep/run.sh KUSTOMIZE_GIT_DIR_OR_CHECKOUT [WORKDIR]
#        (KUSTOMIZE_GIT_DIR_OR_CHECKOUT: a clone of https://github.com/kubernetes-sigs/kustomize
#        with its tags, or its bare git directory; KUSTOMIZE_REF overrides the tag;
#        needs git, python3 with PyYAML, and kubectl on PATH)
set -euo pipefail

if (($# < 1 || $# > 2)); then
  echo "usage: $0 KUSTOMIZE_GIT_DIR_OR_CHECKOUT [WORKDIR]" >&2
  exit 2
fi

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kustomize_repo="$1"
ref="${KUSTOMIZE_REF:-kustomize/v5.5.0}"

command -v git >/dev/null || { echo "git is not on PATH" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is not on PATH" >&2; exit 1; }
python3 -c 'import yaml' 2>/dev/null \
  || { echo "python3 cannot import yaml: install PyYAML (pip install pyyaml)" >&2; exit 1; }
command -v kubectl >/dev/null \
  || { echo "kubectl is not on PATH: the sweep compares against \`kubectl kustomize\`" >&2; exit 1; }
kubectl_bin="$(command -v kubectl)"
echo "==> $kubectl_bin version --client"
kubectl version --client

# `git -C` reads a checkout or a bare git directory alike.
if ! commit="$(git -C "$kustomize_repo" rev-parse --verify --quiet "$ref^{commit}")"; then
  echo "$kustomize_repo: no $ref there (a Kustomize clone with its tags is needed;" \
    "try \`git -C $kustomize_repo fetch --tags\`)" >&2
  exit 1
fi
echo "==> Kustomize $ref = $commit"

if (($# == 2)); then
  mkdir -p "$2"
  work="$(cd "$2" && pwd -P)"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/kustomize-sweep.XXXXXX")"
  work="$(cd "$work" && pwd -P)"
fi
echo "==> working in $work"

if [[ -n "${BRAID_KUSTOMIZE_RENDER:-}" ]]; then
  render="$BRAID_KUSTOMIZE_RENDER"
  [[ -f "$render" && -x "$render" ]] \
    || { echo "BRAID_KUSTOMIZE_RENDER=$render is not an executable file" >&2; exit 1; }
else
  echo "==> cargo build -p braid-kustomize --example render"
  (cd "$repo" && cargo build --locked --quiet -p braid-kustomize --example render)
  # A relative CARGO_TARGET_DIR is relative to where cargo ran: the repository root.
  target="${CARGO_TARGET_DIR:-target}"
  [[ "$target" == /* ]] || target="$repo/$target"
  render="$target/debug/examples/render"
fi
# Absolute: the renderer runs from the case directories.
render="$(realpath "$render")"
echo "==> braid's renderer: $render"

rm -rf "$work/src" "$work/krusty" "$work/examples" "$work/examples-scratch" \
  "$work"/manifest-{krusty,examples}.json "$work"/results-{krusty,examples}.json
mkdir -p "$work/src"
git -C "$kustomize_repo" archive "$commit" api/krusty api/testutils examples | tar -x -C "$work/src"

echo "==> extracting the krusty tests"
python3 "$here/extract_krusty.py" "$work/src/api/krusty" "$work/krusty"
echo "==> extracting the examples"
python3 "$here/extract_examples.py" "$work/src/examples" "$work/examples" "$work/examples-scratch"

for corpus in krusty examples; do
  echo
  echo "==> $corpus: kubectl kustomize vs braid"
  python3 "$here/compare.py" --render "$render" --kubectl "$kubectl_bin" \
    "$work/$corpus" "$work/manifest-$corpus.json" "$work/results-$corpus.json"
done

echo
echo "results: $work/results-krusty.json $work/results-examples.json"
echo "differences of the \`differ\` cases: python3 $here/showdiff.py RESULTS [CASE...]"
