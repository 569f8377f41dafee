#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, engine tests, CLI snapshot tests and the
# emulator-backed end-to-end tests (tests/testsuite). Installs what the tests need by itself:
# braid-testkit (crates/testkit) fails a test whose server is missing, it never skips one.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# moto_server (the AWS emulator, from PyPI) for every suite that talks to AWS or S3: use the one
# on PATH or in BRAID_MOTO_SERVER, else install moto[server] into a virtualenv under ~/.cache
# once.
if [ -z "${BRAID_MOTO_SERVER:-}" ]; then
  if command -v moto_server >/dev/null 2>&1; then
    BRAID_MOTO_SERVER="$(command -v moto_server)"
  else
    venv="${BRAID_VENV:-$HOME/.cache/braid-venv}"
    if [ ! -x "$venv/bin/moto_server" ]; then
      echo "==> installing moto[server] into $venv"
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet --upgrade pip
      "$venv/bin/pip" install --quiet 'moto[server]'
    fi
    BRAID_MOTO_SERVER="$venv/bin/moto_server"
  fi
fi
export BRAID_MOTO_SERVER
echo "==> moto_server: $BRAID_MOTO_SERVER"

# The reference sops (Mozilla's original implementation, from PyPI) reads the SOPS files braid
# writes in crates/sops/tests/reference_sops.rs; its YAML library must be older than 0.18.
sops_venv="${BRAID_SOPS_VENV:-$HOME/.cache/braid-sops-venv}"
if [ -z "${BRAID_PYTHON_SOPS:-}" ]; then
  if [ ! -x "$sops_venv/bin/sops" ]; then
    echo "==> installing the reference sops into $sops_venv"
    python3 -m venv "$sops_venv"
    "$sops_venv/bin/pip" install --quiet --upgrade pip
    "$sops_venv/bin/pip" install --quiet 'sops==1.18' 'ruamel.yaml<0.18'
  fi
  BRAID_PYTHON_SOPS="$sops_venv/bin/sops"
fi
export BRAID_PYTHON_SOPS

# PostgreSQL server binaries (initdb, pg_ctl) for the postgres state backend's tests, which
# start their own throw-away server on a free port (braid-testkit). Debian's package,
# installed once.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  echo "==> installing postgresql"
  sudo_cmd=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >/dev/null
fi

# GnuPG: braid init checks provider registries' signed checksums with gpg, SOPS files with
# PGP keys are read through it, and the install
# tests sign a registry's checksums with a key of their own.
if ! command -v gpg >/dev/null 2>&1 || ! command -v gpgconf >/dev/null 2>&1; then
  echo "==> installing gnupg"
  sudo_cmd=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq gnupg >/dev/null
fi

# Chromium: the agent's status page is tested in headless Chromium (tests/testsuite/agent.rs),
# driven over the DevTools protocol. Debian's package.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  echo "==> installing chromium"
  sudo_cmd=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

# The Distribution registry (Debian's docker-registry): the Helm tests push charts to it and
# braid pulls chart dependencies from it over the OCI distribution API.
if ! command -v docker-registry >/dev/null 2>&1; then
  echo "==> installing docker-registry"
  sudo_cmd=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq docker-registry >/dev/null
fi

# kubectl comes with these machines (it is not in Debian's archive at a current version):
# crates/kubesim/tests/kubectl.rs drives kubesim with it and fails, saying so, without it.
if kubectl_bin="$(command -v "${BRAID_KUBECTL:-kubectl}" 2>/dev/null)"; then
  echo "==> kubectl: $kubectl_bin"
else
  echo "==> warning: kubectl not found (set BRAID_KUBECTL): the kubectl tests of kubesim will fail" >&2
fi

echo "==> building (all targets)"
cargo build --workspace --all-targets --locked

echo "==> clippy on every crate and target (warnings are errors; missing docs, printing outside the Shell)"
cargo clippy --workspace --all-targets --locked -- -D warnings

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
cargo run --locked --quiet --bin braid-bench -- --helm 200 --check
cargo run --locked --quiet --bin braid-bench -- --agent 100 --check

echo "==> chaos, small run: 3 kills per project, concurrent applies, 3 fault trials (scripts/chaos.sh; full run on demand)"
target="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug"
BRAID_BIN="$target/braid" KUBESIM_BIN="$target/kubesim" CHAOS_KILLS=3 CHAOS_FAULT_TRIALS=3 scripts/chaos.sh

echo "==> fuzzing, 20 s per target (scripts/fuzz.sh; 10 minutes each on demand: scripts/fuzz.sh 600)"
scripts/fuzz.sh 20
