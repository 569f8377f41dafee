#!/usr/bin/env python3
"""Extracts Kustomize's krusty tests (api/krusty/*_test.go) into one directory per case.

A tiny interpreter for the subset of Go those tests use: package consts and vars, helper
functions taking the harness, table-driven tests (slices and maps of structs, FileGen
closures), t.Run subtests, th.WriteK/WriteC/WriteF, os.ReadFile of testdata, and
th.Run/RunWithErr. Every th.Run / th.RunWithErr becomes one case: a snapshot of the test's
in-memory file system at that point, written to OUT/<Test>[__<subtest>][__<n>]/. The
directory the test builds is the case's `build` (relative to the case directory); the
test's own expected output, when it is a plain string, is written to
OUT/<case>.krusty-expected.

A run that needs what `kubectl kustomize` cannot do or set (exec/Go plugins, Helm, legacy
configs, LoadRestrictionsNone, other harness options, remote files) is listed with the
reasons in its `skip` and not written. Tests that gave no run (the interpreter stopped
before one, or the test has none) are listed under `skipped` with why.

The manifest, {"cases": [{case, test, file, build, err, plugins, skip, partial_error}],
"skipped": [{test, file, why}]}, is written next to OUT as manifest-<basename of OUT>.json.

Usage: extract_krusty.py SRC OUT
  SRC  Kustomize's api/krusty directory (with its testdata/)
  OUT  the directory to write the cases into (created if missing)
"""
import glob
import json
import os
import posixpath
import re
import shutil
import sys

# Set by main(): the api/krusty directory (os.ReadFile in the tests reads below it).
SRC = None


# ---------------------------------------------------------------- tokenizer
TOK = re.compile(r'''
 (?P<ws>[ \t\r]+) |
 (?P<nl>\n) |
 (?P<lc>//[^\n]*) |
 (?P<bc>/\*.*?\*/) |
 (?P<raw>`[^`]*`) |
 (?P<str>"(?:\\.|[^"\\\n])*") |
 (?P<rune>'(?:\\.|[^'\\\n])+') |
 (?P<num>0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?) |
 (?P<id>[A-Za-z_][A-Za-z0-9_]*) |
 (?P<op>:=|==|!=|<=|>=|&&|\|\||\.\.\.|\+\+|--|\+=|[-+*/%&|^<>=!:;,.(){}\[\]])
''', re.S | re.X)


class T:
    __slots__ = ('k', 'v', 'nl')

    def __init__(s, k, v):
        s.k, s.v, s.nl = k, v, False

    def __repr__(s):
        return f'{s.k}:{s.v}'


def tokenize(src):
    out = []
    pos = 0
    while pos < len(src):
        m = TOK.match(src, pos)
        if not m:
            raise SyntaxError(f'bad char at {pos}: {src[pos:pos+20]!r}')
        pos = m.end()
        k = m.lastgroup
        v = m.group()
        if k in ('ws', 'lc'):
            continue
        if k == 'bc':
            if '\n' in v and out:
                out[-1].nl = True
            continue
        if k == 'nl':
            if out:
                out[-1].nl = True
            continue
        if k == 'raw':
            out.append(T('s', v[1:-1].replace('\r', '')))
        elif k == 'str':
            out.append(T('s', json.loads(v) if '\\x' not in v else bytes(v[1:-1], 'utf-8').decode('unicode_escape')))
        else:
            out.append(T(k, v))
    out.append(T('eof', ''))
    return out


class Unsupported(Exception):
    pass


