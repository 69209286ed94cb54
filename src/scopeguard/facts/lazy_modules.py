"""Lazy modules and by-name tables, one file's share (issue 26, point 4).

- A package that replaces itself in `sys.modules` with an object built from a table
  (`sys.modules[__name__] = Lazy(__name__, __file__, STRUCTURE, ...)`) serves `from package import
  Name` by importing `package + "." + key`, the key the table gives Name. The table is read here
  as far as it is written with literals: a module-level dict of key -> list of names, filled
  further by `S["key"] = [...]`, `+= [...]`, `.extend/.append/.update/.add`, copied by a dict
  comprehension over `S.items()`, merged by `.update(OTHER)`; or `define_import_structure(F,
  prefix=P)`, whose names come from the files under F's folder (their `__all__`, or their public
  top-level defs), read at project level. A part computed otherwise leaves the fact incomplete:
  a name it does not list is an unknown import, never nothing (analysis/registry.py).
- By-name tables: module-level `OrderedDict([("bert", "BertConfig"), ...])`, dict literals and
  lists of pairs of strings, with where each entry sits (a deletion may remove an entry that names
  a deleted package by its short name, when its lines hold nothing else).
- The public top-level defs of a file without `__all__` (what a structure read from files serves).

On the `ast` view; nothing here runs the file's code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..base.model import LazyModuleFact, NameTableFact

_STRUCTURE_CALL = "define_import_structure"
_ADDERS = frozenset({"extend", "append", "update", "add"})
_TABLE_CALLS = frozenset({"OrderedDict", "collections.OrderedDict", "dict"})
_ENDS_WITH_COMMA = re.compile(rb",\s*(#[^'\"]*)?$")


def lazy_facts(tree: ast.Module, source: bytes, is_package: bool) -> dict:
    """The FileFacts fields this pass fills: `lazy`, `name_tables`, `defined`."""
    statements = list(_module_level(tree.body))
    out: dict = {}
    if b"sys.modules" in source:
        lazy = _lazy_module(statements, is_package)
        if lazy is not None:
            out["lazy"] = lazy
    tables = _name_tables(statements, source)
    if tables:
        out["name_tables"] = tables
    if not any(_assigns_all(stmt) for stmt in statements):
        names = tuple(dict.fromkeys(
            stmt.name for stmt in tree.body
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not stmt.name.startswith("_")))
        if names:
            out["defined"] = names
    return out


def _module_level(body):
    """Statements that run at module level, in order: into if/try/with/for blocks, not into defs or
    class bodies."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While)):
            yield from _module_level(stmt.body)
            yield from _module_level(stmt.orelse)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            yield from _module_level(stmt.body)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            yield from _module_level(stmt.body)
            for handler in stmt.handlers:
                yield from _module_level(handler.body)
            yield from _module_level(stmt.orelse)
            yield from _module_level(stmt.finalbody)


def _assigns_all(stmt) -> bool:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(
        stmt, (ast.AnnAssign, ast.AugAssign)) else []
    return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)


# --- the lazy module's table ------------------------------------------------------------------

@dataclass
class _Structure:
    entries: list = field(default_factory=list)  # (name, key, line)
    keys: set = field(default_factory=set)
    folders: list = field(default_factory=list)
    complete: bool = True

    def copy(self) -> _Structure:
        return _Structure(list(self.entries), set(self.keys), list(self.folders), self.complete)

    def merge(self, other: _Structure) -> None:
        self.entries += other.entries
        self.keys |= other.keys
        self.folders += [f for f in other.folders if f not in self.folders]
        self.complete = self.complete and other.complete

    def add(self, key: str, value: ast.expr) -> None:
        """Names `value` adds under `key` (a literal list/tuple/set of strings, or one string)."""
        names = _strings(value)
        if names is None:
            self.keys.add(key)
        else:
            self.entries += [(name, key, line) for name, line in names]


