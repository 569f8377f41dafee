#!/usr/bin/env bash
# Regenerates tests/conformance/numbers/expected.json, the table braid-functions' bignum
# module is checked against: every expression of tests/conformance/numbers/cases.txt (one per
# line; `#` lines are comments) is given alone to real Terraform's `terraform console`, and its
# exact output is recorded as {"expression", "output"}, or {"expression", "error"} with the
# error's summary and detail when Terraform refuses it. One console per expression, because
# the console stops at the first error. Needs terraform (1.11) and python3 on PATH; works
# offline. Usage: scripts/conformance-numbers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
suite="tests/conformance/numbers"
export TF_IN_AUTOMATION=1 TF_CLI_CONFIG_FILE=/dev/null
terraform version | head -1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$suite/cases.txt" "$suite/expected.json" "$work" <<'PY'
import json, subprocess, sys
cases, target, work = sys.argv[1:4]
table = []
for line in open(cases, encoding="utf-8"):
    expression = line.rstrip("\n")
    if not expression or expression.startswith("#"):
        continue
    run = subprocess.run(["terraform", "console", "-no-color"], input=expression + "\n",
                         capture_output=True, text=True, cwd=work)
    if run.returncode == 0 and not run.stderr.strip():
        table.append({"expression": expression, "output": run.stdout.rstrip("\n")})
    else:
        # The box-drawing margin of the diagnostic is dropped; summary and detail stay.
        text = (run.stderr + run.stdout).replace("│", "").replace("╷", "").replace("╵", "")
        lines = [l.strip() for l in text.splitlines()]
        lines = [l for l in lines if l and not l.startswith("on <console-input>")
                 and l != "(source code not available)"]
        table.append({"expression": expression, "error": " ".join(lines)})
with open(target, "w", encoding="utf-8") as f:
    json.dump(table, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"{len(table)} expressions written to {target}")
PY
