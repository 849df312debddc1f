#!/usr/bin/env python3
"""File-level import-cycle checker for one Rust crate (STYLE habit 16: no import cycle between files).

Usage: import_cycles.py [--edges] [--no-tests] CRATE_SRC_DIR

Graph: file A -> file B when A uses an item (struct, enum, union, trait, type,
fn, const, static, macro_rules!) DEFINED in B, A != B.

- The module tree is read from `mod x;` (x.rs or x/mod.rs) and inline
  `mod x { .. }` (an inline module belongs to its file).
- Every `use` leaf (at any depth) and every path expression `a::b::c` in code
  is resolved segment by segment from the scope it appears in: `crate`,
  `self`, `super`, child modules, items, and names brought in by `use`
  (followed, through any number of re-exports, to the file that defines the
  item). Names that resolve to nothing in the crate (std, chrono, ...) are
  ignored.
- A `pub`/`pub(..)` `use` counts as a use, except in a file that only
  declares modules and re-exports (no item, no `impl` of its own, e.g. a
  `mod.rs` holding docs, `mod x;` and `pub use x::Y;`): there it is transparent
  unless the name is also used in that file's code. A private `use` always
  makes an edge.
- `use path::*` makes an edge for every name of the glob's module that
  appears in the file's code.
- `mod x;` is not a use. Comments (doc comments, so intra-doc links too),
  string and char literals are ignored.
Exit status 0 when there is no cycle, 1 when there is one.
"""

import os
import re
import sys
from collections import defaultdict, deque

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
ITEM_KW = ("struct", "enum", "union", "trait", "type", "fn", "const", "static")
RUST_KW = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
    "trait", "true", "type", "unsafe", "use", "where", "while", "union",
}


def blank(s):
    return re.sub(r"[^\n]", " ", s)


