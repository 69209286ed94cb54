"""The dynamic-call finder: within one statement's expressions, the calls that may be a dynamic
import (import_module/__import__/find_spec and their aliases, `getattr(importlib,
"import_module")(...)`), in source order, each with the guards the expression adds around it
(lambdas, conditional expressions, `and`/`or` operands). Run by GuardWalk.expressions, which hands
each call found to the passes.
"""

from __future__ import annotations

from typing import Protocol

import libcst as cst

from ..base.model import Guard, GuardKind
from .syntax import last_name, string_value

Guards = tuple[Guard, ...]


class Walk(Protocol):
    """What the finder asks of the walk (guard_walk.GuardWalk, which imports this module)."""

    dynamic_callees: frozenset[str]

    def _condition(self, test: cst.BaseExpression, truth: bool, line: int, keyword: str) -> Guards: ...

    def call(self, call: cst.Call, index: int, call_index: int, guards: Guards) -> None: ...


class DynamicCallFinder(cst.CSTVisitor):
    """Finds calls to import_module/__import__/find_spec (by name) in one statement's expressions,
    in source order, with the guards inside the expression around them: lambdas (not an
    immediately called one; its defaults run now), conditional expressions and the right operands
    of `and`/`or`."""

    def __init__(self, walk: Walk, index: int, guards: Guards) -> None:
        self.walk = walk
        self.index = index
        self.guards = guards
        self.count = 0
        self.extra: list[Guard] = []
        self.called: set[int] = set()  # ids of lambdas called where they are written

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        node.params.visit(self)  # defaults run where the lambda is written
        called = id(node) in self.called
        if not called:
            self.extra.append(Guard(GuardKind.FUNCTION, 0, "lambda"))
        node.body.visit(self)
        if not called:
            self.extra.pop()
        return False

    def visit_IfExp(self, node: cst.IfExp) -> bool:
        # in source order (body, test, orelse), as positions.AstPositions counts calls
        for part, truth in ((node.body, True), (node.test, None), (node.orelse, False)):
            added = self.walk._condition(node.test, truth, 0, "if") if truth is not None else ()
            self.extra.extend(added)
            part.visit(self)
            del self.extra[len(self.extra) - len(added):]
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Lambda):
            self.called.add(id(func))
        name = last_name(func)
        if name is None and isinstance(func, cst.Call) and last_name(func.func) == "getattr" and len(func.args) >= 2:
            name = string_value(func.args[1].value)  # getattr(importlib, "import_module")(...)
            if name is None:
                name = "getattr()"  # getattr(importlib, name)(...): imports.ImportSites decides
        if name in self.walk.dynamic_callees:
            self.walk.call(node, self.index, self.count, self.guards + tuple(self.extra))
            self.count += 1

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        # `"a" "b" "c" ...` nests one level per string (pydoc_data/topics.py: thousands), deeper
        # than the recursion limit; walk the chain in a loop and visit only f-strings, which may
        # hold calls.
        part: cst.BaseExpression = node
        while isinstance(part, cst.ConcatenatedString):
            if isinstance(part.left, cst.FormattedString):
                part.left.visit(self)
            part = part.right
        if isinstance(part, cst.FormattedString):
            part.visit(self)
        return False

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> bool:
        return self._left_chain(node, cst.BinaryOperation)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> bool:
        return self._left_chain(node, cst.BooleanOperation)

    def _left_chain(self, node: cst.BaseExpression, kind: type) -> bool:
        # `a + b + c + ...` nests to the left, one level per operand (generated tables: hundreds);
        # visit the operands in source order from a loop instead of recursing through the chain.
        rights = []
        part = node
        while isinstance(part, kind):
            rights.append(part)
            part = part.left
        part.visit(self)
        depth = len(self.extra)
        for op in reversed(rights):
            if kind is cst.BooleanOperation:
                # `a and b`: b runs only when a is true; `a or b`: only when a is false
                self.extra.extend(self.walk._condition(op.left, isinstance(op.operator, cst.And), 0, "if"))
            op.right.visit(self)
        del self.extra[depth:]
        return False
