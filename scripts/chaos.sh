#!/usr/bin/env bash
# The chaos campaign of docs/RELIABILITY.md, on one machine:
#
#   1. kill -9 at CHAOS_KILLS random points of an apply, for a project of local files and for a
#      project of Kubernetes objects in kubesim; after each kill the documented recovery
#      (docs/state.md: wait for the lease, apply --steal-stale-lock) must converge;
#   2. CHAOS_CONCURRENT applies at once on one environment, failing fast and then waiting for
#      the lock: exactly one of them applies the change;
#   3. API faults injected into kubesim (500, 429, dropped connections, random and scripted)
#      during applies: each apply succeeds or fails cleanly with exit 1.
#
# After every trial: the next plan is empty (--detailed-exitcode 0), state holds exactly the
# expected resources once each, the files on disk / objects in kubesim are exactly those with
# the expected content, no local_file temporary (.NAME.braid-PID-N.tmp) is left behind and the
# audit log has no apply still "running".
#
#   scripts/chaos.sh                      # CHAOS_SEED=1 CHAOS_KILLS=20 CHAOS_CONCURRENT=4
#   CHAOS_SEED=7 CHAOS_KILLS=50 scripts/chaos.sh
#
# Environment: CHAOS_SEED (seeds the kill delays and kubesim's random faults), CHAOS_KILLS
# (kills per project), CHAOS_CONCURRENT (applies at once), CHAOS_FAULT_TRIALS, CHAOS_LOCAL_FILES
# (resources of the local project), CHAOS_OBJECTS (ConfigMaps + Deployments in kubesim),
# BRAID_BIN / KUBESIM_BIN (binaries to test; built with cargo otherwise), CHAOS_KEEP=1 keeps
# the work directory.
# Prints a summary; exits 1 on any violation. Needs python3 and curl.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

seed="${CHAOS_SEED:-1}"
kills="${CHAOS_KILLS:-20}"
concurrent="${CHAOS_CONCURRENT:-4}"
fault_trials="${CHAOS_FAULT_TRIALS:-8}"
local_files="${CHAOS_LOCAL_FILES:-60}"
objects="${CHAOS_OBJECTS:-50}"
# The lease after which a killed apply's lock counts as stale. Every braid run here gets it,
# so holders renew their heartbeat every lease/4 and a live lock is never judged stale.
export BRAID_LOCK_LEASE=2s
export BRAID_ACTOR="chaos <chaos@example.com>" NO_COLOR=1
unset BRAID_REF GITHUB_REF CI_COMMIT_TAG CI_COMMIT_BRANCH GITHUB_ACTOR GITLAB_USER_LOGIN
RANDOM="$seed"

if [ -z "${BRAID_BIN:-}" ] || [ -z "${KUBESIM_BIN:-}" ]; then
  # Without the aws provider: nothing here uses it, and it is most of the build.
  echo "==> building braid (without aws) and kubesim"
  (cd "$repo" && cargo build --locked --quiet --no-default-features -p braid -p kubesim --bin braid --bin kubesim)
  target="$(cd "${CARGO_TARGET_DIR:-$repo/target}" && pwd)/debug"
  BRAID_BIN="${BRAID_BIN:-$target/braid}"
  KUBESIM_BIN="${KUBESIM_BIN:-$target/kubesim}"
fi
# Absolute: braid runs inside the projects' directories.
BRAID_BIN="$(realpath "$BRAID_BIN")"
KUBESIM_BIN="$(realpath "$KUBESIM_BIN")"

work="$(mktemp -d "${TMPDIR:-/tmp}/braid-chaos.XXXXXX")"
started=$SECONDS
violations=0
trials=0
kills_done=0
finished_before_kill=0
failed_applies=0
sim_pid=""
cleanup() {
  local code=$?
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  if [ "$code" = 0 ] && [ -z "${CHAOS_KEEP:-}" ]; then rm -rf "$work"; else echo "work directory: $work"; fi
}
trap cleanup EXIT

violation() {
  violations=$((violations + 1))
  echo "VIOLATION: $*" >&2
}
log() { printf '%s\n' "$*"; }

