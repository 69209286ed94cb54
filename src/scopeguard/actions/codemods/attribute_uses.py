"""Places that reach the scope as an attribute, with no import to remove: `tvm.relax.Function`
in a module that did `import tvm`. Deleting the scope makes them fail when they run (the package
no longer has the attribute) and no codemod can rewrite them safely, so the deletion patch lists
them for a person. `ast` is enough here: this reads, never edits, and changes no fact."""

from __future__ import annotations

import ast


def attribute_uses(source: str, scope: str) -> list[tuple[int, str]]:
    """(line, dotted text) of each outermost attribute chain that names `scope` or a name in it,
    rooted at a name the file binds by `import <top>` (or `import <top>.x`)."""
    top = scope.split(".")[0]
    if "." not in scope or f".{scope.rpartition('.')[2]}" not in source:
        return []
    tree = ast.parse(source)
    bound = any(isinstance(n, ast.Import) and any(a.asname is None and a.name.split(".")[0] == top for a in n.names)
                for n in ast.walk(tree))
    if not bound:
        return []
    found, inner = [], set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue
        parts, cursor = [], node
        while isinstance(cursor, ast.Attribute):
            parts.append(cursor.attr)
            cursor = cursor.value
            inner.add(id(cursor))
        if not isinstance(cursor, ast.Name):
            continue
        dotted = ".".join([cursor.id, *reversed(parts)])
        if dotted == scope or dotted.startswith(scope + "."):
            found.append((node.lineno, dotted))
    return sorted(set(found))