# ---------------------------------------------------------------- parser (AST as tuples)
class P:
    def __init__(s, toks, i=0):
        s.t = toks
        s.i = i

    def peek(s, o=0):
        return s.t[min(s.i + o, len(s.t) - 1)]

    def next(s):
        t = s.t[s.i]
        s.i += 1
        return t

    def at(s, v, o=0):
        t = s.peek(o)
        return t.k in ('op', 'id') and t.v == v

    def expect(s, v):
        t = s.next()
        if t.v != v:
            raise SyntaxError(f'expected {v} got {t}')
        return t

    def skip_balanced(s):
        # at an opening bracket; skip to after the matching close
        pairs = {'(': ')', '[': ']', '{': '}'}
        stack = [pairs[s.next().v]]
        while stack:
            t = s.next()
            if t.k == 'eof':
                raise SyntaxError('eof')
            if t.k == 'op' and t.v in pairs:
                stack.append(pairs[t.v])
            elif t.k == 'op' and t.v == stack[-1]:
                stack.pop()

    def block_tokens(s):
        # at '{': return tokens inside, advance after '}'
        start = s.i + 1
        s.skip_balanced()
        return s.t[start:s.i - 1] + [T('eof', '')]

    # types
    def parse_type(s):
        t = s.peek()
        if s.at('['):
            s.next()
            if not s.at(']'):
                while not s.at(']'):
                    s.next()
            s.expect(']')
            return ('slice', s.parse_type())
        if s.at('map'):
            s.next()
            s.expect('[')
            s.parse_type()
            s.expect(']')
            return ('map', s.parse_type())
        if s.at('struct'):
            s.next()
            s.skip_balanced()
            return ('struct',)
        if s.at('*'):
            s.next()
            return s.parse_type()
        if s.at('func'):
            s.next()
            s.skip_balanced()
            if s.at('('):
                s.skip_balanced()
            elif not s.t[s.i - 1].nl and (s.peek().k == 'id' or s.at('[') or s.at('*')) and not s.at('{'):
                s.parse_type()
            return ('func',)
        if s.at('interface'):
            s.next()
            s.skip_balanced()
            return ('iface',)
        if t.k == 'id':
            s.next()
            name = t.v
            if s.at('.'):
                s.next()
                name += '.' + s.next().v
            return ('named', name)
        raise SyntaxError(f'type? {t}')

    def is_type_start(s):
        return s.at('[') or s.at('map') or s.at('struct')

    def parse_expr(s, nocomp=False):
        return s.parse_binary(0, nocomp)

    PREC = {'||': 1, '&&': 2, '==': 3, '!=': 3, '<': 3, '<=': 3, '>': 3, '>=': 3,
            '+': 4, '-': 4, '|': 4, '^': 4, '*': 5, '/': 5, '%': 5, '&': 5}

    def parse_binary(s, minp, nocomp):
        left = s.parse_unary(nocomp)
        while True:
            t = s.peek()
            if t.k == 'op' and t.v in s.PREC and s.PREC[t.v] > minp:
                # binary operator must be on same line-ish: Go allows op at end of line
                s.next()
                right = s.parse_binary(s.PREC[t.v], nocomp)
                left = ('bin', t.v, left, right)
            else:
                return left

    def parse_unary(s, nocomp):
        if s.at('&') or s.at('!') or s.at('-') or s.at('*'):
            op = s.next().v
            return ('unary', op, s.parse_unary(nocomp))
        return s.parse_primary(nocomp)

    def parse_composite_body(s):
        s.expect('{')
        elems = []
        while not s.at('}'):
            if s.at('{'):
                v = ('comp', None, s.parse_composite_body())
            else:
                v = s.parse_expr()
            if s.at(':'):
                s.next()
                k = v
                if s.at('{'):
                    v = ('comp', None, s.parse_composite_body())
                else:
                    v = s.parse_expr()
                elems.append((k, v))
            else:
                elems.append((None, v))
            if s.at(','):
                s.next()
            elif not s.at('}'):
                raise SyntaxError(f'composite: {s.peek()}')
        s.expect('}')
        return elems

    def parse_primary(s, nocomp):
        t = s.peek()
        if t.k == 's':
            s.next()
            x = ('str', t.v)
        elif t.k == 'num':
            s.next()
            x = ('num', t.v)
        elif t.k == 'rune':
            s.next()
            x = ('other', t.v)
        elif s.at('('):
            s.next()
            x = s.parse_expr()
            s.expect(')')
        elif s.at('func'):
            s.next()
            params = s.parse_params()
            # results
            if s.at('('):
                s.skip_balanced()
            elif not s.at('{'):
                s.parse_type()
            body = s.block_tokens()
            x = ('funclit', params, body)
        elif s.is_type_start():
            ty = s.parse_type()
            if s.at('{'):
                x = ('comp', ty, s.parse_composite_body())
            elif s.at('('):
                s.next()
                a = s.parse_expr()
                s.expect(')')
                x = a  # conversion
            else:
                x = ('type', ty)
        elif t.k == 'id':
            s.next()
            x = ('id', t.v)
        else:
            raise SyntaxError(f'primary? {t}')
        # postfix
        while True:
            if s.at('.'):
                s.next()
                if s.at('('):  # type assertion
                    s.skip_balanced()
                    continue
                x = ('sel', x, s.next().v)
            elif s.at('(') :
                s.next()
                args = []
                while not s.at(')'):
                    if s.is_type_start():
                        args.append(('type', s.parse_type()))
                    else:
                        args.append(s.parse_expr())
                    if s.at('...'):
                        s.next()
                        args[-1] = ('spread', args[-1])
                    if s.at(','):
                        s.next()
                s.expect(')')
                x = ('call', x, args)
            elif s.at('['):
                s.next()
                idx = None if s.at(':') else s.parse_expr()
                if s.at(':'):
                    s.next()
                    b = None if s.at(']') else s.parse_expr()
                    s.expect(']')
                    x = ('slice', x, idx, b)
                    continue
                s.expect(']')
                x = ('index', x, idx)
            elif s.at('{') and not nocomp and x[0] in ('id', 'sel') and not s.t[s.i - 1].nl:
                x = ('comp', ('named', x), s.parse_composite_body())
            else:
                return x

    def parse_params(s):
        s.expect('(')
        names = []
        group = []
        while not s.at(')'):
            # name type | name, name type | type
            if s.peek().k == 'id' and (s.at(',', 1) or s.at(')', 1)):
                group.append(s.next().v)
                if s.at(','):
                    s.next()
                continue
            if s.peek().k == 'id' and not s.at('.', 1):
                group.append(s.next().v)
                if s.at('...'):
                    s.next()
                s.parse_type()
                names.extend(group)
                group = []
            else:
                s.parse_type()
                group = []
            if s.at(','):
                s.next()
        s.expect(')')
        names.extend(group)
        return names


