#!/usr/bin/env bash
# Regenerates tests/fixtures/helm-deps with Helm v4's own library (PyPI helm-python-sdk, the
# same oracle as scripts/regen-helm-conformance.sh):
#
#   repo/         `helm package` of charts-src/greeter at 0.3.0, 0.3.1 and 0.4.0, and the
#                 `helm repo index` of them (a chart repository, served over HTTP by the test)
#   oci/          `helm package` of charts-src/sidecar (the test pushes it to a registry)
#   app/Chart.lock  written by `helm dependency update` against those, served from
#                 127.0.0.1 (the repository URLs then replaced by @HTTP_REPO@ / @OCI_REPO@)
#   expected.yaml what Helm renders for app/ once its dependencies are fetched
#                 (release "shop", namespace "shop"), URLs replaced the same way
#
# Needs python3 (venv) and docker-registry (Debian package docker-registry).
# Usage: scripts/regen-helm-deps-fixture.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/helm-oracle-venv.sh
source "$root/scripts/helm-oracle-venv.sh"
command -v docker-registry >/dev/null || {
  echo "docker-registry is missing: apt-get install docker-registry" >&2
  exit 1
}

work="$(mktemp -d)"
cleanup() {
  [[ -n "${registry_pid:-}" ]] && kill "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!

cd "$root"
env -i PATH="/usr/bin:/bin" HOME="$work/home" LANG=C.UTF-8 TZ=UTC PYTHONDONTWRITEBYTECODE=1 \
  REGISTRY_PORT="$port" WORK="$work" "$venv/bin/python" - <<'PY'
import functools, http.server, os, shutil, threading, time, urllib.request
from pathlib import Path
import helm_python as helm

fixture = Path("tests/fixtures/helm-deps")
work = Path(os.environ["WORK"])
registry = f"127.0.0.1:{os.environ['REGISTRY_PORT']}"

repo, oci = fixture / "repo", fixture / "oci"
for d in (repo, oci):
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
for version in ("0.3.0", "0.3.1", "0.4.0"):
    helm.package(fixture / "charts-src/greeter", destination=repo, version=version)
helm.package(fixture / "charts-src/sidecar", destination=oci)
helm.repo_index_generate(repo)
# The index's `generated` and `created` times change on every run; keep them fixed.
index = (repo / "index.yaml").read_text()
lines = []
for line in index.splitlines():
    key = line.strip().split(":", 1)[0]
    if key in ("created", "generated"):
        line = line.split(":", 1)[0] + ': "2026-12-06T00:00:00Z"'
    lines.append(line)
(repo / "index.yaml").write_text("\n".join(lines) + "\n")

handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(repo))
handler.log_message = lambda *a: None
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
http_repo = f"http://127.0.0.1:{server.server_address[1]}"
oci_repo = f"oci://{registry}/charts"

for _ in range(100):
    try:
        urllib.request.urlopen(f"http://{registry}/v2/")
        break
    except Exception:
        time.sleep(0.1)
helm.push(oci / "sidecar-1.0.0.tgz", oci_repo, plain_http=True)

app = work / "app"
shutil.copytree(fixture / "app", app)
chart_yaml = (app / "Chart.yaml").read_text()
(app / "Chart.yaml").write_text(
    chart_yaml.replace("@HTTP_REPO@", http_repo).replace("@OCI_REPO@", oci_repo)
)
(app / "Chart.lock").unlink(missing_ok=True)
helm.dependency_update(app, plain_http=True)

def placeholders(text: str) -> str:
    return text.replace(http_repo, "@HTTP_REPO@").replace(oci_repo, "@OCI_REPO@")

lock = placeholders((app / "Chart.lock").read_text())
lock = "\n".join(
    'generated: "2026-12-06T00:00:00Z"' if l.startswith("generated:") else l
    for l in lock.splitlines()
) + "\n"
(fixture / "app/Chart.lock").write_text(lock)

with helm.Chart.load(app) as chart:
    rendered = chart.render({}, name="shop", namespace="shop")
out = []
for path in sorted(rendered):
    text = rendered[path].strip()
    if path.endswith("NOTES.txt") or not text:
        continue
    out.append(f"# Source: {path}\n{text}\n")
(fixture / "expected.yaml").write_text(placeholders("---\n".join(out)))
server.shutdown()
print("regenerated", fixture)
PY
