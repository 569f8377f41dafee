#!/usr/bin/env bash
# Regenerates the expected outputs of braid fmt's conformance fixtures with the real
# `terraform fmt`: every file in tests/conformance/fmt/input is copied to a temporary
# directory, formatted there by terraform, and written to tests/conformance/fmt/expected.
# The testsuite (cli_output_fmt_console::fmt_matches_terraform_fmt_on_every_fixture) then
# checks braid fmt against them without needing terraform.
#
# Usage: scripts/conformance-fmt.sh   (needs `terraform` on PATH; tested with 1.11)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
input="$root/tests/conformance/fmt/input"
expected="$root/tests/conformance/fmt/expected"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

export TF_CLI_CONFIG_FILE=/dev/null
command -v terraform >/dev/null || { echo "terraform is not on PATH" >&2; exit 1; }
terraform version | sed -n 1p  # sed reads it all: no SIGPIPE under pipefail

mkdir -p "$expected"
rm -f "$expected"/*
cp "$input"/* "$work"/
# -list=false: print nothing; exit 0 even when files changed. A syntax error fails here.
(cd "$work" && terraform fmt -list=false -no-color .)
cp "$work"/* "$expected"/
echo "wrote $(ls "$expected" | wc -l) expected files to tests/conformance/fmt/expected"