# braid in the project directory $proj (braid reads its environment from there).
b() { (cd "$proj" && "$BRAID_BIN" --env chaos "$@"); }

# Random integer in [0, $1).
rand_below() { echo $(((RANDOM * 32768 + RANDOM) % $1)); }
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
now_ms() { date +%s%3N; }

# --- checks ------------------------------------------------------------------------------

# check_plan_empty WHAT: the next plan has nothing to do.
check_plan_empty() {
  local code=0
  b plan -q --detailed-exitcode >"$work/plan.out" 2>&1 || code=$?
  if [ "$code" != 0 ]; then
    violation "$1: plan after recovery exits $code, not 0 (no changes):"
    sed 's/^/    /' "$work/plan.out" | head -40 >&2
  fi
}

# check_state WHAT EXPECTED_FILE GONE_FN: state lists exactly the addresses in EXPECTED_FILE,
# once each. An extra address whose object GONE_FN says is gone is finding F1 (fixed)
# (docs/RELIABILITY.md), handled by known_orphans.
check_state() {
  if ! b state list >"$work/state.list" 2>"$work/state.err"; then
    violation "$1: state list failed: $(cat "$work/state.err")"
    return
  fi
  local dups
  dups="$(sort "$work/state.list" | uniq -d)"
  [ -z "$dups" ] || violation "$1: state lists these more than once: $dups"
  local extra missing address orphans=()
  extra="$(comm -23 <(sort -u "$work/state.list") <(sort "$2"))"
  missing="$(comm -13 <(sort -u "$work/state.list") <(sort "$2"))"
  [ -z "$missing" ] || violation "$1: declared but not in state: $(echo "$missing" | tr '\n' ' ')"
  for address in $extra; do
    if "$3" "$address"; then
      orphans+=("$address")
    else
      violation "$1: in state, not declared, and its object still exists: $address"
    fi
  done
  [ "${#orphans[@]}" = 0 ] || known_orphans "$1" "${orphans[@]}"
}

# known_orphans WHAT ADDRESS...: finding F1 (docs/RELIABILITY.md, fixed): a resource that left
# the configuration stayed in state after a kill between the delete of its object and the
# commit of that delete. Now a violation; the orphans are removed so later trials start clean.
known_orphans() {
  local what="$1"
  shift
  violation "$what: finding F1 (fixed; this is a regression): state keeps resources whose objects are gone and that are no longer declared: $*"
  b state rm -q "$@" >"$work/state-rm.out" 2>&1 ||
    violation "$what: state rm of the orphans failed: $(tail -5 "$work/state-rm.out")"
}

# local_gone ADDRESS: the file of local_file.fK does not exist.
local_gone() { [ ! -e "$proj/out/${1#local_file.}.txt" ]; }

# check_history WHAT: no apply is left "running" in the audit log.
check_history() {
  if ! b history --format json --limit 1000 >"$work/history.json" 2>"$work/history.err"; then
    violation "$1: history failed: $(cat "$work/history.err")"
    return
  fi
  local running
  running="$(python3 -c '
import json, sys
print(sum(1 for a in json.load(open(sys.argv[1])) if a["outcome"] == "running"))' "$work/history.json")"
  [ "$running" = 0 ] || violation "$1: $running applies are still \"running\" in the audit log"
}

# applies_with_changes: how many applies of the audit log made changes.
applies_with_changes() {
  b history --format json --limit 1000 | python3 -c '
import json, sys
def changed(a):
    return any(v for k, v in a["summary"].items() if isinstance(v, int))
print(sum(1 for a in json.load(sys.stdin) if changed(a)))'
}

# recover WHAT: the documented recovery after a killed apply: apply again, waiting for the
# dead holder's lock to turn stale and taking it over.
recover() {
  local code=0
  b apply -q --auto-approve --steal-stale-lock --lock-timeout 30s >"$work/recover.out" 2>&1 || code=$?
  if [ "$code" != 0 ]; then
    violation "$1: recovery apply exits $code:"
    sed 's/^/    /' "$work/recover.out" | head -40 >&2
  fi
  if grep -q "panicked" "$work/recover.out"; then violation "$1: recovery apply panicked"; fi
}

