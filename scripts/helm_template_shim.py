"""A `helm` command for `kubectl kustomize --enable-helm --helm-command`, backed by Helm v4's
own library (PyPI helm-python-sdk, the oracle of scripts/helm_oracle.py). It answers the two
commands Kustomize's helmCharts generator runs:

  helm version -c --short
      Kustomize accepts Helm 3 only, so this prints `v3.99.0` — followed by what really
      renders (`helm-python-sdk 0.2.2, Helm v4.2.3 library`).
  helm template RELEASE CHART_DIR [--namespace NS] [-f FILE]... [--api-versions V]...
                [--kube-version V] [--include-crds] [--skip-tests] [--no-hooks]
      prints what `helm template` prints: the chart's CRDs (with --include-crds), its
      manifests in Helm's install order, then its hooks (unless --no-hooks; test hooks
      dropped with --skip-tests), each as `---\\n# Source: PATH\\n...`.

Anything else (pull, --generate-name, other flags) exits 1 saying so: the conformance corpus
vendors its charts and names its releases.

Used by scripts/regen-kustomize-conformance.sh; not by braid or its tests.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import helm_oracle as oracle  # noqa: E402
import helm_python as helm  # noqa: E402


def fail(message: str) -> None:
    sys.stderr.write(f"helm (shim): {message}\n")
    sys.exit(1)


def template(args: list[str]) -> None:
    positional: list[str] = []
    namespace = "default"
    values_files: list[str] = []
    api_versions: list[str] = []
    kube_version = ""
    include_crds = skip_tests = no_hooks = False
    i = 0
    while i < len(args):
        arg = args[i]
        takes_value = {"--namespace", "-n", "-f", "--values", "--api-versions", "--kube-version"}
        if arg in takes_value:
            if i + 1 >= len(args):
                fail(f"{arg} needs a value")
            value = args[i + 1]
            if arg in ("--namespace", "-n"):
                namespace = value
            elif arg in ("-f", "--values"):
                values_files.append(value)
            elif arg == "--api-versions":
                api_versions.append(value)
            else:
                kube_version = value
            i += 2
            continue
        if arg == "--include-crds":
            include_crds = True
        elif arg == "--skip-tests":
            skip_tests = True
        elif arg == "--no-hooks":
            no_hooks = True
        elif arg.startswith("-"):
            fail(f"the flag {arg} is not supported")
        else:
            positional.append(arg)
        i += 1
    if len(positional) != 2:
        fail("template needs RELEASE and CHART (give the helmCharts entry a releaseName)")
    release, chart_dir = positional
    vals: dict[str, Any] = {}
    for path in values_files:
        text = Path(path).read_text(encoding="utf-8")
        loaded = helm.values_from_yaml(text) if text.strip() else {}
        vals = oracle.merge_maps(vals, loaded or {})
    caps: dict[str, Any] = {}
    if kube_version:
        caps["kube_version"] = kube_version
    if api_versions:
        caps["api_versions"] = api_versions

    chart = helm.Chart.load(chart_dir)
    try:
        with helm.Config(
            kubeconfig_content=oracle.UNUSED_KUBECONFIG, namespace=namespace,
            storage_driver="memory",
        ) as cfg:
            rel = oracle.install_dry_run(cfg, chart, release, namespace, vals, caps)
    except helm.HelmError as exc:
        chart.close()
        fail(exc.detail or str(exc))
    crds = chart.crds
    chart.close()
    with helm.Chart.load(chart_dir) as fresh:
        files = oracle.engine_render(fresh, release, namespace, vals, caps)
    files = {k: v for k, v in files.items() if not k.endswith("NOTES.txt")}
    hooks, _generic = oracle.sort_manifests(files)

    out = ""
    if include_crds:
        out += "".join(f"---\n# Source: {c['filename']}\n{c['data']}\n" for c in crds)
    out += rel.get("manifest", "")
    if not no_hooks:
        for h in hooks:
            head = helm.values_from_yaml(h["manifest"]) or {}
            events = str(
                (head.get("metadata") or {}).get("annotations", {}).get(oracle.HOOK_ANNOTATION, "")
            )
            if skip_tests and {"test", "test-success"} & {e.strip() for e in events.split(",")}:
                continue
            out += f"---\n# Source: {h['path']}\n{h['manifest']}\n"
    sys.stdout.write(out)


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["version"]:
        print("v3.99.0 (helm-python-sdk 0.2.2, Helm v4.2.3 library)")
        return
    if args[:1] == ["template"]:
        template(args[1:])
        return
    fail(f"only `version` and `template` are supported, not {' '.join(args)}")


if __name__ == "__main__":
    main()
