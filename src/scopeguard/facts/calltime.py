"""Functions that run at import time although they are written as functions: a function or method
of the file called from code that runs on import (module level, a class body, a decorator, a
default argument, an annotation, a class base or keyword, a case guard, an immediately called
lambda), a decorator function, `__init__`/`__new__` of a class instantiated there and
`__init_subclass__` of a base class, a function handed to a call that calls it at once
(`list(map(f, xs))`, `Thread(target=f)`), and what those call in turn (same-module calls only).

The result maps each such function's FUNCTION guard to the guards at its call sites (their common
prefix: what holds at every call), so that the facts inside it can be given a second, import-time
copy (`import_time_copies`). The function stays callable later: the original facts stay too.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterable

from ..base.model import Guard, GuardKind
from .astnodes import HEADER_SKIP

Guards = tuple[Guard, ...]
_CONSTRUCTION = ("__init__", "__new__", "__post_init__", "__set_name__")
# Calls that call the functions handed to them before they return (`list(map(f, xs))`,
# `sorted(xs, key=f)`); a registry that stores a function (`register_func("x", f)`) does not.
_CALLS_ITS_ARGUMENTS = frozenset({
    "map", "filter", "sorted", "min", "max", "reduce", "sum", "any", "all", "list", "tuple", "set", "dict",
    "frozenset", "starmap", "accumulate", "Thread", "Timer", "run", "call", "apply", "submit",
})



def import_time_functions(statements: list[tuple[ast.stmt, Guards]], tree: ast.Module) -> dict[Guard, Guards]:
    future = any(
        isinstance(s, ast.ImportFrom) and s.module == "__future__" and any(a.name == "annotations" for a in s.names)
        for s in tree.body
    )
    guards_of = {id(stmt): guards for stmt, guards in statements}
    container: dict[int, ast.AST | None] = {}
    module_defs: dict[str, list[ast.stmt]] = {}
    class_members: dict[int, dict[str, list[ast.stmt]]] = {}
    classes: dict[str, list[ast.ClassDef]] = {}
    nested: dict[int, dict[str, list[ast.stmt]]] = {}

    def index(body: Iterable[ast.stmt], owner: ast.AST | None) -> None:
        for stmt in body:
            container[id(stmt)] = owner
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if owner is None:
                    if isinstance(stmt, ast.ClassDef):
                        classes.setdefault(stmt.name, []).append(stmt)
                    else:
                        module_defs.setdefault(stmt.name, []).append(stmt)
                elif isinstance(owner, ast.ClassDef):
                    class_members.setdefault(id(owner), {}).setdefault(stmt.name, []).append(stmt)
                else:
                    nested.setdefault(id(owner), {}).setdefault(stmt.name, []).append(stmt)
                index(stmt.body, stmt)
                continue
            for name in ("body", "orelse", "finalbody"):
                index(getattr(stmt, name, ()) or (), owner)
            for handler in getattr(stmt, "handlers", ()) or ():
                index(handler.body, owner)
            for case in getattr(stmt, "cases", ()) or ():
                index(case.body, owner)

    index(tree.body, None)
    if not module_defs and not class_members and not nested:
        return {}

    def function_guard(fn: ast.stmt) -> Guard | None:
        outer = guards_of.get(id(fn))
        inner = guards_of.get(id(fn.body[0])) if fn.body else None
        if outer is None or inner is None or len(inner) <= len(outer):
            return None
        guard = inner[len(outer)]
        return guard if guard.kind is GuardKind.FUNCTION else None

    def enclosing_class(stmt: ast.stmt) -> ast.ClassDef | None:
        owner = container.get(id(stmt))
        while owner is not None and not isinstance(owner, ast.ClassDef):
            owner = container.get(id(owner))
        return owner

    def members(cls: ast.ClassDef, names: Iterable[str]) -> list[ast.stmt]:
        table = class_members.get(id(cls), {})
        return [fn for name in names for fn in table.get(name, ()) if not isinstance(fn, ast.ClassDef)]

    def resolve(func: ast.expr, stmt: ast.stmt, called: bool = True) -> list[ast.stmt]:
        """The same-module functions a call of `func` written in `stmt` may run (called=False:
        the functions `func` may name when handed over, not a class's constructors)."""
        if isinstance(func, ast.Name):
            found: list[ast.stmt] = []
            owner = container.get(id(stmt))
            if isinstance(owner, ast.ClassDef):
                found += members(owner, (func.id,))  # a class body calls its own helpers by name
            while owner is not None:
                if not isinstance(owner, ast.ClassDef):
                    found += nested.get(id(owner), {}).get(func.id, [])
                owner = container.get(id(owner))
            found += module_defs.get(func.id, [])
            if called:
                for cls in classes.get(func.id, ()):
                    found += members(cls, _CONSTRUCTION)
            return found
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner_name = func.value.id
            found = [fn for cls in classes.get(owner_name, ()) for fn in members(cls, (func.attr,))]
            if owner_name in ("self", "cls"):
                cls = enclosing_class(stmt)
                if cls is not None:
                    found += members(cls, (func.attr,))
            return found
        return []

    calls: dict[Guard, list[Guards]] = {}

    def record(targets: list[ast.stmt], guards: Guards) -> None:
        for fn in targets:
            guard = function_guard(fn)
            if guard is not None:
                calls.setdefault(guard, []).append(guards)

    def visit(stmt: ast.stmt, guards: Guards) -> None:
        for expr, called in _evaluated(stmt, future, _in_function(guards)):
            if called:  # a decorator: called with the function or class
                record(resolve(expr, stmt), guards)
            for node in _nodes(expr):
                if type(node) is ast.Call:
                    record(resolve(node.func, stmt), guards)
                    func = node.func
                    if (func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)) in _CALLS_ITS_ARGUMENTS:
                        # a function of the file handed to a call that calls it right away
                        for arg in [*node.args, *(k.value for k in node.keywords)]:
                            for inner in _nodes(arg):
                                if isinstance(inner, (ast.Name, ast.Attribute)) and isinstance(inner.ctx, ast.Load):
                                    record(resolve(inner, stmt, False), guards)
        if isinstance(stmt, ast.ClassDef):
            for keyword in stmt.keywords:  # a metaclass of the file builds the class
                if keyword.arg == "metaclass" and isinstance(keyword.value, ast.Name):
                    record([fn for cls in classes.get(keyword.value.id, ()) for fn in members(cls, ("__new__", "__init__", "__prepare__"))], guards)
            for base in stmt.bases:
                if isinstance(base, ast.Name):
                    record([fn for cls in classes.get(base.id, ()) for fn in members(cls, ("__init_subclass__",))], guards)

    by_function: dict[Guard, list[tuple[ast.stmt, Guards]]] = {}
    for stmt, guards in statements:
        innermost = next((g for g in reversed(guards) if g.kind is GuardKind.FUNCTION), None)
        if innermost is None:
            visit(stmt, guards)
        else:
            by_function.setdefault(innermost, []).append((stmt, guards))

    result: dict[Guard, Guards] = {}
    visited: set[Guard] = set()
    changed = True
    while changed:
        changed = False
        for guard, sites in list(calls.items()):
            if guard in result:
                continue
            effective = [substitute(g, result) for g in sites]
            at_import = [g for g in effective if not any(x.kind is GuardKind.FUNCTION for x in g)]
            if not at_import:
                continue
            result[guard] = _common_prefix(at_import)
            changed = True
            if guard not in visited:
                visited.add(guard)
                for stmt, guards in by_function.get(guard, ()):
                    visit(stmt, guards)
    return result


