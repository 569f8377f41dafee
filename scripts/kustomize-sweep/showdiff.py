#!/usr/bin/env python3
"""Prints how kubectl's and braid's outputs differ for the `differ` cases of a results JSON.

For each `differ` case of RESULTS (written by compare.py), or only those named, the objects
only one side output are paired by (kind, name): a pair is shown as a unified diff of the
two objects as YAML with sorted keys (kubectl's first), an unpaired object as `K-only` (only
kubectl output it) or `B-only` (only braid did). A case whose braid output is not YAML
shows that in its header line.

Usage: showdiff.py RESULTS [CASE...]
"""
import difflib
import json
import sys

import yaml


def ident(d):
    md = d.get('metadata') or {}
    return (d.get('kind'), md.get('name'))


def show(x):
    print('=====', x['case'], x.get('note', ''))
    ko = [json.loads(o) for o in x.get('konly', [])]
    bo = [json.loads(o) for o in x.get('bonly', [])]
    bk = {ident(d): d for d in bo}
    used = set()
    for d in ko:
        b = bk.get(ident(d))
        if b is None:
            print('  K-only:', ident(d))
            continue
        used.add(ident(d))
        a = yaml.safe_dump(d, sort_keys=True).splitlines()
        c = yaml.safe_dump(b, sort_keys=True).splitlines()
        print('  diff', ident(d))
        print('\n'.join('    ' + line for line in
                        difflib.unified_diff(a, c, 'kubectl', 'braid', n=1, lineterm='')))
    for d in bo:
        if ident(d) not in used:
            print('  B-only:', ident(d))


def main():
    if len(sys.argv) < 2:
        sys.exit('usage: showdiff.py RESULTS [CASE...]')
    with open(sys.argv[1]) as f:
        results = json.load(f)
    only = sys.argv[2:]
    for x in results:
        if x['cls'] != 'differ':
            continue
        if only and x['case'] not in only:
            continue
        show(x)


if __name__ == '__main__':
    main()