def _strings(value: ast.expr):
    """[(string, line)] of a literal string or a list/tuple/set of them (`set()`/`list()`: []); None
    when not literal."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return [(value.value, value.lineno)]
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        out = []
        for element in value.elts:
            if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
                return None
            out.append((element.value, element.lineno))
        return out
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("set", "list", "tuple") \
            and not value.args and not value.keywords:
        return []
    return None


def _structure_of_dict(value: ast.Dict) -> _Structure:
    found = _Structure()
    for key, item in zip(value.keys, value.values):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            found.complete = False
            continue
        found.add(key.value, item)
    return found


class _Paths:
    """What a name holds among the file's own path (`__file__`) and folders under its package:
    ("file", "") or ("dir", folder relative to the package, "" for its own)."""

    def __init__(self) -> None:
        self.names: dict[str, tuple[str, str]] = {}

    def of(self, expr: ast.expr) -> tuple[str, str] | None:
        if isinstance(expr, ast.Name):
            return ("file", "") if expr.id == "__file__" else self.names.get(expr.id)
        if (isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Call)
                and isinstance(expr.value.func, ast.Name) and expr.value.func.id in ("globals", "vars")
                and isinstance(expr.slice, ast.Constant) and expr.slice.value == "__file__"):
            return ("file", "")
        if isinstance(expr, ast.Attribute) and expr.attr == "parent":
            return _parent(self.of(expr.value))
        if isinstance(expr, ast.Call) and not expr.keywords and len(expr.args) == 1:
            name = _last(expr.func)
            if name in ("Path", "PurePath", "abspath", "realpath", "resolve"):
                return self.of(expr.args[0])
            if name == "dirname":
                return _parent(self.of(expr.args[0]))
        if isinstance(expr, ast.Call) and not expr.args and not expr.keywords and isinstance(expr.func, ast.Attribute) \
                and expr.func.attr in ("resolve", "absolute"):
            return self.of(expr.func.value)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
            return _join(self.of(expr.left), expr.right)
        if isinstance(expr, ast.Call) and _last(expr.func) == "join" and len(expr.args) == 2 and not expr.keywords:
            return _join(self.of(expr.args[0]), expr.args[1])
        return None


def _parent(path: tuple[str, str] | None) -> tuple[str, str] | None:
    if path is None:
        return None
    kind, rel = path
    if kind == "file":
        return ("dir", "")
    return ("dir", rel.rpartition("/")[0]) if rel else None  # above the package: not modelled


def _join(base: tuple[str, str] | None, part: ast.expr) -> tuple[str, str] | None:
    if base is None or base[0] != "dir" or not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
        return None
    parts = part.value.strip("/").split("/")
    if not all(p.isidentifier() for p in parts):
        return None
    return ("dir", "/".join([base[1], *parts]) if base[1] else "/".join(parts))


def _last(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _define_structure(call: ast.Call, paths: _Paths) -> _Structure:
    """define_import_structure(PATH, prefix=P): the names of the files under PATH's folder (a file
    stands for its folder), keyed by their path under it, after P."""
    found = _Structure()
    arg = call.args[0] if len(call.args) == 1 else None
    prefix: str | None = ""
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg == "module_path" and arg is None:
            arg = value
        elif keyword.arg == "prefix" and len(call.args) < 2:
            if isinstance(value, ast.Constant) and value.value is None:
                prefix = ""
            elif isinstance(value, ast.Constant) and isinstance(value.value, str) and all(
                    p.isidentifier() for p in value.value.split(".")):
                prefix = value.value
            else:
                prefix = None
        else:
            prefix = None
    path = paths.of(arg) if arg is not None else None
    if path is None or prefix is None:
        found.complete = False
    else:
        found.folders.append((path[1], prefix))
    return found


def _is_structure_call(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and _last(expr.func) == _STRUCTURE_CALL


def _sys_modules_name(target: ast.expr) -> bool:
    return (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute)
            and target.value.attr == "modules" and isinstance(target.value.value, ast.Name)
            and target.value.value.id == "sys" and isinstance(target.slice, ast.Name) and target.slice.id == "__name__")


def _lazy_module(statements: list[ast.stmt], is_package: bool) -> LazyModuleFact | None:
    env: dict[str, _Structure] = {}
    paths = _Paths()
    found: tuple[int, _Structure] | None = None

    def evaluate(expr: ast.expr) -> _Structure | None:
        if isinstance(expr, ast.Name):
            known = env.get(expr.id)
            return known.copy() if known is not None else None
        if isinstance(expr, ast.Dict):
            return _structure_of_dict(expr)
        if _is_structure_call(expr):
            return _define_structure(expr, paths)
        if isinstance(expr, ast.DictComp) and len(expr.generators) == 1:
            source = expr.generators[0].iter  # {k: set(v) for k, v in S.items()}: S's names, as sets
            if (isinstance(source, ast.Call) and isinstance(source.func, ast.Attribute) and source.func.attr == "items"
                    and not source.args and isinstance(expr.key, ast.Name) and isinstance(expr.generators[0].target, ast.Tuple)
                    and expr.generators[0].target.elts and isinstance(expr.generators[0].target.elts[0], ast.Name)
                    and expr.generators[0].target.elts[0].id == expr.key.id and not expr.generators[0].ifs):
                return evaluate(source.func.value)
        return None

    def table_of(expr: ast.expr):
        """(structure, key) for `S["key"]`, (structure, None) for `S`, (structure, ...) for S[other]."""
        if isinstance(expr, ast.Name) and expr.id in env:
            return env[expr.id], None
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name) and expr.value.id in env:
            key = expr.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return env[expr.value.id], key.value
            return env[expr.value.id], ...
        return None, None

    for stmt in statements:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if _sys_modules_name(target):
                structure = None
                if isinstance(stmt.value, ast.Call):
                    for arg in [*stmt.value.args, *(k.value for k in stmt.value.keywords)]:
                        if (isinstance(arg, ast.Name) and arg.id in env) or isinstance(arg, (ast.Dict, ast.DictComp)) \
                                or _is_structure_call(arg):
                            structure = evaluate(arg)
                            break
                found = (stmt.lineno, structure if structure is not None else _Structure(complete=False))
                continue
            if isinstance(target, ast.Name):
                value, path = evaluate(stmt.value), paths.of(stmt.value)  # before the name is rebound
                env.pop(target.id, None)
                paths.names.pop(target.id, None)
                if path is not None:
                    paths.names[target.id] = path
                if value is not None:
                    env[target.id] = value
                continue
            table, key = table_of(target)
            if table is not None and key is not None:
                if key is ...:
                    table.complete = False
                else:
                    table.entries = [e for e in table.entries if e[1] != key]
                    table.keys.discard(key)
                    table.add(key, stmt.value)
                continue
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add):
            table, key = table_of(stmt.target)
            if table is not None and key is not None:
                if key is ...:
                    table.complete = False
                else:
                    table.add(key, stmt.value)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute):
            call = stmt.value
            table, key = table_of(call.func.value)
            if table is None:
                continue
            method = call.func.attr
            other = evaluate(call.args[0]) if len(call.args) == 1 and isinstance(call.args[0], (ast.Name, ast.Dict)) else None
            if method == "update" and other is not None and (key is None or key is ...):
                table.merge(other)  # S.update(T), or S[backends].update(T) (a structure keyed by backends)
            elif key is None and method == "setdefault" and len(call.args) == 2:
                name = call.args[0]
                names = _strings(call.args[1])
                if names:  # setdefault(k, set()) adds no name
                    if isinstance(name, ast.Constant) and isinstance(name.value, str):
                        table.add(name.value, call.args[1])
                    else:
                        table.complete = False
            elif key is not None and key is not ... and method in _ADDERS and len(call.args) == 1:
                table.add(key, call.args[0])
            elif method in ("pop", "get", "items", "keys", "values", "copy"):
                pass  # reads, or removes a name: the table lists more than it serves, never less
            else:
                table.complete = False
    if found is None or not is_package:
        return None if found is None else LazyModuleFact(found[0], complete=False)
    line, structure = found
    return LazyModuleFact(line, tuple(sorted(set(structure.entries), key=lambda e: (e[2], e[1], e[0]))),
                          tuple(sorted(structure.keys)), tuple(structure.folders), structure.complete)


# --- by-name tables -------------------------------------------------------------------------

def _name_tables(statements: list[ast.stmt], source: bytes) -> tuple[NameTableFact, ...]:
    lines = None
    out = []
    for stmt in statements:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name, value = stmt.targets[0].id, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            name, value = stmt.target.id, stmt.value
        else:
            continue
        if isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords:
            func = value.func.value if isinstance(value.func, ast.Subscript) else value.func  # OrderedDict[str, str](...)
            if _dotted(func) in _TABLE_CALLS:
                value = value.args[0]
        if isinstance(value, ast.Dict):
            elements = [(k, v, k, v) for k, v in zip(value.keys, value.values) if k is not None]
            if len(elements) != len(value.keys):
                elements = []
        elif isinstance(value, (ast.List, ast.Tuple)):
            elements = [(e.elts[0], e.elts[1], e, e) for e in value.elts if isinstance(e, ast.Tuple) and len(e.elts) == 2]
            if len(elements) != len(value.elts):
                continue
        else:
            continue
        if not elements:
            continue
        if lines is None:
            lines = source.splitlines()
        entries = []
        for index, (key, item, first, last) in enumerate(elements):
            key_text = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else ""
            value_text = item.value if isinstance(item, ast.Constant) and isinstance(item.value, str) else ""
            if not (key_text or value_text):
                continue
            before = elements[index - 1][3].end_lineno if index else value.lineno
            after = elements[index + 1][2].lineno if index + 1 < len(elements) else value.end_lineno
            start, end = first.lineno, last.end_lineno
            # by lines only (no columns: the view lowered from libcst places a tuple's parentheses
            # apart): no other entry nor the brackets on its lines, and its line ends with its comma
            whole = (before < start and end < after and 0 < end <= len(lines)
                     and _ENDS_WITH_COMMA.search(lines[end - 1]) is not None)
            entries.append((key_text, value_text, start, end, whole))
        if entries:
            out.append(NameTableFact(name, tuple(entries)))
    return tuple(out)


def _dotted(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    return ""
