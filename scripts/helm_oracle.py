#!/usr/bin/env python3
"""Regenerates the expected outputs of the Helm conformance corpus with the real Helm library.

The oracle is PyPI's `helm-python-sdk` (import name `helm_python`), a ctypes binding over
`libhelm_c`, which compiles Helm's own Go SDK (helm.sh/helm/v4) into a shared library. Nothing
here talks to a cluster or the network; scripts/regen-helm-conformance.sh sets up the venv and
runs this file with a minimal environment. See tests/conformance/helm/README.md.

For every case directory tests/conformance/helm/cases/<case>/ holding a case.json:

    {
      "description": "free text (optional)",
      "chart": "../../charts/<name>",        # relative to the case directory
      "release": "my-release",               # .Release.Name
      "namespace": "my-namespace",           # .Release.Namespace
      "values": ["values-a.yaml", ...],      # optional: files in the case dir, merged in order
      "set": {...},                          # optional: merged after the files
      "kubeVersion": "1.29.4-gke.100",       # optional: as `helm template --kube-version`
      "apiVersions": ["monitoring.coreos.com/v1", ...],  # optional: `--api-versions`
      "error": true                          # optional: Helm must refuse the case
    }

the user values are built as `helm template -f <file>... --set-json '<set>'` builds them (the
files parsed by Helm's own YAML reader, then merged with Helm's MergeMaps), and the chart is
rendered as `helm template` does. The case directory then receives:

  expected.yaml        `helm template <release> <chart> -n <namespace> -f ...` stdout, byte for
                       byte: strings.TrimSpace(release manifest) + "\n", then every hook as
                       "---\n# Source: <path>\n<doc>\n" (CRDs are not included, as without
                       --include-crds)
  expected-notes.txt   the rendered NOTES.txt of the top chart, when not empty
  expected-crds.yaml   the crds/ files of the chart and of its enabled subcharts, when any, as
                       `--include-crds` would put them in front of the manifest
  expected-error.txt   for "error": true cases, Helm's error message (err.Error()) + "\n"

Every case is rendered twice and must give the same result (no randAlphaNum, uuidv4, now...).
Exit status: 0 when every case produced what its case.json says, 1 otherwise.

Usage: helm_oracle.py [--check] [case-name...]
  --check   do not write anything; exit 1 if any expected file would change
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import helm_python as helm
from helm_python import _native

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "conformance" / "helm"
CASES = CORPUS / "cases"
CAPABILITIES_FILE = CORPUS / "oracle-capabilities.json"

CASE_KEYS = {
    "description", "chart", "release", "namespace", "values", "set", "kubeVersion",
    "apiVersions", "error",
}
OUTPUT_FILES = ("expected.yaml", "expected-notes.txt", "expected-crds.yaml", "expected-error.txt")

# A kubeconfig that is never contacted: an install with dry_run="client" (what `helm template`
# does) uses Helm's default capabilities, a fake kube client and in-memory release storage.
# Giving one explicitly keeps the run independent of ~/.kube/config and $KUBECONFIG.
UNUSED_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: unused
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: unused
  context:
    cluster: unused
    user: unused
current-context: unused
users:
- name: unused
  user: {}
"""


class CaseError(Exception):
    """A case that could not be regenerated (bad case.json, oracle disagreement...)."""


# --- Go string helpers --------------------------------------------------------------------


def go_is_space(ch: str) -> bool:
    """unicode.IsSpace: Latin-1 spaces plus the Unicode White_Space property."""
    if ord(ch) <= 0xFF:
        return ch in "\t\n\v\f\r \x85\xa0"
    return ch.isspace()


def go_trim_left_space(s: str) -> str:
    i = 0
    while i < len(s) and go_is_space(s[i]):
        i += 1
    return s[i:]


def go_trim_space(s: str) -> str:
    s = go_trim_left_space(s)
    j = len(s)
    while j > 0 and go_is_space(s[j - 1]):
        j -= 1
    return s[:j]


# --- port of helm.sh/helm/v4/pkg/release/v1/util (manifest.go, manifest_sorter.go,
#     kind_sorter.go) at v4.2.3: used only to extract the hooks, which the SDK's install
#     summary does not return; the non-hook part is checked against the SDK's manifest. ----

