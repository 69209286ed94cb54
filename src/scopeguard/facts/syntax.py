"""Small questions about libcst nodes, shared by the passes: names, literal strings, blocks, code text."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst


def last_name(expr: cst.BaseExpression) -> str | None:
    """`b` of `a.b` or of `b`; None for anything else."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def dotted_name(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = dotted_name(expr.value)
        return f"{base}.{expr.attr.value}" if base else None
    return None


def string_value(expr: cst.BaseExpression) -> str | None:
    """The value of a plain (possibly implicitly concatenated) string literal."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def single_string_index(expr: cst.Subscript) -> str | None:
    """`"K"` of `x["K"]`."""
    if len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        return string_value(expr.slice[0].slice.value)
    return None


def block_statements(block: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    """The statements of a suite; a one-line suite (`if X: import y`) is itself the statement."""
    return block.body if isinstance(block, cst.IndentedBlock) else [block]


def last_small_statement(statements: Sequence[cst.CSTNode]) -> cst.CSTNode | None:
    """The statement that ends a block (the last small statement of a `a; b` line)."""
    if not statements:
        return None
    last = statements[-1]
    if isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return last.body[-1] if last.body else None
    return last


_EMPTY = cst.Module(body=[])


def code(node: cst.CSTNode) -> str:
    """The node's source text on one line (whitespace runs collapsed), for messages."""
    return " ".join(_EMPTY.code_for_node(node).split())
