"""Where things are: line/column of the libcst walk's statements, import names and calls.

From the stdlib `ast` of the same bytes, matched to libcst statements in source order: libcst's
PositionProvider costs about four times the parse on TVM, while `ast.parse` costs a fraction of it.
Where the two views disagree (PositionMismatch) the scan falls back to PositionProvider.
"""

from __future__ import annotations

import ast
import bisect

import libcst as cst

from .astnodes import callee, header_nodes, line_span


class PositionMismatch(Exception):
    """The ast and libcst views of a file disagree; positions must come from libcst itself."""


class AstPositions:
    """Line/column of statements and import names, from `ast`, in source order."""

    def __init__(self, statements: list[ast.stmt], dynamic_callees: frozenset[str],
                 call_lines: frozenset[int] | None = None) -> None:
        self.statements = statements  # astnodes.in_source_order
        self.dynamic_callees = dynamic_callees
        # Lines whose text names a dynamic callee (any spelling's last part): a statement covering
        # none cannot hold such a call, and its expressions need no libcst visit. None: unknown.
        self._call_lines = sorted(call_lines) if call_lines is not None else None

    def may_call(self, index: int) -> bool:
        """Whether statement `index` (decorators included) may hold a call of a dynamic callee."""
        if self._call_lines is None or index >= len(self.statements):
            return True
        stmt = self.statements[index]
        first, last = line_span(stmt)
        at = bisect.bisect_left(self._call_lines, first)
        return at < len(self._call_lines) and self._call_lines[at] <= last

    def statement(self, index: int, expected: type | None) -> ast.stmt:
        if index >= len(self.statements):
            raise PositionMismatch
        node = self.statements[index]
        if expected is not None and not isinstance(node, expected):
            raise PositionMismatch
        return node

    def line(self, index: int, node: cst.CSTNode) -> tuple[int, int]:
        stmt = self.statement(index, None)
        return stmt.lineno, stmt.col_offset + 1

    def alias(self, index: int, node: cst.CSTNode, alias_index: int) -> tuple[int, int]:
        stmt = self.statement(index, (ast.Import, ast.ImportFrom))
        if alias_index >= len(stmt.names):
            raise PositionMismatch
        alias = stmt.names[alias_index]
        return alias.lineno, alias.col_offset + 1

    def call(self, index: int, node: cst.CSTNode, call_index: int) -> tuple[int, int]:
        stmt = self.statement(index, None)
        calls = sorted(
            (n for n in header_nodes(stmt) if isinstance(n, ast.Call) and callee(n) in self.dynamic_callees),
            key=lambda n: (n.lineno, n.col_offset),
        )
        if call_index >= len(calls):
            return stmt.lineno, stmt.col_offset + 1
        return calls[call_index].lineno, calls[call_index].col_offset + 1

    def check_count(self, visited: int) -> None:
        if visited != len(self.statements):
            raise PositionMismatch


class CstPositions:
    """The slow, always-right fallback: libcst's own PositionProvider."""

    def may_call(self, index: int) -> bool:
        return True

    def __init__(self, module: cst.Module) -> None:
        from libcst.metadata import MetadataWrapper, PositionProvider

        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.positions = wrapper.resolve(PositionProvider)

    def _at(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self.positions[node].start
        return start.line, start.column + 1

    def line(self, index: int, node: cst.CSTNode) -> tuple[int, int]:
        return self._at(node)

    def alias(self, index: int, node: cst.CSTNode, alias_index: int) -> tuple[int, int]:
        return self._at(node)

    def call(self, index: int, node: cst.CSTNode, call_index: int) -> tuple[int, int]:
        return self._at(node)

    def check_count(self, visited: int) -> None:
        pass
