#!/usr/bin/env bash
# The GitOps loop on one machine, end to end:
#
#   examples/platform (infra: AWS in HCL)  +  examples/deploy (Kubernetes manifests)
#     -> one plan -> apply to staging -> a pull request's plan comment -> merge -> apply
#     -> tag v1.0.0 -> apply to prod -> history -> drift -> put it back
#     -> braid agent: staging follows main and undoes a hand edit by itself
#
# AWS is moto_server (installed into a virtualenv if missing, as scripts/test.sh does);
# each environment's Kubernetes cluster is a kubesim (this workspace's API emulator,
# crates/kubesim).
# Both repositories are copied to a temporary directory and made into git repositories.
# Nothing outside that directory and 127.0.0.1 is touched. Exits non-zero if a step fails.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

bold() { printf '\033[1m%s\033[0m\n' "$*"; }
n=0
step() { n=$((n + 1)); printf '\n'; bold "==> [$n] $*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
# expect CODE CMD...: run CMD, fail the demo unless it exits with CODE.
expect() {
  local want="$1" code=0
  shift
  printf '\033[2m$ %s\033[0m\n' "$*"
  "$@" || code=$?
  if [ "$code" != "$want" ]; then
    echo "demo: expected exit code $want, got $code from: $*" >&2
    exit 1
  fi
  echo "(exit code $code, as expected)"
}

# --- what the demo needs ---------------------------------------------------------------

step "building braid and kubesim"
cargo build --locked --quiet -p braid -p kubesim
target="${CARGO_TARGET_DIR:-$repo/target}/debug"
braid_bin="$target/braid"
kubesim_bin="$target/kubesim"

# moto_server: BRAID_MOTO_SERVER, PATH, or a virtualenv under ~/.cache (made once).
if [ -z "${BRAID_MOTO_SERVER:-}" ]; then
  venv="${BRAID_VENV:-$HOME/.cache/braid-venv}"
  if [ -x "$venv/bin/moto_server" ]; then
    BRAID_MOTO_SERVER="$venv/bin/moto_server"
  elif command -v moto_server >/dev/null 2>&1; then
    BRAID_MOTO_SERVER="$(command -v moto_server)"
  else
    echo "==> installing moto[server] into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet 'moto[server]'
    BRAID_MOTO_SERVER="$venv/bin/moto_server"
  fi
fi
echo "moto_server: $BRAID_MOTO_SERVER"

work="$(mktemp -d "${TMPDIR:-/tmp}/braid-demo.XXXXXX")"
pids=()
cleanup() {
  local code=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$code" = 0 ]; then
    echo "Demo finished. The repositories are in $work"
  else
    echo "demo: FAILED (exit $code). Logs and repositories are in $work" >&2
  fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for WHAT CMD...: up to 60 s
  local what="$1"
  shift
  for _ in $(seq 1 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "demo: $what did not start (logs in $work)" >&2
  return 1
}

step "starting the emulators: moto_server (AWS) and one kubesim per environment's cluster"
moto_port="$(free_port)"
"$BRAID_MOTO_SERVER" -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
for env in staging prod; do
  "$kubesim_bin" --port 0 --kubeconfig "$work/kubeconfig-$env.yaml" >"$work/kubesim-$env.log" 2>&1 &
  pids+=($!)
done
wait_for "moto_server" curl -fsS "http://127.0.0.1:$moto_port/moto-api/"
for env in staging prod; do
  wait_for "kubesim ($env)" grep -q 'server: http' "$work/kubeconfig-$env.yaml"
done
echo "AWS:  http://127.0.0.1:$moto_port (moto_server)"
echo "staging cluster: $(grep -o 'http://[0-9.:]*' "$work/kubeconfig-staging.yaml")"
echo "prod cluster:    $(grep -o 'http://[0-9.:]*' "$work/kubeconfig-prod.yaml")"

# What CI would export: AWS credentials (here moto's), the emulator endpoint, the one
# secret variable, and KUBECONFIG per environment (set on each command below).
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_DEFAULT_REGION=eu-west-1 AWS_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true
export BRAID_AWS_ENDPOINT="http://127.0.0.1:$moto_port"
export BRAID_VAR_payments_api_key="demo-psp-key-not-real"
export NO_COLOR=1
# This shell is not a CI job: forget any ref a surrounding CI would have set.
unset BRAID_REF GITHUB_REF CI_COMMIT_TAG CI_COMMIT_BRANCH GITHUB_ACTOR GITLAB_USER_LOGIN BRAID_ACTOR
staging_kube="$work/kubeconfig-staging.yaml"
prod_kube="$work/kubeconfig-prod.yaml"

# prod keeps its state in S3 (braid.hcl): create the state bucket, as a team does once.
curl -fsS -X PUT "$BRAID_AWS_ENDPOINT/acme-braid-state" \
  -H 'Content-Type: application/xml' \
  --data '<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>' \
  >/dev/null
echo "prod state bucket: s3://acme-braid-state (in moto)"

step "two git repositories: platform (infra) and deploy (apps), copied from examples/"
platform="$work/platform"
deploy="$work/deploy"
cp -R examples/platform "$platform"
cp -R examples/deploy "$deploy"
rm -rf "$platform/.braid"
for r in "$platform" "$deploy"; do
  git -C "$r" init -q -b main
  git -C "$r" config user.name "Ada Lovelace"
  git -C "$r" config user.email "ada@example.com"
  git -C "$r" config advice.detachedHead false
  git -C "$r" add -A
  git -C "$r" commit -q -m "Initial commit"
done
git -C "$platform" log --oneline
git -C "$deploy" log --oneline
echo "platform/braid.hcl reads the deploy repo as: source \"apps\" { repo = \"../deploy\", ref = \"main\" }"

# braid runs inside the platform checkout, as in CI. (Not with -C: braid reads git's
# user.name for the audit log from its working directory, not from -C's.)
braid() { (cd "$platform" && "$braid_bin" "$@"); }
staging() { KUBECONFIG="$staging_kube" braid --env staging "$@"; }
prod() { KUBECONFIG="$prod_kube" braid --env prod "$@"; }

# --- the loop ------------------------------------------------------------------------

step "braid validate: every environment, both repositories, no API calls"
run braid validate

step "braid plan --env staging: AWS and Kubernetes in one plan"
run staging plan

step "braid apply --env staging (what CI runs on merge to main)"
run staging apply --auto-approve

step "a second plan finds nothing to do"
expect 0 staging plan --detailed-exitcode

step "what the cluster received from AWS, through \${{ }} references"
token=kubesim-token
staging_api="$(grep -o 'http://[0-9.:]*' "$staging_kube")"
curl -fsS -H "Authorization: Bearer $token" \
  "$staging_api/api/v1/namespaces/shop/serviceaccounts/checkout" |
  python3 -c 'import json,sys; o=json.load(sys.stdin); print("checkout ServiceAccount role-arn:", o["metadata"]["annotations"]["eks.amazonaws.com/role-arn"])'
curl -fsS -H "Authorization: Bearer $token" \
  "$staging_api/apis/apps/v1/namespaces/shop/deployments/checkout" |
  python3 -c '
import json,sys
c=json.load(sys.stdin)["spec"]["template"]["spec"]["containers"][0]
print("checkout image:", c["image"])
for e in c.get("env", []): print("checkout env %s=%s" % (e["name"], e["value"]))'

step "the notifications service is a Helm chart: braid rendered it with staging's values"
curl -fsS -H "Authorization: Bearer $token" \
  "$staging_api/apis/apps/v1/namespaces/shop/deployments/notifications" |
  python3 -c '
import json,sys
d=json.load(sys.stdin)
c=d["spec"]["template"]["spec"]["containers"][0]
print("notifications chart:", d["metadata"]["labels"]["helm.sh/chart"], "replicas:", d["spec"]["replicas"])
for e in c.get("env", []): print("notifications env %s=%s" % (e["name"], e["value"]))'

step "a pull request to the deploy repo: branch feature/web-v2 bumps web's image in staging"
git -C "$deploy" checkout -q -b feature/web-v2
sed -i.bak 's/newTag: "1.4.0"/newTag: "1.5.0"/' "$deploy/web/overlays/staging/kustomization.yaml"
rm -f "$deploy/web/overlays/staging/kustomization.yaml.bak"
# ...and moves the notifications chart's Slack channel (a values change the comment diffs).
sed -i.bak 's/#checkout-alerts-staging/#checkout-oncall-staging/' "$deploy/charts/notifications/values-staging.yaml"
rm -f "$deploy/charts/notifications/values-staging.yaml.bak"
git -C "$deploy" commit -q -am "web: 1.5.0 in staging; notifications: on-call channel"
git -C "$deploy" checkout -q main
git -C "$deploy" log --oneline --all --graph

step "the PR comment CI posts: braid plan --ref apps=… --ref notifications=… --format markdown"
expect 2 staging plan --ref apps=feature/web-v2 --ref notifications=feature/web-v2 --format markdown --detailed-exitcode \
  >"$work/pr-comment.md"
cat "$work/pr-comment.md"

step "planning a branch is allowed; applying it is not (apply_rule refs/heads/main)"
expect 1 staging apply -q --ref apps=feature/web-v2 --ref notifications=feature/web-v2 --auto-approve

step "merge the pull request, then CI applies staging from main"
git -C "$deploy" merge -q --no-ff -m "Merge branch 'feature/web-v2'" feature/web-v2
run staging apply --auto-approve
expect 0 staging plan --detailed-exitcode

step "prod only takes release tags: applying from main is refused"
expect 1 prod apply -q --auto-approve

step "release: tag v1.0.0 in both repositories; CI checks out the tag and applies prod"
git -C "$platform" tag -a v1.0.0 -m "Release 1.0.0"
git -C "$deploy" tag -a v1.0.0 -m "Release 1.0.0"
git -C "$platform" checkout -q v1.0.0   # detached HEAD, as CI checks out a tag
# The platform checkout is a plain directory on a detached HEAD: its ref comes from the
# CI (GITHUB_REF, CI_COMMIT_TAG) or BRAID_REF; the apps source is read at the tag itself.
# (-q: the plan is the same 29 creates shown for staging above.)
BRAID_REF=refs/tags/v1.0.0 run prod apply -q --ref apps=v1.0.0 --ref notifications=v1.0.0 --auto-approve
run prod state list
expect 0 prod plan --ref apps=v1.0.0 --ref notifications=v1.0.0 --detailed-exitcode

step "history: what is deployed where, from which commits, by whom"
run staging history
run prod history

step "drift: someone scales prod's web Deployment by hand"
if command -v kubectl >/dev/null 2>&1; then
  echo "+ kubectl --namespace shop scale deployment/web --replicas=1"
  KUBECONFIG="$prod_kube" kubectl --cache-dir "$work/kubectl-cache" \
    --namespace shop scale deployment/web --replicas=1
else
  # No kubectl here: the same request it sends, a merge patch of the scale subresource.
  prod_api="$(grep -o 'http://[0-9.:]*' "$prod_kube")"
  curl -fsS -X PATCH -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/merge-patch+json' \
    --data '{"spec":{"replicas":1}}' \
    "$prod_api/apis/apps/v1/namespaces/shop/deployments/web/scale" >/dev/null
  echo "(kubectl scale deployment/web --replicas=1, sent with curl: no kubectl here)"
fi
expect 2 prod drift

step "the scheduled drift job's report, and the fix: apply the release again"
expect 2 prod drift --format markdown
BRAID_REF=refs/tags/v1.0.0 run prod apply --ref apps=v1.0.0 --ref notifications=v1.0.0 --auto-approve
expect 0 prod drift

step "history of prod after the repair"
run prod history
git -C "$platform" checkout -q main

step "braid agent: staging follows main by itself (auto_apply) and undoes hand edits (drift { heal })"
# braid.hcl checks staging's drift every minute; the demo does not wait that long.
sed -i.bak 's/interval = "1m"/interval = "2s"/' "$platform/braid.hcl" && rm -f "$platform/braid.hcl.bak"
git -C "$platform" commit -q -am "demo: check staging's drift every 2s"
(cd "$platform" && KUBECONFIG="$staging_kube" exec "$braid_bin" --env staging agent \
  --listen 127.0.0.1:0 --interval 2s >"$work/agent.log" 2>&1) &
agent_pid=$!
wait_log() { # wait_log TEXT: until the agent's log holds TEXT (60 s at most)
  for _ in $(seq 600); do
    grep -q -- "$1" "$work/agent.log" && return 0
    sleep 0.1
  done
  echo "demo: the agent never logged \"$1\":" >&2; cat "$work/agent.log" >&2; kill "$agent_pid"; exit 1
}
wait_log "serving http://"
agent_api="$(grep -o 'http://[0-9.:]*' "$work/agent.log" | head -n 1)"
# Ready once staging has had its first cycle (the platform commit above changes no resource).
for _ in $(seq 600); do
  curl -fsS "$agent_api/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "agent at $agent_api; its log so far:"; cat "$work/agent.log"
echo "+ a commit to the deploy repo's main: web runs 3 replicas in staging"
sed -i.bak 's/replicas: 2/replicas: 3/' "$deploy/web/overlays/staging/kustomization.yaml"
rm -f "$deploy/web/overlays/staging/kustomization.yaml.bak"
git -C "$deploy" commit -q -am "web: 3 replicas in staging"
wait_log "staging: applied 1 change(s)"
curl -fsS -H "Authorization: Bearer $token" "$staging_api/apis/apps/v1/namespaces/shop/deployments/web" |
  python3 -c 'import json,sys; print("staging web replicas (applied by the agent):", json.load(sys.stdin)["spec"]["replicas"])'
echo "+ someone scales staging's web by hand to 1"
curl -fsS -X PATCH -H "Authorization: Bearer $token" -H 'Content-Type: application/merge-patch+json' \
  --data '{"spec":{"replicas":1}}' "$staging_api/apis/apps/v1/namespaces/shop/deployments/web/scale" >/dev/null
wait_log "staging: healed"
curl -fsS -H "Authorization: Bearer $token" "$staging_api/apis/apps/v1/namespaces/shop/deployments/web" |
  python3 -c 'import json,sys; print("staging web replicas (healed by the agent):", json.load(sys.stdin)["spec"]["replicas"])'
echo "+ curl $agent_api/api/environments/staging"
curl -fsS "$agent_api/api/environments/staging" |
  python3 -c 'import json,sys; s=json.load(sys.stdin); print("status:", s["sync"], "| deployed:", ", ".join("%s@%s" % (x["name"], (x["commit"] or "")[:12]) for x in s["deployed"]), "| applies by the agent:", s["applies_succeeded"])'
echo "+ curl $agent_api/metrics (excerpt)"
curl -fsS "$agent_api/metrics" | grep -E '^braid_(environment_status\{.*\} 1|applies_total)'
kill -TERM "$agent_pid"
wait "$agent_pid"
echo "agent stopped (exit 0) after SIGTERM; its log:"; cat "$work/agent.log"
run staging status