def strip_code(src):
    """Comments, string/char literals blanked; offsets and newlines kept."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        two = src[i:i + 2]
        if two == "//":
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
            continue
        if two == "/*":
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(src[i:j]))
            i = j
            continue
        prev_word = i > 0 and re.match(r"[A-Za-z0-9_]", src[i - 1])
        m = None if prev_word else re.match(r'(?:br|r)(#*)"', src[i:i + 300])
        if m:
            close = '"' + m.group(1)
            end = src.find(close, i + len(m.group(0)))
            end = n if end < 0 else end + len(close)
            out.append(blank(src[i:end]))
            i = end
            continue
        if c == '"' or (two == 'b"' and not prev_word):
            j = i + (2 if c == "b" else 1)
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j += 1
            out.append(blank(src[i:j]))
            i = j
            continue
        if c == "'" or (two == "b'" and not prev_word):
            k = i + (1 if c == "'" else 2)
            m = re.compile(r"(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'\n])'").match(src, k)
            if m:
                out.append(" " * (m.end() - i))
                i = m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


def expand_use_tree(tree):
    """`a::{b, c::d as e, f::*, self}` -> [(segments, alias or None for a glob)]."""
    tree = re.sub(r"\s+", "", tree)

    def split_top(s):
        parts, depth, cur = [], 0, ""
        for ch in s:
            depth += ch == "{"
            depth -= ch == "}"
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        parts.append(cur)
        return [p for p in parts if p]

    def rec(prefix, s):
        if s.startswith("::"):
            s = s[2:]
        if s.endswith("}") and "{" in s:
            head, body = s.split("{", 1)
            head_segs = [x for x in head.split("::") if x]
            res = []
            for part in split_top(body[:-1]):
                res.extend(rec(prefix + head_segs, part))
            return res
        segs = [x for x in s.split("::") if x]
        full = prefix + segs
        if segs == ["self"]:
            full = prefix
        if not full:
            return []
        if full[-1] == "*":
            return [(full, None)]
        return [(full, full[-1] if segs != ["self"] else prefix[-1])]

    return rec([], tree)


def expand_use(tree):
    """Like expand_use_tree, with `as` aliases (spaces are significant for them)."""
    aliases = {}

    def repl(m):
        key = f"__ALIAS{len(aliases)}__"
        aliases[key] = m.group(2)
        return m.group(1) + key

    tree = re.sub(r"(" + IDENT + r"|\bself)\s+as\s+(" + IDENT + r")", repl, tree)
    out = []
    for segs, alias in expand_use_tree(tree):
        if alias is None:
            out.append((segs, None))
            continue
        last = segs[-1]
        m = re.match(r"^(.*)(__ALIAS\d+__)$", last)
        if m:
            segs = segs[:-1] + [m.group(1)] if m.group(1) != "self" else segs[:-1]
            alias = aliases[m.group(2)]
        out.append((segs, alias))
    return out


class Module:
    def __init__(self, path, file, parent):
        self.path, self.file, self.parent = path, file, parent
        self.children = {}  # name -> Module
        self.items = {}  # name -> file
        self.imports = {}  # name -> (segments, is_pub)
        self.globs = []  # segments
        self.local_imports = {}  # `use` inside fn bodies: name -> segments
        self.has_impl = False


class Ref:
    def __init__(self, module, segments, line, kind, alias=None):
        self.module, self.segments, self.line, self.kind, self.alias = module, segments, line, kind, alias


class Crate:
    def __init__(self, src_dir, skip_tests):
        self.src = os.path.abspath(src_dir)
        self.skip_tests = skip_tests
        self.modules = []
        self.refs = defaultdict(list)  # file -> [Ref]
        self.code = {}  # file -> code text without `use` declarations
        root = "lib.rs" if os.path.exists(os.path.join(self.src, "lib.rs")) else "main.rs"
        self.root = self.load(os.path.join(self.src, root), (), None)

    def rel(self, f):
        return os.path.relpath(f, self.src)

    def load(self, path, modpath, parent):
        module = Module(modpath, path, parent)
        self.modules.append(module)
        with open(path, encoding="utf-8") as fh:
            code = strip_code(fh.read())
        self.lines = None
        no_use = list(code)
        self.scan(code, 0, len(code), module, path, no_use)
        self.code[path] = "".join(no_use)
        return module

    def child_file(self, file, name):
        d = os.path.dirname(file)
        if os.path.basename(file) not in ("mod.rs", "lib.rs", "main.rs"):
            d = os.path.join(d, os.path.basename(file)[:-3])
        for cand in (os.path.join(d, name + ".rs"), os.path.join(d, name, "mod.rs")):
            if os.path.exists(cand):
                return cand
        sys.exit(f"no file for `mod {name};` in {file}")

    TOKEN = re.compile(
        r"(?P<cfgtest>#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\])"
        r"|(?P<vis>\bpub\s*(?:\([^)]*\))?\s*)?\b(?P<kw>macro_rules\s*!|(?:mod|use|impl|" + "|".join(ITEM_KW) + r")\b)"
        r"|(?P<brace>[{}])"
        r"|(?P<path>(?<![A-Za-z0-9_$])\$?(?:" + IDENT + r")(?:\s*::\s*(?:" + IDENT + r"|\*|<))+)"
    )

    def scan(self, code, start, end, module, file, no_use):
        line = lambda pos: code.count("\n", 0, pos) + 1
        i, depth, cfg_test = start, 0, False
        while i < end:
            m = self.TOKEN.search(code, i, end)
            if not m:
                return
            i = m.end()
            if m.group("cfgtest"):
                cfg_test = True
                continue
            if m.group("brace"):
                depth += 1 if m.group("brace") == "{" else -1
                continue
            kw = m.group("kw")
            if kw == "mod":
                nm = re.compile(r"\s*(" + IDENT + r")\s*([;{])").match(code, i)
                skip, cfg_test = cfg_test and self.skip_tests, False
                if not nm:
                    continue
                name = nm.group(1)
                if nm.group(2) == ";":
                    i = nm.end()
                    if not skip:
                        module.children[name] = self.load(self.child_file(file, name), module.path + (name,), module)
                else:
                    close = self.match_brace(code, nm.end() - 1)
                    if not skip:
                        child = Module(module.path + (name,), file, module)
                        self.modules.append(child)
                        module.children[name] = child
                        self.scan(code, nm.end(), close, child, file, no_use)
                    i = close + 1
                continue
            if kw == "use":
                semi = code.find(";", i)
                for p in range(m.start(), semi + 1):
                    if no_use[p] != "\n":
                        no_use[p] = " "
                is_pub = bool(m.group("vis"))
                for segs, alias in expand_use(code[i:semi]):
                    if alias is None:
                        if depth == 0:
                            module.globs.append(segs[:-1])
                        self.refs[file].append(Ref(module, segs[:-1], line(m.start()), "glob"))
                        continue
                    if depth == 0:
                        module.imports[alias] = (segs, is_pub)
                    else:
                        module.local_imports.setdefault(alias, segs)
                    kind = "pub-use" if is_pub and depth == 0 else "use"
                    if alias != "_":
                        self.refs[file].append(Ref(module, segs, line(m.start()), kind, alias))
                    else:
                        self.refs[file].append(Ref(module, segs, line(m.start()), "use"))
                i = semi + 1
                cfg_test = False
                continue
            if kw == "impl":
                if depth == 0:
                    module.has_impl = True
                continue
            if kw:
                nm = re.compile(r"\s*(" + IDENT + r")").match(code, i)
                if nm and depth == 0 and nm.group(1) not in RUST_KW:
                    module.items.setdefault(nm.group(1), file)
                cfg_test = False
                continue
            p = m.group("path")
            if p:
                segs = [s.strip().lstrip("$") for s in p.split("::")]
                segs = [s for s in segs if s not in ("", "*", "<")]
                if segs and segs[0] not in ("Self",):
                    self.refs[file].append(Ref(module, segs, line(m.start()), "path"))

    @staticmethod
    def match_brace(code, open_pos):
        depth = 0
        for j in range(open_pos, len(code)):
            if code[j] == "{":
                depth += 1
            elif code[j] == "}":
                depth -= 1
                if depth == 0:
                    return j
        return len(code)

    # ---- resolution: ('mod', Module) | ('item', file) | None

    def lookup(self, module, name, seen, local=False):
        key = (id(module), name)
        if key in seen:
            return None
        seen = seen | {key}
        if name in module.items:
            return ("item", module.items[name])
        if name in module.children:
            return ("mod", module.children[name])
        if name in module.imports:
            r = self.resolve(module, module.imports[name][0], seen)
            if r:
                return r
        if local and name in module.local_imports:
            r = self.resolve(module, module.local_imports[name], seen)
            if r:
                return r
        for g in module.globs:
            t = self.resolve(module, g, seen)
            if t and t[0] == "mod" and t[1] is not module:
                r = self.lookup(t[1], name, seen)
                if r:
                    return r
        return None

    def resolve(self, module, segs, seen=frozenset(), local=False):
        if not segs:
            return None
        cur, k = module, 0
        if segs[0] == "crate":
            cur, k = self.root, 1
        elif segs[0] == "self":
            k = 1
        while k < len(segs) and segs[k] == "super":
            cur = cur.parent
            if cur is None:
                return None
            k += 1
        if k == len(segs):
            return ("mod", cur)
        first = True
        while k < len(segs):
            r = self.lookup(cur, segs[k], seen, local=local and first and cur is module)
            first = False
            if r is None:
                return None
            if r[0] == "item":
                return r
            cur = r[1]
            k += 1
        return ("mod", cur)

    def visible_names(self, module):
        names = set(module.items) | set(module.children) | set(module.imports)
        for g in module.globs:
            t = self.resolve(module, g)
            if t and t[0] == "mod" and t[1] is not module:
                names |= set(t[1].items) | set(t[1].children) | set(t[1].imports)
        return names

    def pure_reexporter(self, file):
        """True for a file that only declares modules and re-exports (no item, no impl)."""
        for m in self.modules:
            if m.file == file and m.path == self.file_module(file).path:
                return not m.items and not m.has_impl
        return False

    def file_module(self, file):
        return min((m for m in self.modules if m.file == file), key=lambda m: len(m.path))

    def edges(self):
        out = defaultdict(list)

        def add(file, r, ev):
            if r and r[0] == "item" and r[1] != file:
                out[(file, r[1])].append(ev)

        for file, refs in self.refs.items():
            code = self.code[file]
            for ref in refs:
                where = f"{self.rel(file)}:{ref.line}"
                if ref.kind == "glob":
                    t = self.resolve(ref.module, ref.segments)
                    if not t:
                        continue
                    if t[0] == "item":
                        add(file, t, f"{where}: use {'::'.join(ref.segments)}::*")
                        continue
                    for name in sorted(self.visible_names(t[1])):
                        if re.search(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])", code):
                            add(file, self.lookup(t[1], name, frozenset()),
                                f"{where}: use {'::'.join(ref.segments)}::* ({name})")
                    continue
                if ref.kind == "pub-use" and self.pure_reexporter(file) and not re.search(
                    r"(?<![A-Za-z0-9_])" + re.escape(ref.alias) + r"(?![A-Za-z0-9_])", code
                ):
                    continue  # a pure re-export
                prefix = "pub use " if ref.kind == "pub-use" else ("use " if ref.kind == "use" else "")
                add(file, self.resolve(ref.module, ref.segments, local=ref.kind == "path"),
                    f"{where}: {prefix}{'::'.join(ref.segments)}")
        return out


def sccs(nodes, adj):
    index, low, on, stack, res, counter = {}, {}, set(), [], [], [0]
    sys.setrecursionlimit(100000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(adj.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            res.append(comp)

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return res


def shortest_cycle(comp, adj):
    comp = set(comp)
    start = sorted(comp)[0]
    prev, q = {start: None}, deque([start])
    while q:
        v = q.popleft()
        for w in sorted(adj.get(v, ())):
            if w not in comp:
                continue
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w not in prev:
                prev[w] = v
                q.append(w)
    return [start]


def main(argv):
    flags = {a for a in argv if a.startswith("--")}
    args = [a for a in argv if not a.startswith("--")]
    if not args:
        print(__doc__)
        return 2
    crate = Crate(args[0], "--no-tests" in flags)
    edges = crate.edges()
    adj = defaultdict(set)
    for a, b in edges:
        adj[a].add(b)
    files = sorted({m.file for m in crate.modules})
    rel = crate.rel
    if "--edges" in flags:
        for a, b in sorted(edges):
            print(f"{rel(a)} -> {rel(b)}")
            for e in edges[(a, b)][:3]:
                print(f"    {e}")
    comps = [c for c in sccs(files, adj) if len(c) > 1]
    print(f"{len(files)} files, {len(edges)} file-level edges "
          f"({'tests excluded' if '--no-tests' in flags else 'tests included'})")
    if not comps:
        print("no import cycle")
        return 0
    print(f"{len(comps)} cycle(s):")
    for comp in comps:
        print("- component: " + ", ".join(sorted(rel(f) for f in comp)))
        cyc = shortest_cycle(comp, adj)
        print("  e.g. " + " -> ".join(rel(f) for f in cyc))
        for a, b in zip(cyc, cyc[1:]):
            for e in edges[(a, b)][:2]:
                print(f"    {rel(a)} -> {rel(b)}: {e}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