_HANDLERS = (GuardKind.OPTIONAL, GuardKind.TOLERANT, GuardKind.CONVERTS)


def substitute(guards: Guards, replacements: dict[Guard, Guards]) -> Guards:
    """`guards` with each FUNCTION guard of an import-time function replaced by its call sites'."""
    if not replacements or not any(g in replacements for g in guards):
        return guards
    out: list[Guard] = []
    for guard in guards:
        if guard in replacements:
            # a handler around the `def` protects the definition, not the call: only the call
            # sites' own handlers hold (and those inside the function, which follow)
            out = [g for g in out if g.kind not in _HANDLERS]
            out.extend(replacements[guard])
            if guard.text == "def __set_name__":
                out.append(set_name_converter(guard.line))
        else:
            out.append(guard)
    return tuple(out)


def set_name_converter(line: int) -> Guard:
    """Python before 3.12 wraps an error raised in `__set_name__` during class creation in a
    RuntimeError (3.12 and later do not): what leaves it is the error or a RuntimeError, and only a
    handler catching both absorbs it (analysis/verdicts.py)."""
    return Guard(GuardKind.CONVERTS, line, "__set_name__ (Python < 3.12 wraps its error in RuntimeError)",
                 catches=frozenset({"*", "->RuntimeError"}))


def import_time_copies(facts: list, replacements: dict[Guard, Guards]) -> list:
    """`facts` plus, for each one inside an import-time function, a copy with the call sites' guards."""
    if not replacements:
        return facts
    out = list(facts)
    for fact in facts:
        guards = substitute(fact.guards, replacements)
        if guards is not fact.guards:
            out.append(dataclasses.replace(fact, guards=guards))
    return out


def _in_function(guards: Guards) -> bool:
    return any(g.kind is GuardKind.FUNCTION for g in guards)


def _common_prefix(stacks: list[Guards]) -> Guards:
    first = stacks[0]
    size = len(first)
    for other in stacks[1:]:
        size = min(size, len(other))
        for i in range(size):
            if other[i] != first[i]:
                size = i
                break
    return first[:size]


def _evaluated(stmt: ast.stmt, future: bool, in_function: bool):
    """(expression, called) for the expressions a statement evaluates when it runs; `called` marks a
    decorator, which is also called."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for decorator in stmt.decorator_list:
            yield decorator, True
        args = stmt.args
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None:
                yield default, False
        if not future:
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None and arg.annotation is not None:
                    yield arg.annotation, False
            if stmt.returns is not None:
                yield stmt.returns, False
        return
    if isinstance(stmt, ast.ClassDef):
        for decorator in stmt.decorator_list:
            yield decorator, True
        for base in stmt.bases:
            yield base, False
        for keyword in stmt.keywords:
            yield keyword.value, False
        return
    if isinstance(stmt, ast.AnnAssign):
        if not future and not in_function:  # a local variable's annotation is never evaluated
            yield stmt.annotation, False
        if stmt.value is not None:
            yield stmt.value, False
        return
    if isinstance(stmt, ast.Match):
        yield stmt.subject, False
        for case in stmt.cases:
            if case.guard is not None:
                yield case.guard, False
        return
    for name, value in ast.iter_fields(stmt):
        if name in HEADER_SKIP:
            continue
        for item in value if isinstance(value, list) else (value,):
            if isinstance(item, ast.expr):
                yield item, False
            elif isinstance(item, ast.withitem):
                yield item.context_expr, False


def _nodes(expr: ast.expr):
    """Every node of an expression that runs when it is evaluated: not lambda bodies (only their
    defaults), unless the lambda is called where it is written."""
    pending = [expr]
    called: set[int] = set()
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Lambda) and id(node) not in called:
            pending.extend(d for d in [*node.args.defaults, *node.args.kw_defaults] if d is not None)
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Lambda):
            called.add(id(node.func))
        yield node
        pending.extend(ast.iter_child_nodes(node))
