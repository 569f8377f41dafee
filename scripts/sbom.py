#!/usr/bin/env python3
"""Writes braid's software bill of materials (CycloneDX 1.5 JSON) to stdout: every crate
Cargo.lock pins that the `braid` binary's dependency graph reaches (from `cargo metadata`),
with its version, package URL, license and the registry's SHA-256 of its source.

Usage: scripts/sbom.py --version VERSION [--target TRIPLE]
"""
import argparse
import json
import subprocess
import sys
import tomllib
import uuid
from datetime import datetime, timezone


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True)
    parser.add_argument("--target", help="only the crates built for this target triple")
    args = parser.parse_args()
    command = ["cargo", "metadata", "--format-version", "1", "--locked"]
    if args.target:
        command += ["--filter-platform", args.target]
    # Offline when everything is already downloaded (as after a build); else fetch.
    found = subprocess.run(command + ["--offline"], capture_output=True, text=True)
    if found.returncode != 0:
        found = subprocess.run(command, check=True, capture_output=True, text=True)
    metadata = json.loads(found.stdout)
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}
    root = next(p["id"] for p in metadata["packages"] if p["name"] == "braid")
    # Everything the binary builds: normal and build dependencies, not dev-dependencies.
    reached, stack = set(), [root]
    while stack:
        current = stack.pop()
        if current in reached:
            continue
        reached.add(current)
        for dep in nodes[current]["deps"]:
            kinds = {k.get("kind") for k in dep["dep_kinds"]}
            if kinds - {"dev"}:
                stack.append(dep["pkg"])
    with open("Cargo.lock", "rb") as lock:
        locked = tomllib.load(lock)
    checksums = {
        (p["name"], p["version"]): p["checksum"]
        for p in locked.get("package", [])
        if "checksum" in p
    }
    components = []
    for pid in sorted(reached - {root}, key=lambda i: (packages[i]["name"], packages[i]["version"])):
        package = packages[pid]
        component = {
            "type": "library",
            "bom-ref": f"pkg:cargo/{package['name']}@{package['version']}",
            "name": package["name"],
            "version": package["version"],
            "purl": f"pkg:cargo/{package['name']}@{package['version']}",
        }
        if package.get("license"):
            component["licenses"] = [{"expression": package["license"]}]
        checksum = checksums.get((package["name"], package["version"]))
        if checksum:
            component["hashes"] = [{"alg": "SHA-256", "content": checksum}]
        if package.get("source") is None:
            component["type"] = "library"
            component["description"] = "part of braid's workspace"
        components.append(component)
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "component": {
                "type": "application",
                "bom-ref": f"pkg:cargo/braid@{args.version}",
                "name": "braid",
                "version": args.version,
                "licenses": [{"expression": packages[root].get("license") or "Apache-2.0"}],
            },
        },
        "components": components,
    }
    json.dump(bom, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