# --- the local project -------------------------------------------------------------------

# local_config REV COUNT: COUNT local_file resources with content "fK rev REV"; every fifth
# starts a chain of dependencies, so the graph has both parallel and ordered parts.
local_config() {
  local rev="$1" count="$2" k
  {
    echo 'source "infra" { path = "." }'
    echo 'environment "chaos" {}'
  } >"$proj/braid.hcl"
  {
    for ((k = 0; k < count; k++)); do
      echo "resource \"local_file\" \"f$k\" {"
      echo "  filename = \"out/f$k.txt\""
      echo "  content  = \"f$k rev $rev\\n\""
      if ((k % 5 != 0)); then echo "  depends_on = [local_file.f$((k - 1))]"; fi
      echo "}"
    done
  } >"$proj/main.hcl"
  : >"$work/expected.state"
  for ((k = 0; k < count; k++)); do echo "local_file.f$k" >>"$work/expected.state"; done
  echo "$rev $count" >"$work/expected.local"
}

# check_local WHAT: out/ holds exactly the declared files with the declared content.
check_local() {
  local rev count k leftovers
  read -r rev count <"$work/expected.local"
  check_plan_empty "$1"
  check_state "$1" "$work/expected.state" local_gone
  check_history "$1"
  leftovers="$(find "$proj" -name '.*.braid-*.tmp' | head -5)"
  [ -z "$leftovers" ] || violation "$1: temporary files left behind: $leftovers"
  local files
  files="$(cd "$proj/out" && ls -A | sort)"
  if [ "$files" != "$(for ((k = 0; k < count; k++)); do echo "f$k.txt"; done | sort)" ]; then
    violation "$1: out/ does not hold exactly f0.txt..f$((count - 1)).txt: $(echo "$files" | tr '\n' ' ')"
  fi
  for ((k = 0; k < count; k++)); do
    if [ "$(cat "$proj/out/f$k.txt" 2>/dev/null)" != "f$k rev $rev" ]; then
      violation "$1: out/f$k.txt holds '$(head -c 80 "$proj/out/f$k.txt" 2>/dev/null)', not 'f$k rev $rev'"
      break
    fi
  done
}

# --- the kubesim project -----------------------------------------------------------------

start_kubesim() {
  "$KUBESIM_BIN" --port 0 --kubeconfig "$work/kubeconfig.yaml" --ready-delay-ms 50 --latency-ms 5 \
    >"$work/kubesim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 1 300); do
    grep -q 'server: http' "$work/kubeconfig.yaml" 2>/dev/null && break
    sleep 0.1
  done
  api="$(grep -o 'http://[0-9.:]*' "$work/kubeconfig.yaml" | head -1)"
  token="$(sed -n 's/^ *token: *//p' "$work/kubeconfig.yaml" | head -1 | tr -d '"')"
  [ -n "$api" ] || { echo "chaos: kubesim did not start (see $work/kubesim.log)" >&2; exit 1; }
}

faults() { # faults JSON: replace kubesim's faults
  curl -fsS -X POST -H 'Content-Type: application/json' --data "$1" "$api/kubesim/faults" >/dev/null
}

# kube_config REV COUNT: namespace chaos with COUNT objects, 3/5 ConfigMaps and 2/5
# Deployments (which wait for readiness), all carrying REV.
kube_config() {
  local rev="$1" count="$2" k
  mkdir -p "$proj/deploy"
  {
    echo 'source "infra" { path = "." }'
    echo 'source "apps" { path = "deploy" }'
    echo 'environment "chaos" {}'
    echo 'provider "kubernetes" {'
    echo "  kubeconfig = \"$work/kubeconfig.yaml\""
    echo '  namespace  = "chaos"'
    echo '}'
  } >"$proj/braid.hcl"
  {
    printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: chaos\n'
    for ((k = 0; k < count; k++)); do
      if ((k % 5 < 3)); then
        printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  rev: "%d"\n' "$k" "$rev"
      else
        printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: dep-%d\n' "$k"
        printf 'spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: dep-%d\n' "$k"
        printf '  template:\n    metadata:\n      labels:\n        app: dep-%d\n' "$k"
        printf '      annotations:\n        rev: "%d"\n' "$rev"
        printf '    spec:\n      containers:\n        - name: app\n          image: nginx:1.%d\n' "$rev"
      fi
    done
  } >"$proj/deploy/objects.yaml"
  echo "$rev $count" >"$work/expected.kube"
}

