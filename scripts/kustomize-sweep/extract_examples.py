#!/usr/bin/env python3
"""Extracts the cases of Kustomize's examples/ directory, one directory per `kustomize build`.

Two sources:

* The walkthroughs, examples/*.md. Their shell blocks tagged for mdrip (a code block right
  after an `<!-- @label ... -->` comment) are run in order, as one bash script per
  walkthrough, in a scratch directory, with `kustomize` replaced by a function that records
  instead of building: each `kustomize build DIR` copies the walkthrough's $DEMO_HOME as it
  is at that point to OUT/<walkthrough>__<n>/, with DIR (relative to $DEMO_HOME) as the
  case's `build`. kubectl, curl, git, go and helm are stubs, so nothing is applied and nothing
  is downloaded.
* The example directories in the tree: for every directory examples/<D>/ holding a
  kustomization (at any depth), the whole of examples/<D>/ is copied to
  OUT/ex-<D>__<dir, with / as _, or root>/, and that directory is the case's `build`.

Walkthroughs that need plugins, Helm or the network (SKIP below) are run, so the numbering of
the others does not depend on them, but their cases are listed with the reason in `skip` and
not kept on disk.

The manifest, {"cases": [{case, build, source, skip}]}, is written next to OUT as
manifest-<basename of OUT>.json (the walkthroughs' cases first, then the directories').

Usage: extract_examples.py SRC OUT [SCRATCH]
  SRC      Kustomize's examples/ directory
  OUT      the directory to write the cases into (emptied first)
  SCRATCH  where the walkthroughs' scripts run (emptied first; default OUT-scratch)
"""
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

# Walkthroughs whose cases are not compared, and why.
SKIP = {
    'chart': 'helm (helmCharts runs the helm command)',
    'goGetterGeneratorPlugin': 'exec plugin (go-getter) and network',
    'loadHttp': 'network (remote resource over HTTPS)',
    'remoteBuild': 'network (remote git bases)',
    'secretGeneratorPlugin': 'exec and Go plugins',
    'validatorPlugin': 'exec plugin (validator)',
}

KUSTOMIZATION_FILES = ('kustomization.yaml', 'kustomization.yml', 'Kustomization')

# `kustomize build [flags] [DIR]` records $DEMO_HOME and DIR; every other use does nothing.
# $OUT and $NAME are set by the script's prologue.
RECORDING_KUSTOMIZE = r'''kustomize() {
  if [ "$1" = build ]; then
    shift
    args=()
    for a in "$@"; do case "$a" in --*) ;; *) args+=("$a") ;; esac; done
    d="${args[0]:-.}"
    d="$(realpath -m "$d")"
    N=$((N + 1))
    c="$OUT/${NAME}__$N"
    mkdir -p "$c"
    cp -r "$DEMO_HOME/." "$c/"
    rel="${d#"$DEMO_HOME"}"
    rel="${rel#/}"
    echo "${rel:-.}" > "$c.build"
  fi
  return 0
}'''

STUBS = [
    'kubectl() { return 0; }',
    'curl() { echo "curl skipped" >&2; return 1; }',
    'git() { return 1; }',
    'go() { return 1; }',
    'helm() { return 1; }',
    'export -f kustomize kubectl curl git go helm 2>/dev/null',
]


def walkthrough_cases(src, out, scratch):
    """Runs every walkthrough's mdrip blocks; returns [(walkthrough, number of blocks)]."""
    summary = []
    for md in sorted(glob.glob(os.path.join(src, '*.md'))):
        name = os.path.basename(md)[:-3]
        if name == 'README':
            continue
        with open(md) as f:
            text = f.read()
        # mdrip convention: code blocks preceded by <!-- @label ... -->
        blocks = re.findall(r'<!--\s*@(\w+)[^>]*-->\s*\n```[a-z]*\n(.*?)\n```', text, re.S)
        if not blocks:
            continue
        demo = os.path.join(scratch, name)
        script = ['set +e',
                  f'OUT={shlex.quote(out)}',
                  f'NAME={shlex.quote(name)}',
                  f'export DEMO_HOME={shlex.quote(demo)}',
                  'mkdir -p "$DEMO_HOME"',
                  'cd "$DEMO_HOME"',
                  'N=0',
                  RECORDING_KUSTOMIZE] + STUBS
        for label, body in blocks:
            script.append(f'# @{label}')
            script.append(body)
        script_path = os.path.join(scratch, name + '.sh')
        with open(script_path, 'w') as f:
            f.write('\n'.join(script) + '\n')
        try:
            subprocess.run(['bash', script_path], capture_output=True, text=True, timeout=60,
                           cwd=scratch, env={'PATH': '/usr/bin:/bin', 'HOME': scratch,
                                             'TMPDIR': os.path.join(scratch, 'tmp')})
        except subprocess.TimeoutExpired:
            print(f'{name}: the walkthrough timed out; its cases so far are kept', file=sys.stderr)
        summary.append((name, len(blocks)))

    cases = []
    for build_file in sorted(glob.glob(os.path.join(out, '*.build'))):
        case_dir = build_file[:-len('.build')]
        case = os.path.basename(case_dir)
        with open(build_file) as f:
            build = f.read().strip()
        os.remove(build_file)
        walkthrough = case.rsplit('__', 1)[0]
        skip = [SKIP[walkthrough]] if walkthrough in SKIP else []
        if skip:
            shutil.rmtree(case_dir)
        cases.append(dict(case=case, build=build, source=f'{walkthrough}.md', skip=skip))
    return summary, cases


def directory_cases(src, out):
    """Copies every example directory holding a kustomization once per kustomization."""
    cases = []
    for top in sorted(os.listdir(src)):
        top_dir = os.path.join(src, top)
        if not os.path.isdir(top_dir):
            continue
        builds = []
        for dirpath, dirnames, filenames in os.walk(top_dir):
            dirnames.sort()
            if any(k in filenames for k in KUSTOMIZATION_FILES):
                builds.append(os.path.relpath(dirpath, top_dir))
        for build in builds:
            case = f'ex-{top}__' + ('root' if build == '.' else build.replace(os.sep, '_'))
            shutil.copytree(top_dir, os.path.join(out, case))
            cases.append(dict(case=case, build=build, source=f'{top}/', skip=[]))
    return cases


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit('usage: extract_examples.py SRC OUT [SCRATCH]  (SRC: kustomize\'s examples/ directory)')
    src = os.path.realpath(sys.argv[1])
    out = os.path.realpath(sys.argv[2])
    scratch = os.path.realpath(sys.argv[3] if len(sys.argv) == 4 else out + '-scratch')
    if not os.path.isdir(src):
        sys.exit(f'no such directory: {src}')
    for d in (out, scratch):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    os.makedirs(os.path.join(scratch, 'tmp'))

    summary, cases = walkthrough_cases(src, out, scratch)
    cases += directory_cases(src, out)

    manifest_path = os.path.join(os.path.dirname(out), 'manifest-' + os.path.basename(out) + '.json')
    with open(manifest_path, 'w') as f:
        json.dump(dict(cases=cases), f, indent=1)
    kept = sum(1 for c in cases if not c['skip'])
    print('walkthroughs', len(summary), 'cases', len(cases), 'written', kept,
          'skipped-cases', len(cases) - kept)


if __name__ == '__main__':
    main()
