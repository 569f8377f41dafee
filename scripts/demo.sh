#!/usr/bin/env bash
# braid's main job on one machine: plan and apply examples/quickstart with the local
# provider, then show that a second plan finds nothing to do.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

echo "==> building braid"
cargo build --locked --quiet --bin braid
braid="${CARGO_TARGET_DIR:-$repo/target}/debug/braid"

work="$(mktemp -d "${TMPDIR:-/tmp}/braid-demo.XXXXXX")"
cp -R examples/quickstart/. "$work/"
rm -rf "$work/.braid" "$work/out"
echo "==> working in $work (a copy of examples/quickstart)"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "braid validate"
"$braid" -C "$work" validate

step "braid plan --env dev"
"$braid" -C "$work" --env dev plan --out "$work/dev.plan.json"

step "braid apply dev.plan.json (exactly the reviewed plan)"
"$braid" -C "$work" --env dev apply "$work/dev.plan.json"

step "what was written"
for f in "$work"/out/dev/*; do echo "--- ${f#$work/}"; cat "$f"; echo; done

step "braid plan again: nothing to do"
"$braid" -C "$work" --env dev plan --detailed-exitcode
echo "(exit code 0: no changes)"

step "someone edits a managed file by hand: braid sees the drift"
echo "edited by hand" > "$work/out/dev/motd.txt"
set +e
"$braid" -C "$work" --env dev plan --detailed-exitcode
code=$?
set -e
echo "(exit code $code: changes pending)"

step "braid apply --auto-approve puts it back"
"$braid" -C "$work" --env dev apply --auto-approve

step "braid state list"
"$braid" -C "$work" --env dev state list

echo
echo "Demo finished. Files are in $work"