# ---------------------------------------------------------------- runtime
class Func:
    def __init__(s, name, params, body, closure):
        s.name, s.params, s.body, s.closure = name, params, body, closure


class Ret(Exception):
    def __init__(s, v):
        s.v = v


class Harness:
    def __init__(s, ctx, kind='plain'):
        s.ctx = ctx
        s.fs = {}
        s.kind = kind
        s.root = '/'
        s.flags = set()


class Opts(dict):
    pass


class Ctx:
    def __init__(s, test):
        s.test = test
        s.runs = []
        s.subname = []


def norm(p):
    if not p.startswith('/'):
        p = '/' + p
    return posixpath.normpath(p)


GLOBALS = {}
FUNCS = {}


def call_value(f, args, ctx):
    if callable(f) and not isinstance(f, Func):
        return f(*args)
    if isinstance(f, Func):
        env = Env(f.closure)
        for i, p in enumerate(f.params):
            env.vars[p] = args[i] if i < len(args) else None
        try:
            exec_block(f.body, env, ctx)
        except Ret as r:
            return r.v
        return None
    raise Unsupported(f'call of {f!r}')


class Env:
    def __init__(s, parent=None):
        s.vars = {}
        s.parent = parent

    def get(s, k):
        e = s
        while e is not None:
            if k in e.vars:
                return e.vars[k]
            e = e.parent
        if k in GLOBALS:
            v = GLOBALS[k]
            if isinstance(v, tuple) and v and v[0] == '__lazy__':
                v = ev(v[1], Env(), None)
                GLOBALS[k] = v
            return v
        if k in FUNCS:
            name, params, body = FUNCS[k]
            return Func(name, params, body, Env())
        if k in ('nil',):
            return None
        if k == 'true':
            return True
        if k == 'false':
            return False
        raise Unsupported(f'unknown ident {k}')

    def set(s, k, v):
        e = s
        while e is not None:
            if k in e.vars:
                e.vars[k] = v
                return
            e = e.parent
        s.vars[k] = v


