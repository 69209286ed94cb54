"""Small questions about stdlib `ast` nodes, shared by the passes that read the `ast` view."""

from __future__ import annotations

import ast
from collections.abc import Iterable

# A statement's fields that hold nested statements rather than its own expressions.
HEADER_SKIP = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})
_STATEMENT_CONTAINERS = (ast.stmt, ast.excepthandler, ast.match_case)


def statements(tree: ast.Module) -> list[ast.stmt]:
    """Every statement of the tree, nested ones included; unsorted.

    Statements live only in statement lists (bodies, handlers' bodies, match cases), so only those
    are descended into: expressions, which are most of a tree's nodes, are never visited.
    """
    found: list[ast.stmt] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list and value and isinstance(value[0], _STATEMENT_CONTAINERS):
                for child in value:
                    if isinstance(child, ast.stmt):
                        found.append(child)
                    pending.append(child)
    return found


_WALKED: tuple[ast.AST, list[ast.AST]] | None = None


def every_node(tree: ast.AST) -> list[ast.AST]:
    """`list(ast.walk(tree))`, in the same order, walked once per tree: the passes that look at
    every node of a file (attachments, `__module__` writes, changed names, binding counts) share one
    walk. The last tree is kept (a strong reference, so `is` cannot be fooled by a reused id)."""
    global _WALKED
    if _WALKED is not None and _WALKED[0] is tree:
        return _WALKED[1]
    found: list[ast.AST] = [tree]
    at = 0
    node_type = ast.AST
    while at < len(found):  # breadth first, children in field order: ast.walk's order
        node = found[at]
        at += 1
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, node_type):
                found.append(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, node_type):
                        found.append(item)
    _WALKED = (tree, found)
    return found


def forget_walk() -> None:
    """Drop the kept walk (the end of a file's scan)."""
    global _WALKED
    _WALKED = None


def in_source_order(tree: ast.Module) -> list[ast.stmt]:
    found = statements(tree)
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    return found


def header_nodes(stmt: ast.stmt) -> Iterable[ast.AST]:
    """The expressions of a statement, without its nested statements."""
    for name, value in ast.iter_fields(stmt):
        if name in HEADER_SKIP:
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, ast.AST):
                yield from ast.walk(item)


def callee(call: ast.Call) -> str | None:
    """`f` of `f(...)` and of `a.f(...)`."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def dotted(expr: ast.expr) -> str | None:
    """`a.b.c` for a Name or a chain of Attributes on one (iterative: any depth); else None."""
    names = []
    while isinstance(expr, ast.Attribute):
        names.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    names.append(expr.id)
    return ".".join(reversed(names))


def line_span(stmt: ast.stmt) -> tuple[int, int]:
    """(first, last) line of a statement, its decorators included."""
    first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
    return first, stmt.end_lineno or stmt.lineno
