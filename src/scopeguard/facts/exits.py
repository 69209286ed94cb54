"""Where control leaves a block: statements that end it (`return`, `raise`, `continue`, `break`,
`sys.exit()` and the other exit calls), paths through a handler that raise or exit, and the
`break`/`continue` of a loop's own body. The guard walk turns these into early-exit and dead-code
guards.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from .syntax import block_statements, dotted_name


def is_exit(small: cst.CSTNode, exit_calls: frozenset[str]) -> bool:
    """`small` ends its block for sure: `return`, `raise`, `continue`, `break` or a call spelled
    as one of `exit_calls` (file_context.WalkContext.exit_calls)."""
    if isinstance(small, (cst.Return, cst.Raise, cst.Continue, cst.Break)):
        return True
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        return dotted_name(small.value.func) in exit_calls
    return False


def _child_blocks(stmt: cst.CSTNode, loops: bool = True):
    """The statement lists nested in a compound statement (not in nested functions or classes;
    with loops=False not in nested loops' bodies, whose break/continue are their own)."""
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
        return
    if isinstance(stmt, (cst.For, cst.While)) and not loops:
        if stmt.orelse is not None:
            yield block_statements(stmt.orelse.body)
        return
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.BaseSuite):
        yield block_statements(body)
    orelse = getattr(stmt, "orelse", None)
    if isinstance(orelse, cst.If):
        yield [orelse]
    elif orelse is not None and hasattr(orelse, "body"):
        yield block_statements(orelse.body)
    for handler in getattr(stmt, "handlers", ()) or ():
        yield block_statements(handler.body)
    final = getattr(stmt, "finalbody", None)
    if final is not None:
        yield block_statements(final.body)
    for case in getattr(stmt, "cases", ()) or ():
        yield block_statements(case.body)


def _find_small(statements, predicate, loops: bool = True) -> bool:
    pending = list(statements)
    while pending:
        stmt = pending.pop()
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            if any(predicate(small) for small in stmt.body):
                return True
            continue
        for block in _child_blocks(stmt, loops):
            pending.extend(block)
    return False


def may_leave(statements: Sequence[cst.CSTNode], exits: frozenset[str]) -> bool:
    """Some path through a handler raises or exits (`raise`, `raise X from e`, `sys.exit()`), in
    nested blocks too: such a handler does not make the failure survivable."""

    def leaves(small: cst.CSTNode) -> bool:
        if isinstance(small, cst.Raise):
            return True
        return isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and dotted_name(small.value.func) in exits

    return _find_small(statements, leaves)


def loop_breaks(body: cst.BaseSuite) -> bool:
    return _find_small(block_statements(body), lambda s: isinstance(s, cst.Break), loops=False)


def loop_continues(stmt: cst.CSTNode) -> bool:
    return _find_small([stmt], lambda s: isinstance(s, cst.Continue), loops=False)