# Go's \s is [\t\n\f\r ]; `^` is the start of the text.
_SEP = re.compile(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*")

HOOK_ANNOTATION = "helm.sh/hook"
HOOK_EVENTS = {
    "pre-install", "post-install", "pre-delete", "post-delete", "pre-upgrade",
    "post-upgrade", "pre-rollback", "post-rollback", "test", "test-success",
}
INSTALL_ORDER = [
    "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
    "PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList",
    "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
    "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
    "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service",
    "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
    "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress",
    "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
]
_ORDER = {kind: i for i, kind in enumerate(INSTALL_ORDER)}


def split_manifests(big: str) -> list[str]:
    """releaseutil.SplitManifests, as a list in document order."""
    docs = []
    for d in _SEP.split(go_trim_left_space(big)):
        if go_trim_space(d) == "":
            continue
        docs.append(go_trim_left_space(d))
    return docs


def kind_key(kind: str) -> tuple[int, int, str]:
    """lessByKind(InstallOrder) as a sort key: known kinds in install order, then the
    unknown ones alphabetically (the sort is stable, as sort.SliceStable)."""
    if kind in _ORDER:
        return (0, _ORDER[kind], "")
    return (1, 0, kind)


def sort_manifests(files: dict[str, str]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """releaseutil.SortManifests(files, nil, InstallOrder): (hooks, generic manifests)."""
    hooks: list[dict[str, str]] = []
    generic: list[dict[str, str]] = []
    for path in sorted(files):
        content = files[path]
        if path.rsplit("/", 1)[-1].startswith("_"):
            continue
        if go_trim_space(content) == "":
            continue
        for doc in split_manifests(content):
            try:
                head = helm.values_from_yaml(doc)
            except helm.HelmError as exc:
                raise CaseError(f"YAML parse error on {path} (oracle's own split): {exc}") from exc
            kind = head.get("kind")
            kind = kind if isinstance(kind, str) else ""
            metadata = head.get("metadata")
            annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
            if not isinstance(annotations, dict) or not annotations:
                generic.append({"name": path, "content": doc, "kind": kind})
                continue
            if HOOK_ANNOTATION not in annotations:
                generic.append({"name": path, "content": doc, "kind": kind})
                continue
            events = [e.strip().lower() for e in str(annotations[HOOK_ANNOTATION]).split(",")]
            if any(e not in HOOK_EVENTS for e in events):
                continue  # "skipping unknown hooks": neither a hook nor a manifest
            hooks.append({"path": path, "manifest": doc, "kind": kind})
    hooks.sort(key=lambda h: kind_key(h["kind"]))
    generic.sort(key=lambda m: kind_key(m["kind"]))
    return hooks, generic


# --- values -------------------------------------------------------------------------------


def merge_maps(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """loader.MergeMaps: b wins, maps are merged recursively."""
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_maps(out[k], v)
            continue
        out[k] = v
    return out


def yaml_documents(text: str) -> list[str]:
    """k8s.io/apimachinery's YAMLReader, as loader.LoadValues uses it: a line that starts
    with "---" and has nothing after it but spaces or a comment separates documents."""
    docs, current = [], []
    for line in re.split(r"(?<=\n)", text):
        if line.startswith("---"):
            rest = line[3:].strip()
            if not rest or rest.startswith("#"):
                docs.append("".join(current))
                current = []
                continue
        current.append(line)
    docs.append("".join(current))
    return docs


def user_values(case_dir: Path, case: dict[str, Any]) -> dict[str, Any]:
    """values.Options.MergeValues for `-f file...` then `--set-json '<set>'`. Each file is
    loader.LoadValues: every YAML document parsed by Helm (helm_values_from_yaml reads one)
    and merged in order."""
    vals: dict[str, Any] = {}
    for name in case.get("values", []):
        text = (case_dir / name).read_text(encoding="utf-8")
        for doc in yaml_documents(text):
            try:
                vals = merge_maps(vals, helm.values_from_yaml(doc))
            except helm.HelmError as exc:
                raise CaseError(f"failed to parse {name}: {exc}") from exc
    if "set" in case:
        vals = merge_maps(vals, case["set"])
    return vals


# --- rendering ----------------------------------------------------------------------------


def relative_message(msg: str) -> str:
    return msg.replace(str(ROOT) + "/", "")


def install_dry_run(
    cfg: helm.Config, chart: helm.Chart, release: str, namespace: str, vals: dict[str, Any],
    capabilities: dict[str, Any],
) -> dict[str, Any]:
    """Config.install(chart, release, vals, namespace=..., dry_run="client"), plus the
    kube_version / api_versions options that libhelm_c's helm_install accepts but that the
    Python wrapper does not expose (same call, same argument order as Config.install)."""
    opts = {"namespace": namespace, "dry_run": "client", **capabilities}
    payload = _native.call_string(
        "helm_install", cfg._raw(), 0, chart._raw(), None, release, json.dumps(vals),
        json.dumps(opts),
    )
    result: dict[str, Any] = json.loads(payload)
    return result


def engine_render(
    chart: helm.Chart, release: str, namespace: str, vals: dict[str, Any],
    capabilities: dict[str, Any],
) -> dict[str, str]:
    """Chart.render(vals, name=..., namespace=...), plus kube_version / api_versions."""
    opts = {"name": release, "namespace": namespace, **capabilities}
    payload = _native.call_string("helm_render", chart._raw(), json.dumps(vals), json.dumps(opts))
    files: dict[str, str] = json.loads(payload)
    return files


def render_once(
    chart_dir: Path, release: str, namespace: str, vals: dict[str, Any],
    capabilities: dict[str, Any],
) -> dict[str, str]:
    """One `helm template` run. Returns the output files, or {"expected-error.txt": ...}."""
    # 1. The install action in client-only dry-run mode: Helm's own pipeline (dependency
    #    conditions/tags/import-values, schema validation, rendering, NOTES extraction,
    #    SortManifests, "# Source:" headers). Its summary carries the manifest and the notes.
    chart = helm.Chart.load(chart_dir)
    try:
        with helm.Config(
            kubeconfig_content=UNUSED_KUBECONFIG, namespace=namespace, storage_driver="memory"
        ) as cfg:
            rel = install_dry_run(cfg, chart, release, namespace, vals, capabilities)
    except helm.HelmError as exc:
        chart.close()
        return {"expected-error.txt": relative_message(exc.detail or str(exc)) + "\n"}
    manifest = rel.get("manifest", "")
    notes = rel.get("notes", "")
    # The install processed the dependencies on this very chart object (disabled subcharts
    # are dropped in place), so its CRDs are those `helm template --include-crds` prints.
    crds = chart.crds
    chart.close()

    # 2. The engine's raw output for the same input, on a fresh chart: the hooks.
    with helm.Chart.load(chart_dir) as fresh:
        files = engine_render(fresh, release, namespace, vals, capabilities)
    files = {k: v for k, v in files.items() if not k.endswith("NOTES.txt")}
    hooks, generic = sort_manifests(files)
    rebuilt = "".join(f"---\n# Source: {m['name']}\n{m['content']}\n" for m in generic)
    if rebuilt != manifest:
        raise CaseError(
            "the engine's output sorted here does not give the install's manifest; "
            "the SortManifests port or the render call disagrees with Helm"
        )

    out = {"expected.yaml": go_trim_space(manifest) + "\n"}
    for h in hooks:
        out["expected.yaml"] += f"---\n# Source: {h['path']}\n{h['manifest']}\n"
    if notes:
        out["expected-notes.txt"] = notes
    if crds:
        out["expected-crds.yaml"] = "".join(
            f"---\n# Source: {c['filename']}\n{c['data']}\n" for c in crds
        )
    return out


def load_case(case_dir: Path) -> dict[str, Any]:
    path = case_dir / "case.json"
    try:
        case = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CaseError(f"cannot read {path.relative_to(ROOT)}: {exc}") from exc
    unknown = set(case) - CASE_KEYS
    if unknown:
        raise CaseError(f"case.json: unknown keys {sorted(unknown)}")
    for key in ("chart", "release", "namespace"):
        if not isinstance(case.get(key), str) or not case[key]:
            raise CaseError(f"case.json: {key!r} must be a non-empty string")
    if not isinstance(case.get("values", []), list):
        raise CaseError("case.json: 'values' must be a list of file names")
    if not isinstance(case.get("set", {}), dict):
        raise CaseError("case.json: 'set' must be an object")
    if not isinstance(case.get("kubeVersion", ""), str):
        raise CaseError("case.json: 'kubeVersion' must be a string")
    api = case.get("apiVersions", [])
    if not isinstance(api, list) or not all(isinstance(a, str) for a in api):
        raise CaseError("case.json: 'apiVersions' must be a list of strings")
    return case


def case_capabilities(case: dict[str, Any]) -> dict[str, Any]:
    caps: dict[str, Any] = {}
    if case.get("kubeVersion"):
        caps["kube_version"] = case["kubeVersion"]
    if case.get("apiVersions"):
        caps["api_versions"] = case["apiVersions"]
    return caps


def regenerate(case_dir: Path, check: bool) -> tuple[bool, list[str]]:
    """Renders one case; returns (Helm refused it, the output files that changed)."""
    case = load_case(case_dir)
    chart_dir = (case_dir / case["chart"]).resolve()
    if not (chart_dir / "Chart.yaml").is_file():
        raise CaseError(f"no chart at {case['chart']}")
    vals = user_values(case_dir, case)
    caps = case_capabilities(case)
    first = render_once(chart_dir, case["release"], case["namespace"], vals, caps)
    second = render_once(chart_dir, case["release"], case["namespace"], vals, caps)
    if first != second:
        raise CaseError("two renders of the same input differ (random or time-based function?)")
    failed = "expected-error.txt" in first
    if failed != bool(case.get("error", False)):
        what = first.get("expected-error.txt", "").strip() if failed else "it rendered"
        raise CaseError(f"case.json says error={case.get('error', False)}, but {what}")

    changed = []
    for name in OUTPUT_FILES:
        path = case_dir / name
        old = path.read_bytes() if path.exists() else None
        new = first[name].encode("utf-8") if name in first else None
        if old == new:
            continue
        changed.append(name)
        if check:
            continue
        if new is None:
            path.unlink()
        else:
            path.write_bytes(new)
    return failed, changed


# --- the oracle's default capabilities -----------------------------------------------------

CAPS_TEMPLATE = """\
{{- $kv := .Capabilities.KubeVersion -}}
{{- $hv := .Capabilities.HelmVersion -}}
{{- dict
  "kubeVersion" (dict "version" $kv.Version "major" $kv.Major "minor" $kv.Minor
                      "string" $kv.String "gitVersion" $kv.GitVersion)
  "apiVersions" .Capabilities.APIVersions
  "helmVersion" (dict "version" $hv.Version "gitCommit" $hv.GitCommit
                      "gitTreeState" $hv.GitTreeState "goVersion" $hv.GoVersion
                      "kubeClientVersion" $hv.KubeClientVersion)
  "release" .Release
  | toJson -}}
"""


def default_capabilities() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        chart_dir = Path(tmp) / "probe"
        (chart_dir / "templates").mkdir(parents=True)
        (chart_dir / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
        (chart_dir / "templates" / "caps.json").write_text(CAPS_TEMPLATE)
        with helm.Chart.load(chart_dir) as chart:
            files = chart.render({}, name="probe", namespace="default")
    caps: dict[str, Any] = json.loads(files["probe/templates/caps.json"])
    return {
        "oracle": {
            "helm-python-sdk": helm.__version__,
            "helm-c": helm.helm_c_version(),
            "helm": helm.helm_sdk_version(),
        },
        **caps,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail on changes")
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    args = parser.parse_args()

    print(f"helm-python-sdk {helm.__version__}, libhelm_c {helm.helm_c_version()}, "
          f"Helm {helm.helm_sdk_version()}")
    caps_text = json.dumps(default_capabilities(), indent=2, sort_keys=True) + "\n"
    caps_old = CAPABILITIES_FILE.read_text() if CAPABILITIES_FILE.exists() else None
    if caps_old != caps_text:
        print(f"{'would change' if args.check else 'wrote'} {CAPABILITIES_FILE.relative_to(ROOT)}")
        if not args.check:
            CAPABILITIES_FILE.write_text(caps_text)

    names = args.cases or sorted(p.name for p in CASES.iterdir() if (p / "case.json").is_file())
    bad = 0
    changed = caps_old != caps_text
    for name in names:
        case_dir = CASES / name
        try:
            failed, files = regenerate(case_dir, args.check)
        except (CaseError, helm.HelmError) as exc:
            bad += 1
            print(f"FAIL   {name}: {exc}")
            continue
        changed = changed or bool(files)
        note = f" ({'would change' if args.check else 'wrote'} {', '.join(files)})" if files else ""
        print(f"{'error ' if failed else 'ok    '} {name}{note}")
    print(f"{len(names) - bad} cases regenerated, {bad} failed")
    if bad or (args.check and changed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