# check_kube WHAT: state and kubesim hold exactly the declared objects, with REV.
check_kube() {
  local rev count
  read -r rev count <"$work/expected.kube"
  check_plan_empty "$1"
  check_history "$1"
  # State: the namespace and each object once.
  if ! b state list >"$work/state.list" 2>"$work/state.err"; then
    violation "$1: state list failed: $(cat "$work/state.err")"
    return
  fi
  local dups
  dups="$(sort "$work/state.list" | uniq -d)"
  [ -z "$dups" ] || violation "$1: state lists these more than once: $dups"
  local problems
  problems="$(
    python3 - "$api" "$token" "$rev" "$count" "$work/state.list" <<'EOF'
import json, sys, urllib.request
api, token, rev, count, state_file = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def get(path):
    req = urllib.request.Request(api + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
want_cm = {f"cm-{k}" for k in range(count) if k % 5 < 3}
want_dep = {f"dep-{k}" for k in range(count) if k % 5 >= 3}
problems = []
cms = {o["metadata"]["name"]: o for o in get("/api/v1/namespaces/chaos/configmaps")["items"]
       if o["metadata"]["name"].startswith("cm-")}
deps = {o["metadata"]["name"]: o for o in get("/apis/apps/v1/namespaces/chaos/deployments")["items"]}
if set(cms) != want_cm:
    problems.append(f"ConfigMaps in kubesim: missing {sorted(want_cm - set(cms))}, extra {sorted(set(cms) - want_cm)}")
if set(deps) != want_dep:
    problems.append(f"Deployments in kubesim: missing {sorted(want_dep - set(deps))}, extra {sorted(set(deps) - want_dep)}")
stale = [n for n, o in cms.items() if o.get("data", {}).get("rev") != rev]
stale += [n for n, o in deps.items()
          if o["spec"]["template"]["metadata"].get("annotations", {}).get("rev") != rev]
if stale:
    problems.append(f"objects without rev {rev}: {sorted(stale)[:10]}")
state = [line.strip() for line in open(state_file) if line.strip()]
state_cm = {a.rsplit("/", 1)[1] for a in state if "/ConfigMap/" in a}
state_dep = {a.rsplit("/", 1)[1] for a in state if "/Deployment/" in a}
state_ns = [a for a in state if "/Namespace/" in a]
# In state, not declared, and gone from the cluster: finding F1 (fixed), a violation.
orphans = [a for a in state
           if ("/ConfigMap/" in a and a.rsplit("/", 1)[1] not in want_cm | set(cms))
           or ("/Deployment/" in a and a.rsplit("/", 1)[1] not in want_dep | set(deps))]
state = [a for a in state if a not in orphans]
state_cm = {a.rsplit("/", 1)[1] for a in state if "/ConfigMap/" in a}
state_dep = {a.rsplit("/", 1)[1] for a in state if "/Deployment/" in a}
state_ns = [a for a in state if "/Namespace/" in a]
if state_cm != set(cms) or state_dep != set(deps) or len(state_ns) != 1:
    problems.append(f"state ({len(state)} addresses) does not match the cluster: "
                    f"ConfigMaps only in state {sorted(state_cm - set(cms))}, only in cluster {sorted(set(cms) - state_cm)}; "
                    f"Deployments only in state {sorted(state_dep - set(deps))}, only in cluster {sorted(set(deps) - state_dep)}; "
                    f"namespaces {state_ns}")
if len(state) != 1 + len(want_cm) + len(want_dep):
    problems.append(f"state holds {len(state)} addresses, expected {1 + len(want_cm) + len(want_dep)}")
print("\n".join(problems))
print("\n".join("orphan " + a for a in orphans))
EOF
  )" || problems="could not read the cluster: $problems"
  local orphans
  orphans="$(echo "$problems" | sed -n 's/^orphan //p')"
  problems="$(echo "$problems" | grep -v '^orphan ' | grep . || true)"
  [ -z "$problems" ] || violation "$1: $problems"
  # shellcheck disable=SC2086 # addresses have no spaces
  [ -z "$orphans" ] || known_orphans "$1" $orphans
}