def harness_method(h, name, ctx):
    def writeK(path, content, fname='kustomization.yaml', head='\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n'):
        h.fs[norm(posixpath.join(hroot(h, path), fname))] = head + content

    def hroot(h, p):
        return p

    if name == 'WriteK':
        return lambda p, c: writeK(p, c)
    if name == 'WriteC':
        return lambda p, c: writeK(p, c, head='\napiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n')
    if name == 'WriteF':
        def wf(p, c):
            h.fs[norm(p)] = c
        return wf
    if name in ('MakeDefaultOptions', 'MakeOptionsPluginsDisabled'):
        return lambda: Opts()
    if name == 'MakeOptionsPluginsEnabled':
        return lambda: Opts(plugins=True)
    if name in ('Run', 'RunWithErr'):
        def run(path, opts=None):
            ctx.runs.append(dict(fs=dict(h.fs), path=norm(path), err=(name == 'RunWithErr'),
                                 opts=dict(opts or {}), flags=set(h.flags), sub='/'.join(ctx.subname)))
            return ('resmap', len(ctx.runs) - 1)
        return run
    if name in ('AssertActualEqualsExpected', 'AssertActualEqualsExpectedNoIdAnnotations'):
        def a(m, exp):
            if isinstance(m, tuple) and m[0] == 'resmap':
                ctx.runs[m[1]]['expected'] = exp
        return a
    if name in ('PrepBuiltin',):
        return lambda *a: h
    if name in ('PrepExecPlugin', 'BuildGoPlugin'):
        def pp(*a):
            h.flags.add('exec/go plugin')
            return h
        return pp
    if name == 'ErrIfNoHelm':
        def eh():
            h.flags.add('helm')
            return None
        return eh
    if name == 'GetRoot':
        return lambda: h.root
    if name == 'MkDir':
        return lambda p: posixpath.join(h.root, p)
    if name in ('Reset',):
        return lambda: None
    if name == 'GetT':
        return lambda: None
    if name == 'GetFSys':
        return lambda: ('fsys', h)
    if name == 'WriteLegacyConfigs':
        def wl(p):
            h.flags.add('legacy configs')
        return wl
    raise Unsupported(f'harness method {name}')


def builtin_sel(pkg, name, ctx):
    key = f'{pkg}.{name}'
    if key == 'filepath.Join':
        return lambda *a: posixpath.join(*[x for x in a if x != '']) if a else ''
    if key == 'filepath.Dir':
        return posixpath.dirname
    if key == 'filepath.Base':
        return posixpath.basename
    if key == 'fmt.Sprintf':
        def spf(f, *a):
            it = iter(a)
            def rep(m):
                if m.group() == '%%':
                    return '%'
                v = next(it)
                return str(v) if not isinstance(v, bool) else ('true' if v else 'false')
            return re.sub(r'%[-+# 0-9.]*[svdqtx%]', rep, f)
        return spf
    if key == 'strings.ReplaceAll':
        return lambda s, a, b: s.replace(a, b)
    if key == 'strings.Join':
        return lambda l, sep: sep.join(l)
    if key == 'strings.TrimSpace':
        return lambda s: s.strip()
    if key == 'strings.Repeat':
        return lambda s, n: s * int(n)
    if key == 'konfig.DefaultKustomizationFileName':
        return lambda: 'kustomization.yaml'
    if key == 'konfig.RecognizedKustomizationFileNames':
        return lambda: ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    if key in ('kusttest_test.MakeHarness',):
        def mh(t):
            return Harness(ctx)
        return mh
    if key == 'kusttest_test.MakeHarnessWithFs':
        def mhf(t, fs):
            h = Harness(ctx)
            if fs == 'disk':
                h.flags.add('on-disk fs')
            return h
        return mhf
    if key == 'kusttest_test.MakeEnhancedHarness':
        def meh(t):
            return Harness(ctx, 'enhanced')
        return meh
    if key == 'kusttest_test.MakeEnhancedHarnessWithTmpRoot':
        def meh2(t):
            h = Harness(ctx, 'enhanced')
            h.root = '/tmproot'
            return h
        return meh2
    if key == 'filesys.MakeFsInMemory':
        return lambda: 'mem'
    if key == 'filesys.MakeFsOnDisk':
        return lambda: 'disk'
    if key in ('types.LoadRestrictionsNone', 'types.LoadRestrictionsRootOnly', 'krusty.ReorderOptionLegacy',
               'krusty.ReorderOptionNone', 'krusty.ReorderOptionUnspecified', 'types.BploLoadFromFileSys',
               'types.BploUseStaticallyLinked'):
        return key
    if key == 'os.ReadFile':
        def rf(p):
            try:
                return Multi([open(os.path.join(SRC, p)).read(), None])
            except OSError:
                raise Unsupported('os.ReadFile ' + p)
        return rf
    if pkg in ('require', 'assert', 'openapi'):
        return lambda *a: None
    if key in ('t.Helper', 't.Parallel', 't.Skip', 't.Log', 't.Logf'):
        return lambda *a: None
    raise Unsupported(f'builtin {key}')


