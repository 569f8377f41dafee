# Sourced by the scripts that run the Helm oracle: sets `venv` to a Python venv holding
# PyPI's helm-python-sdk, pinned, created once at $BRAID_HELM_ORACLE_VENV (default
# ~/.cache/braid-helm-oracle) with $PYTHON (default python3).
#
# helm-python-sdk 0.2.2 = libhelm_c 0.2.2 = Helm v4.2.3 (Go 1.26.6, k8s.io/client-go v0.36).
HELM_PYTHON_SDK_VERSION="0.2.2"
venv="${BRAID_HELM_ORACLE_VENV:-$HOME/.cache/braid-helm-oracle}"
if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating the oracle venv at $venv" >&2
  "${PYTHON:-python3}" -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import sys, importlib.metadata as m; sys.exit(m.version('helm-python-sdk') != '$HELM_PYTHON_SDK_VERSION')" 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "helm-python-sdk==$HELM_PYTHON_SDK_VERSION"
fi
