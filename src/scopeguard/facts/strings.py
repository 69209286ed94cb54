"""String constants: what a string expression is known to hold.

Literals, `__name__`, `__package__` and module constants (`_PREFIX = "tvm.contrib."`), joined by
f-strings and `+`. One implementation, on the `ast` view: a libcst expression (a dynamic import's
argument) is first lowered to its `ast` (lowering.py).
"""

from __future__ import annotations

import ast

import libcst as cst

from .astnodes import every_node
from .lowering import LoweringError, lower_expression

Known = tuple[str, bool]  # (text, complete): complete False means only the start is known


class KnownStrings:
    """resolve() returns (text, complete) - f"tvm.contrib.{name}" -> ("tvm.contrib.", False) - or
    None when nothing is known."""

    def __init__(self, tree: ast.Module | None, module: str, is_package: bool, extra: bool) -> None:
        self.tree = tree
        self.fixed: dict[str, str] = {}
        if module and not extra:  # a test file's `__name__` depends on how it is run
            self.fixed["__name__"] = module
            self.fixed["__package__"] = module if is_package else module.rpartition(".")[0]
        self._assigned: dict[str, str] | None = None  # module-level `NAME = "literal"`
        self._bindings: dict[str, int] | None = None  # how often each name is bound in the file

    def value(self, name: str) -> str | None:
        if name in self.fixed:
            return self.fixed[name]
        if self.tree is None:
            return None
        # Two steps, each computed once per file and only when needed: most names asked about
        # (f-string fields, call arguments) are not module-level string constants, and counting
        # every binding means walking the whole tree.
        if self._assigned is None:
            self._assigned = _module_string_assignments(self.tree)
        if name not in self._assigned:
            return None
        if self._bindings is None:
            self._bindings = _binding_counts(self.tree)
        return self._assigned[name] if self._bindings.get(name) == 1 else None

    def resolve(self, expr: ast.expr) -> Known | None:
        try:
            return self._resolve(expr)
        except RecursionError:  # `"a" + "b" + ...` a thousand times: give up on this string only
            return None

    def resolve_cst(self, expr: cst.BaseExpression) -> Known | None:
        """The same for a libcst expression, through its `ast`."""
        try:
            lowered = lower_expression(expr)
        except LoweringError:
            return None
        return self.resolve(lowered)

    def _resolve(self, expr: ast.expr) -> Known | None:
        if isinstance(expr, ast.Constant):
            return (expr.value, True) if isinstance(expr.value, str) else None
        if isinstance(expr, ast.Name):
            value = self.value(expr.id)
            return (value, True) if value is not None else None
        if isinstance(expr, ast.JoinedStr):
            out = ""
            for part in expr.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    out += part.value
                    continue
                if isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None:
                    inner = self._resolve(part.value)
                    if inner is not None and inner[1]:
                        out += inner[0]
                        continue
                return out, False
            return out, True
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return _join(self._resolve(expr.left), lambda: self._resolve(expr.right))
        filled = template_of(expr)
        if filled is not None:
            template = self._resolve(filled[0])
            return template_start(template[0], filled[1]) if template is not None and template[1] else None
        return None


def template_of(expr: ast.expr) -> tuple[ast.expr, str] | None:
    """(the template, its placeholder mark) of a template filled at run time:
    `"pkg.dialects.%s" % name` or `"pkg.dialects.{}".format(name)`; None for anything else."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod):
        return expr.left, "%"
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "format":
        return expr.func.value, "{"
    return None


def template_start(template: str, mark: str) -> Known | None:
    """The known start of a %- or str.format template filled at run time: the text before its first
    placeholder (a doubled mark is the mark itself). None when it has no placeholder (the result
    is not worked out: an error or the template, which is rare for a module name)."""
    out, i = "", 0
    while i < len(template):
        if template[i] == mark:
            if template[i + 1 : i + 2] == mark:
                out, i = out + mark, i + 2
                continue
            return out, False
        out, i = out + template[i], i + 1
    return None


def _join(left: Known | None, right) -> Known | None:
    """`left + right` where `right` is resolved only if the left is fully known."""
    if left is None or not left[1]:
        return left
    known = right()
    if known is None:
        return left[0], False
    return left[0] + known[0], known[1]


def _module_string_assignments(tree: ast.Module) -> dict[str, str]:
    """`NAME = "literal"` at module level (inside module-level if/try too). Such a name is a
    constant only if it is bound nowhere else in the file: see _binding_counts."""
    assigned = {}
    pending = list(tree.body)
    while pending:
        stmt = pending.pop()
        if isinstance(stmt, (ast.If, ast.Try)):  # still module level: look inside
            pending.extend(stmt.body + stmt.orelse + getattr(stmt, "finalbody", []))
            for handler in getattr(stmt, "handlers", []):
                pending.extend(handler.body)
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        ):
            assigned[stmt.targets[0].id] = stmt.value.value
    return assigned


def _binding_counts(tree: ast.Module) -> dict[str, int]:
    """How many times each name is bound (assigned, deleted, a parameter) anywhere in the file."""
    bound: dict[str, int] = {}
    for node in every_node(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound[node.id] = bound.get(node.id, 0) + 1
        elif isinstance(node, ast.arg):
            bound[node.arg] = bound.get(node.arg, 0) + 1
    return bound