def ev(n, env, ctx):
    k = n[0]
    if k == 'str':
        return n[1]
    if k == 'num':
        return int(n[1], 0) if n[1][0].isdigit() and '.' not in n[1] else float(n[1])
    if k == 'id':
        return env.get(n[1])
    if k == 'bin':
        if n[1] == '+':
            a, b = ev(n[2], env, ctx), ev(n[3], env, ctx)
            if isinstance(a, str) and isinstance(b, str):
                return a + b
            if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                return a + b
            raise Unsupported('bad +')
        if n[1] in ('==', '!='):
            a, b = ev(n[2], env, ctx), ev(n[3], env, ctx)
            return (a == b) if n[1] == '==' else (a != b)
        raise Unsupported(f'op {n[1]}')
    if k == 'unary':
        v = ev(n[2], env, ctx)
        if n[1] == '!':
            return not v
        if n[1] == '&':
            return v
        raise Unsupported('unary')
    if k == 'sel':
        x = n[1]
        if x[0] == 'id':
            try:
                base = env.get(x[1])
            except Unsupported:
                return builtin_sel(x[1], n[2], ctx)
        else:
            base = ev(x, env, ctx)
        if isinstance(base, Harness):
            if n[2] == 'Harness':
                return base
            return harness_method(base, n[2], ctx)
        if base is None:
            return lambda *a: None
        if isinstance(base, dict):
            if isinstance(base, Opts):
                return base.get(n[2])
            return base.get(n[2], '')
        if isinstance(base, tuple) and base and base[0] == 'fsys':
            h = base[1]
            if n[2] == 'WriteFile':
                def wf(p, c):
                    h.fs[norm(p)] = c if isinstance(c, str) else c
                return wf
            if n[2] in ('Mkdir', 'MkdirAll'):
                return lambda p: None
            raise Unsupported(f'fsys.{n[2]}')
        raise Unsupported(f'select {n[2]} on {type(base).__name__}')
    if k == 'call':
        f = n[1]
        if f[0] == 'id' and f[1] in ('string', '[]byte'):
            return ev(n[2][0], env, ctx)
        if f[0] == 'id' and f[1] == 'len':
            return len(ev(n[2][0], env, ctx))
        if f[0] == 'id' and f[1] == 'append':
            base = list(ev(n[2][0], env, ctx) or [])
            for a in n[2][1:]:
                if a[0] == 'spread':
                    base.extend(ev(a[1], env, ctx))
                else:
                    base.append(ev(a, env, ctx))
            return base
        if f[0] == 'type':
            return ev(n[2][0], env, ctx)
        fv = ev(f, env, ctx)
        args = []
        for a in n[2]:
            if a[0] == 'type':
                args.append(None)
            elif a[0] == 'spread':
                args.extend(ev(a[1], env, ctx))
            else:
                args.append(ev(a, env, ctx))
        return call_value(fv, args, ctx)
    if k == 'comp':
        ty = n[1]
        elems = n[2]
        keyed = any(kk is not None for kk, _ in elems)
        is_map = ty is not None and ty[0] == 'map'
        if keyed:
            d = {}
            for kk, vv in elems:
                if kk[0] == 'id' and not is_map:
                    key = kk[1]
                else:
                    key = ev(kk, env, ctx)
                d[key] = ev_lazy(vv, env, ctx)
            if is_map:
                d = {'__map__': True, **d}
            return d
        if ty is not None and ty[0] == 'map':
            return {'__map__': True}
        if ty is not None and ty[0] == 'named' and not isinstance(ty[1], tuple) and ty[1] not in ('FileGen',):
            # struct literal with no keys / positional: unsupported
            if elems:
                raise Unsupported('positional struct')
            return {}
        return [ev_lazy(vv, env, ctx) for _, vv in elems]
    if k == 'funclit':
        return Func('<lit>', n[1], n[2], env)
    if k == 'index':
        base = ev(n[1], env, ctx)
        idx = ev(n[2], env, ctx)
        return base[idx]
    if k == 'slice':
        base = ev(n[1], env, ctx)
        a = ev(n[2], env, ctx) if n[2] else None
        b = ev(n[3], env, ctx) if n[3] else None
        return base[a:b]
    if k == 'type':
        return None
    raise Unsupported(f'expr {k}')