# --- scenario 1: kill -9 at random points -------------------------------------------------

# kill_campaign NAME CONFIG_FN CHECK_FN BASE_COUNT
kill_campaign() {
  local name="$1" config_fn="$2" check_fn="$3" base="$4"
  log "==> kill -9 at $kills random points of an apply: $name project ($base resources)"
  "$config_fn" 0 "$base"
  local t0 code=0
  t0="$(now_ms)"
  b apply -q --auto-approve >"$work/apply.out" 2>&1 || code=$?
  local full_ms=$(($(now_ms) - t0))
  [ "$code" = 0 ] || { violation "$name: first apply exits $code: $(tail -5 "$work/apply.out")"; return; }
  "$check_fn" "$name: first apply"
  log "    a full apply takes ${full_ms} ms; kills land in [0, $((full_ms * 11 / 10))] ms"
  local trial
  for ((trial = 1; trial <= kills; trial++)); do
    trials=$((trials + 1))
    # Every trial changes every resource; every third also adds or removes some.
    local count=$((base - (trial % 3) * base / 10))
    "$config_fn" "$trial" "$count"
    local delay
    delay="$(rand_below $((full_ms * 11 / 10 + 1)))"
    (cd "$proj" && exec "$BRAID_BIN" --env chaos apply -q --auto-approve) >"$work/apply.out" 2>&1 &
    local pid=$!
    sleep_ms "$delay"
    kill -9 "$pid" 2>/dev/null || true
    code=0
    wait "$pid" 2>/dev/null || code=$?
    local outcome
    if [ "$code" = 137 ]; then
      kills_done=$((kills_done + 1))
      outcome="killed after ${delay} ms"
    else
      finished_before_kill=$((finished_before_kill + 1))
      outcome="finished (exit $code) before the kill at ${delay} ms"
      [ "$code" = 0 ] || violation "$name trial $trial: apply exits $code: $(tail -5 "$work/apply.out")"
    fi
    recover "$name trial $trial"
    "$check_fn" "$name trial $trial ($outcome)"
    log "    trial $trial: $outcome, $count resources; recovered and checked"
  done
}

# --- scenario 2: concurrent applies ------------------------------------------------------

# concurrent_round NAME REV LOCK_TIMEOUT: CONCURRENT applies of revision REV at once.
concurrent_round() {
  local name="$1" rev="$2" wait_flag="$3" i
  local count
  read -r _ count <"$work/expected.local"
  local_config "$rev" "$count"
  local before after
  before="$(applies_with_changes)"
  local pids=()
  for ((i = 0; i < concurrent; i++)); do
    (cd "$proj" && exec "$BRAID_BIN" --env chaos apply -q --auto-approve --lock-timeout "$wait_flag") \
      >"$work/concurrent-$i.out" 2>&1 &
    pids+=($!)
  done
  local ok=0 locked=0 code
  for ((i = 0; i < concurrent; i++)); do
    code=0
    wait "${pids[$i]}" || code=$?
    if [ "$code" = 0 ]; then
      ok=$((ok + 1))
    elif [ "$code" = 1 ] && grep -q "State is locked" "$work/concurrent-$i.out"; then
      locked=$((locked + 1))
    else
      violation "$name: apply $i exits $code without a lock message: $(tail -5 "$work/concurrent-$i.out")"
    fi
    if grep -q "panicked" "$work/concurrent-$i.out"; then violation "$name: apply $i panicked"; fi
  done
  after="$(applies_with_changes)"
  trials=$((trials + 1))
  [ "$ok" -ge 1 ] || violation "$name: no apply succeeded"
  if [ "$wait_flag" != 0 ] && [ "$ok" != "$concurrent" ]; then
    violation "$name: with --lock-timeout every apply should wait and succeed, $ok of $concurrent did"
  fi
  [ $((after - before)) = 1 ] || violation "$name: $((after - before)) applies made changes, expected exactly 1"
  check_local "$name"
  log "    $name: $ok succeeded, $locked refused as locked, $((after - before)) apply made the changes"
}

