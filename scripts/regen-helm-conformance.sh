#!/usr/bin/env bash
# Regenerates the expected outputs of the Helm conformance corpus
# (tests/conformance/helm/cases/*) with the real Helm library.
#
# The oracle is PyPI's helm-python-sdk: Helm v4's Go SDK compiled into a shared library
# (libhelm_c) with a ctypes binding, so neither a helm binary nor Go is needed. It is
# installed, pinned, into a venv of its own, created once at
#   ${BRAID_HELM_ORACLE_VENV:-$HOME/.cache/braid-helm-oracle}
# (pip needs the package registry the first time; rendering itself is offline). Then
# scripts/helm_oracle.py renders every case as `helm template` does and writes
# expected.yaml / expected-notes.txt / expected-crds.yaml / expected-error.txt beside its
# case.json, and tests/conformance/helm/oracle-capabilities.json (the oracle's defaults).
# It runs with a minimal environment (no KUBECONFIG, HELM_*, or real HOME), so the outputs
# do not depend on the machine. See tests/conformance/helm/README.md.
#
# Usage: scripts/regen-helm-conformance.sh [--check] [case-name...]
#        (--check writes nothing and exits 1 if any expected file is out of date)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/helm-oracle-venv.sh
source "$root/scripts/helm-oracle-venv.sh"

home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
cd "$root"
env -i PATH="/usr/bin:/bin" HOME="$home" LANG=C.UTF-8 TZ=UTC PYTHONDONTWRITEBYTECODE=1 \
  "$venv/bin/python" scripts/helm_oracle.py "$@"