def ev_lazy(n, env, ctx):
    try:
        return ev(n, env, ctx)
    except Unsupported as e:
        return Poison(str(e))


class Multi(list):
    pass


class Poison:
    def __init__(s, why):
        s.why = why

    def __repr__(s):
        return f'<poison {s.why}>'


def check(v):
    if isinstance(v, Poison):
        raise Unsupported(v.why)
    return v


def items_of(v):
    v = check(v)
    if isinstance(v, dict):
        return [(kk, vv) for kk, vv in v.items() if kk != '__map__']
    if isinstance(v, list):
        return list(enumerate(v))
    raise Unsupported('range over non-collection')


def exec_block(toks, env, ctx):
    p = P(toks)
    while p.peek().k != 'eof':
        exec_stmt(p, env, ctx)


def skip_stmt(p):
    # skip to end of line at depth 0
    depth = 0
    while p.peek().k != 'eof':
        t = p.next()
        if t.k == 'op' and t.v in '([{':
            depth += 1
        elif t.k == 'op' and t.v in ')]}':
            depth -= 1
        if depth <= 0 and (t.nl or (t.k == 'op' and t.v == ';')):
            return


def skip_if(p):
    p.next()  # 'if'
    skip_if_rest(p)


def skip_if_rest(p):
    """Skips an if statement's condition, body and else chain (after the `if`)."""
    while not p.at('{'):
        if p.at('(') or p.at('['):
            p.skip_balanced()
        else:
            p.next()
    p.skip_balanced()
    while p.at('else'):
        p.next()
        if p.at('if'):
            skip_if(p)
            return
        p.skip_balanced()