# --- scenario 3: API faults --------------------------------------------------------------

fault_campaign() {
  log "==> injected API faults during $fault_trials kubesim applies"
  local trial base="$objects"
  # Each setting: extra environment for the apply, "|", then kubesim's faults as JSON fields.
  # The second and third make one object fail for good: by a persistent 500 that outlasts
  # the provider call's deadline (shortened to 5 s), and by a permanent 403.
  local settings=(
    '|"failureRate": 0.15, "failureModes": ["internalError"]'
    'BRAID_PROVIDER_TIMEOUT=5s|"scripted": [{"method": "PATCH", "path": "*/configmaps/cm-1", "times": 1000, "status": 500}]'
    '|"scripted": [{"method": "PATCH", "path": "*/deployments/dep-3", "times": 1000, "status": 403}]'
    '|"failureRate": 0.10, "failureModes": ["dropConnection"]'
    '|"failureRate": 0.15, "failureModes": ["tooManyRequests"]'
    '|"failureRate": 0.20'
    '|"scripted": [{"method": "PATCH", "path": "*/configmaps/*", "times": 5, "status": 500},
                  {"method": "GET", "path": "*/deployments/*", "times": 3, "dropConnection": true},
                  {"path": "*", "times": 2, "status": 429}]'
    '|"failureRate": 0.05, "latencyMs": 20'
  )
  for ((trial = 1; trial <= fault_trials; trial++)); do
    trials=$((trials + 1))
    local rev=$((1000 + trial)) setting="${settings[$(((trial - 1) % ${#settings[@]}))]}"
    local extra_env="${setting%%|*}"
    setting="${setting#*|}"
    kube_config "$rev" "$base"
    faults "{$setting, \"seed\": $((seed * 100 + trial))}"
    local code=0
    # shellcheck disable=SC2086 # extra_env is empty or one NAME=VALUE
    (cd "$proj" && env $extra_env "$BRAID_BIN" --env chaos apply -q --auto-approve) >"$work/fault.out" 2>&1 || code=$?
    faults '{}'
    local fault_code="$code"
    if [ "$code" != 0 ] && [ "$code" != 1 ]; then
      violation "fault trial $trial: apply exits $code, not 0 or 1: $(tail -5 "$work/fault.out")"
    fi
    if grep -q "panicked" "$work/fault.out"; then violation "fault trial $trial: apply panicked"; fi
    [ "$code" = 0 ] || failed_applies=$((failed_applies + 1))
    # A clean failure releases the lock: no stealing needed.
    code=0
    b apply -q --auto-approve >"$work/fault-again.out" 2>&1 || code=$?
    [ "$code" = 0 ] || violation "fault trial $trial: apply without faults exits $code: $(tail -5 "$work/fault-again.out")"
    check_kube "fault trial $trial"
    log "    trial $trial: faults {$(echo "$setting" | tr -s ' \n' ' ')}${extra_env:+ with $extra_env}: apply exit $fault_code; converged without faults"
  done
}

# --- run ---------------------------------------------------------------------------------

log "chaos: seed $seed, $kills kills per project, $concurrent concurrent applies, $fault_trials fault trials"
log "       braid $BRAID_BIN, kubesim $KUBESIM_BIN, work $work"

proj="$work/local"
mkdir -p "$proj"
kill_campaign local local_config check_local "$local_files"

log "==> $concurrent concurrent applies on one environment (local project)"
concurrent_round "concurrent, no waiting" 5001 0
concurrent_round "concurrent, --lock-timeout 2m" 5002 2m

start_kubesim
proj="$work/kube"
mkdir -p "$proj"
kill_campaign kubesim kube_config check_kube "$objects"
fault_campaign

log ""
log "chaos summary: seed $seed, $trials trials, $kills_done kills, $finished_before_kill applies finished before their kill, $failed_applies applies failed cleanly under faults, $violations violations, $((SECONDS - started)) s"
[ "$violations" = 0 ]
