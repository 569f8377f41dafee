#!/usr/bin/env bash
# Regenerates the expected values of braid's function conformance suite
# (tests/conformance/functions) by running real Terraform (1.11) on the same expressions:
#   - expected.json: each output of cases.hcl as `terraform plan` computes it, {"value": ...},
#     or {"unknown": true} where Terraform leaves it unknown until apply (uuid(), ...);
#   - failing.hcl is checked: every output in it, alone in its own configuration, must make
#     `terraform plan` fail;
#   - functions-metadata.json: `terraform metadata functions -json`, the list of Terraform's
#     functions that braid's names() is checked against.
# Terraform works offline here: the configurations use no providers. Needs terraform and
# python3 on PATH. Usage: scripts/conformance-functions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
suite="tests/conformance/functions"
terraform version | head -1
export TF_IN_AUTOMATION=1 TF_CLI_CONFIG_FILE=/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The values.
mkdir "$work/cases"
cp "$suite/cases.hcl" "$work/cases/main.tf"
cp -r "$suite/files" "$work/cases/files"
(cd "$work/cases" && terraform init -input=false >/dev/null &&
  terraform plan -no-color -input=false -out=tfplan >/dev/null &&
  terraform show -json tfplan >plan.json)
python3 - "$work/cases/plan.json" "$suite/expected.json" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
changes = plan["output_changes"]
out = {}
for name in sorted(changes):
    change = changes[name]
    if change.get("after_unknown") is True:
        out[name] = {"unknown": True}
    else:
        out[name] = {"value": change["after"]}
with open(sys.argv[2], "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False, sort_keys=True)
    f.write("\n")
print(f"{len(out)} expected values written to {sys.argv[2]}")
PY

# The failures: each alone (after the variables and locals of cases.hcl, which a case may
# read), so that one error cannot hide another.
python3 - "$suite/cases.hcl" "$work/preamble.tf" <<'PY'
import sys
blocks, block = [], None
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if block is not None:
        block.append(line)
        if line == "}":
            blocks.append(block)
            block = None
    elif line and not line.startswith("#") and not line.startswith("output "):
        if line.endswith("}"):
            blocks.append([line])
        else:
            block = [line]
with open(sys.argv[2], "w") as f:
    f.write("".join("\n".join(b) + "\n" for b in blocks))
PY
failed=0
while IFS= read -r line; do
  case "$line" in output*) ;; *) continue ;; esac
  name="$(printf '%s' "$line" | sed -E 's/^output "([^"]+)".*/\1/')"
  dir="$work/fail-$name"
  mkdir "$dir"
  cp "$work/preamble.tf" "$dir/preamble.tf"
  printf '%s\n' "$line" >"$dir/main.tf"
  cp -r "$suite/files" "$dir/files"
  if (cd "$dir" && terraform init -input=false >/dev/null 2>&1 &&
    terraform plan -input=false >/dev/null 2>&1); then
    echo "error: terraform accepts $name, which failing.hcl says must fail" >&2
    failed=1
  fi
done <"$suite/failing.hcl"
[ "$failed" = 0 ] && echo "every expression of failing.hcl fails in terraform"

terraform metadata functions -json | python3 -c '
import json, sys
json.dump(json.load(sys.stdin), sys.stdout, indent=1, sort_keys=True)
print()' >"$suite/functions-metadata.json"
echo "wrote $suite/functions-metadata.json"
exit "$failed"