def exec_stmt(p, env, ctx):
    t = p.peek()
    if t.k == 'op' and t.v in (';', '}'):
        p.next()
        return
    if t.k == 'op' and t.v == '{':
        body = p.block_tokens()
        exec_block(body, Env(env), ctx)
        return
    if t.k == 'id' and t.v in ('const', 'var'):
        p.next()
        if p.at('('):
            p.next()
            while not p.at(')'):
                name = p.next().v
                if not p.at('='):
                    p.parse_type()
                p.expect('=')
                ex = p.parse_expr()
                env.vars[name] = ev_lazy(ex, env, ctx)
            p.next()
            return
        names = [p.next().v]
        while p.at(','):
            p.next()
            names.append(p.next().v)
        if not p.at('='):
            p.parse_type()
            if not p.at('='):
                for nm in names:
                    env.vars[nm] = None
                return
        p.expect('=')
        vals = [p.parse_expr()]
        while p.at(','):
            p.next()
            vals.append(p.parse_expr())
        for nm, vx in zip(names, vals):
            env.vars[nm] = ev_lazy(vx, env, ctx)
        return
    if t.k == 'id' and t.v == 'return':
        p.next()
        if t.nl or p.at('}') or p.peek().k == 'eof':
            raise Ret(None)
        ex = p.parse_expr()
        vals = [ex]
        while p.at(','):
            p.next()
            vals.append(p.parse_expr())
        raise Ret(ev_lazy(vals[0], env, ctx))
    if t.k == 'id' and t.v == 'defer':
        skip_stmt(p)
        return
    if t.k == 'id' and t.v == 'if':
        # evaluate simple conditions; otherwise skip header and body (and else chains)
        p.next()
        save = p.i
        try:
            cond = p.parse_expr(nocomp=True)
            if not p.at('{'):
                raise SyntaxError('complex if')
            cv = check(ev(cond, env, ctx))
            body = p.block_tokens()
            if cv is True:
                exec_block(body, Env(env), ctx)
            if p.at('else'):
                p.next()
                if p.at('{'):
                    eb = p.block_tokens()
                    if cv is False:
                        exec_block(eb, Env(env), ctx)
                else:
                    # else if: execute only when the first branch was false
                    if cv is False:
                        exec_stmt(p, env, ctx)
                    else:
                        skip_if(p)  # skip the else-if chain
            return
        except (Unsupported, SyntaxError, KeyError, TypeError):
            p.i = save
        skip_if_rest(p)
        return
    if t.k == 'id' and t.v == 'switch':
        p.next()
        while not p.at('{'):
            p.next()
        p.skip_balanced()
        return
    if t.k == 'id' and t.v == 'for':
        p.next()
        # for k, v := range X {   / for k := range X {  / for _, v = range
        save = p.i
        names = []
        if p.peek().k == 'id' and (p.at(',', 1) or p.at(':=', 1) or p.at('=', 1)):
            names.append(p.next().v)
            if p.at(','):
                p.next()
                names.append(p.next().v)
            p.next()  # := or =
        if p.at('range'):
            p.next()
            coll = p.parse_expr(nocomp=True)
            body = p.block_tokens()
            for kk, vv in items_of(ev(coll, env, ctx)):
                e2 = Env(env)
                if len(names) >= 1:
                    e2.vars[names[0]] = kk
                if len(names) >= 2:
                    e2.vars[names[1]] = vv
                exec_block(body, e2, ctx)
            return
        p.i = save
        while not p.at('{'):
            p.next()
        p.skip_balanced()
        return
    # t.Run(name, func(t) {...})
    if t.k == 'id' and t.v == 't' and p.at('.', 1) and p.peek(2).v == 'Run' and p.at('(', 3):
        p.i += 4
        name_ex = p.parse_expr()
        p.expect(',')
        fl = p.parse_expr()
        p.expect(')')
        try:
            nm = str(check(ev(name_ex, env, ctx)))
        except Unsupported:
            nm = f'sub{len(ctx.runs)}'
        ctx.subname.append(nm)
        try:
            fn = ev(fl, env, ctx)
            call_value(fn, [None], ctx)
        finally:
            ctx.subname.pop()
        return
    # simple statement: lhs := / = expr, or expression
    start = p.i
    try:
        lhs = [p.parse_expr()]
        while p.at(','):
            p.next()
            lhs.append(p.parse_expr())
    except SyntaxError:
        p.i = start
        skip_stmt(p)
        return
    if p.at(':=') or p.at('='):
        p.next()
        rhs = p.parse_expr()
        val = ev_lazy(rhs, env, ctx)
        for i, l in enumerate(lhs):
            v = val
            if len(lhs) > 1:
                v = val[i] if isinstance(val, Multi) else Poison('multi-assign')
            if l[0] == 'id':
                env.set(l[1], v)
            elif l[0] == 'sel':
                # option tweak
                try:
                    base = ev(l[1], env, ctx)
                except Unsupported:
                    base = None
                if isinstance(base, Opts):
                    base[l[2]] = val
                elif isinstance(base, dict):
                    base[l[2]] = val
        return
    if p.at('++') or p.at('--') or p.at('+='):
        skip_stmt(p)
        return
    # expression statement
    for l in lhs:
        if l[0] == 'call':
            ev(l, env, ctx)


# ---------------------------------------------------------------- top level
def load_package(files):
    tests = []
    for fn in files:
        src = open(fn).read()
        toks = tokenize(src)
        p = P(toks)
        while p.peek().k != 'eof':
            if p.at('func'):
                p.next()
                if p.at('('):
                    p.skip_balanced()  # method receiver: skip
                    name = p.next().v
                    p.parse_params()
                    while not p.at('{'):
                        if p.at('(') or p.at('['):
                            p.skip_balanced()
                        else:
                            p.next()
                    p.skip_balanced()
                    continue
                name = p.next().v
                params = p.parse_params()
                while not p.at('{'):
                    if p.at('(') or p.at('['):
                        p.skip_balanced()
                    else:
                        p.next()
                body = p.block_tokens()
                FUNCS[name] = (name, params, body)
                if name.startswith('Test'):
                    tests.append((os.path.basename(fn), name))
            elif p.at('const') or p.at('var'):
                p.next()
                if p.at('('):
                    p.next()
                    while not p.at(')'):
                        names = [p.next().v]
                        while p.at(','):
                            p.next()
                            names.append(p.next().v)
                        if not p.at('='):
                            try:
                                p.parse_type()
                            except SyntaxError:
                                pass
                        if p.at('='):
                            p.next()
                            try:
                                ex = p.parse_expr()
                            except SyntaxError:
                                ex = ('id', '__bad__')
                                while not (p.t[p.i - 1].nl and p.peek().k == 'id') and not p.at(')'):
                                    p.next()
                            for nm in names:
                                GLOBALS[nm] = ('__lazy__', ex)
                    p.next()
                else:
                    name = p.next().v
                    if not p.at('='):
                        p.parse_type()
                    if p.at('='):
                        p.next()
                        ex = p.parse_expr()
                        GLOBALS[name] = ('__lazy__', ex)
            elif p.at('type'):
                p.next()
                p.next()
                p.parse_type()
            else:
                p.next()
    return tests


