#!/usr/bin/env python3
"""Runs `kubectl kustomize` and braid's renderer on every case of a manifest and classifies.

Both run from the case directory on the case's `build` (a relative directory), with a
minimal environment (PATH=/usr/bin:/bin and an empty HOME) and a 60 s timeout. Both outputs
are parsed as YAML streams and compared as sorted lists of objects with sorted keys (so the
order of the objects and of the keys does not count; everything else does). Each case gets
one class:

  identical                      both render, the same objects
  both-refuse                    both fail (counted as a match; the messages are not compared)
  differ                         both render, different objects (konly/bonly hold the objects
                                 only kubectl / only braid output), or braid's output is not YAML
  braid-refuses-kubectl-renders  braid fails, kubectl renders
  braid-renders-kubectl-refuses  braid renders, kubectl fails
  kubectl-output-unparseable     kubectl renders something that is not YAML

MANIFEST is the JSON written by extract_krusty.py / extract_examples.py ({"cases": [...]}),
of which the cases whose `skip` is empty are compared, or a plain list of {case, build}, all
of which are compared. The results (one object per case: case, build, krc, brc, kerr, berr,
cls, and for `differ` konly/bonly/note) are written to OUTJSON. The totals per class and the
cases that do not match (neither identical nor both-refuse) are printed.

Usage: compare.py [--render PATH] [--kubectl PATH] [--jobs N] ROOT MANIFEST OUTJSON
  ROOT        the directory holding the case directories
  --render    braid's renderer (`cargo build -p braid-kustomize --example render`);
              default $BRAID_KUSTOMIZE_RENDER
  --kubectl   default: `kubectl` on PATH
"""
import argparse
import concurrent.futures as cf
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter

import yaml

MATCHING = ('identical', 'both-refuse')


def run(cmd, cwd, home):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60,
                           env={'PATH': '/usr/bin:/bin', 'HOME': home})
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return 124, '', 'timeout'


def canon(text):
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    return sorted(json.dumps(d, sort_keys=True, default=str) for d in docs)


def one(c, root, kubectl, render, home):
    d = os.path.join(root, c['case'])
    b = c.get('build', '.')
    krc, kout, kerr = run([kubectl, 'kustomize', b], d, home)
    brc, bout, berr = run([render, b], d, home)
    res = dict(case=c['case'], build=b, krc=krc, brc=brc,
               kerr=kerr.strip()[-1500:] if krc else '', berr=berr.strip()[-1500:] if brc else '')
    if krc and brc:
        res['cls'] = 'both-refuse'
    elif krc:
        res['cls'] = 'braid-renders-kubectl-refuses'
    elif brc:
        res['cls'] = 'braid-refuses-kubectl-renders'
    else:
        try:
            kc = canon(kout)
        except Exception as e:
            res['cls'] = 'kubectl-output-unparseable'
            res['note'] = str(e)
            return res
        try:
            bc = canon(bout)
        except Exception as e:
            res['cls'] = 'differ'
            res['note'] = 'braid output unparseable: ' + str(e)
            return res
        if kc == bc:
            res['cls'] = 'identical'
        else:
            res['cls'] = 'differ'
            res['konly'] = [x for x in kc if x not in bc]
            res['bonly'] = [x for x in bc if x not in kc]
    return res


def load_cases(path):
    with open(path) as f:
        manifest = json.load(f)
    if isinstance(manifest, dict):
        return [dict(case=c['case'], build=c['build']) for c in manifest['cases'] if not c['skip']]
    return manifest


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root')
    parser.add_argument('manifest')
    parser.add_argument('outjson')
    parser.add_argument('--render', default=os.environ.get('BRAID_KUSTOMIZE_RENDER'))
    parser.add_argument('--kubectl', default=shutil.which('kubectl'))
    parser.add_argument('--jobs', type=int, default=2)
    args = parser.parse_args()
    if not args.render:
        sys.exit('no renderer: pass --render or set BRAID_KUSTOMIZE_RENDER')
    if not args.kubectl:
        sys.exit('kubectl is not on PATH (or pass --kubectl)')
    # Absolute: both run from the case directories.
    render = os.path.abspath(args.render)
    kubectl = os.path.abspath(args.kubectl)
    root = os.path.abspath(args.root)

    cases = load_cases(args.manifest)
    with tempfile.TemporaryDirectory(prefix='kustomize-sweep-home.') as home:
        with cf.ThreadPoolExecutor(args.jobs) as ex:
            results = list(ex.map(lambda c: one(c, root, kubectl, render, home), cases))
    with open(args.outjson, 'w') as f:
        json.dump(results, f, indent=1)

    counts = Counter(r['cls'] for r in results)
    matching = sum(counts[cls] for cls in MATCHING)
    print(f'{len(results)} cases, {matching} matching (identical or both refuse):',
          ', '.join(f'{cls} {n}' for cls, n in counts.most_common()))
    for r in sorted(results, key=lambda r: (r['cls'], r['case'])):
        if r['cls'] not in MATCHING:
            print(f'  {r["cls"]:30} {r["case"]}')


if __name__ == '__main__':
    main()