def safe(s):
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', s).strip('_')[:80]


def main():
    global SRC
    if len(sys.argv) != 3:
        sys.exit('usage: extract_krusty.py SRC OUT  (SRC: kustomize\'s api/krusty directory)')
    SRC, OUT = sys.argv[1], os.path.abspath(sys.argv[2])
    files = sorted(glob.glob(os.path.join(SRC, '*_test.go')))
    if not files:
        sys.exit(f'no *_test.go files in {SRC}')
    tests = load_package(files)
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    skipped = []
    for fn, name in tests:
        ctx = Ctx(name)
        env = Env()
        env.vars['t'] = None
        name_, params, body = FUNCS[name]
        err = None
        try:
            exec_block(body, env, ctx)
        except Ret:
            pass
        except (Unsupported, SyntaxError, KeyError, IndexError, TypeError, StopIteration) as e:
            err = f'{type(e).__name__}: {e}'
        if not ctx.runs:
            skipped.append(dict(test=name, file=fn, why=err or 'no th.Run'))
            continue
        for i, r in enumerate(ctx.runs):
            cname = name
            if r['sub']:
                cname += '__' + safe(r['sub'])
            if len(ctx.runs) > 1 and not r['sub']:
                cname += f'__{i+1}'
            elif len(ctx.runs) > 1 and sum(1 for x in ctx.runs if x['sub'] == r['sub']) > 1:
                cname += f'__{i+1}'
            why = []
            if r['flags']:
                why += sorted(r['flags'])
            o = r['opts']
            if o.get('LoadRestrictions') == 'types.LoadRestrictionsNone':
                why.append('LoadRestrictionsNone')
            for kk in o:
                if kk not in ('LoadRestrictions', 'plugins', 'Reorder'):
                    why.append(f'option {kk}')
            allc = ' '.join(v for v in r['fs'].values() if isinstance(v, str))
            if 'helmCharts' in allc or 'HelmChartInflationGenerator' in allc:
                why.append('helm')
            if 'https://' in allc and ('openapi' in allc or 'resources' in allc):
                if re.search(r'^\s*(-|path:)\s*(https?://|github\.com/)', allc, re.M):
                    why.append('network (remote file)')
            if any(isinstance(v, Poison) for v in r['fs'].values()) or any(not isinstance(v, str) for v in r['fs'].values()):
                why.append('unevaluated file content')
            entry = dict(case=cname, test=name, file=fn, build=r['path'].lstrip('/') or '.', err=r['err'],
                         plugins=bool(o.get('plugins')), skip=why, partial_error=err)
            manifest.append(entry)
            if why:
                continue
            d = os.path.join(OUT, cname)
            if os.path.exists(d):
                shutil.rmtree(d)
            os.makedirs(d)
            for path, content in r['fs'].items():
                fp = os.path.join(d, path.lstrip('/'))
                os.makedirs(os.path.dirname(fp), exist_ok=True)
                with open(fp, 'w') as f:
                    f.write(content)
            os.makedirs(os.path.join(d, r['path'].lstrip('/')), exist_ok=True)
            if 'expected' in r and isinstance(r['expected'], str):
                with open(d + '.krusty-expected', 'w') as f:
                    f.write(r['expected'])
    manifest_path = os.path.join(os.path.dirname(OUT), 'manifest-' + os.path.basename(OUT) + '.json')
    with open(manifest_path, 'w') as f:
        json.dump(dict(cases=manifest, skipped=skipped), f, indent=1)
    print('tests', len(tests), 'cases', len(manifest), 'written', sum(1 for m in manifest if not m['skip']),
          'skipped-cases', sum(1 for m in manifest if m['skip']), 'tests-without-runs', len(skipped))


if __name__ == '__main__':
    main()
