"""The guard walk: every statement in source order with the stack of guards that encloses it.

Guards are functions and lambdas, toggle conditions (`if`/`elif`/`else`/`while`), early exits
(`if not X: return`), toggle decorators, `try/except ImportError` and `contextlib.suppress`. The
walk itself collects nothing: it hands each statement, and each call that may be a dynamic import,
to the passes listening (imports.ImportSites), and keeps each statement's guards for the passes that
read the `ast` view (names.NameCollector).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import libcst as cst

from ..model import Guard, GuardKind
from .positions import CstPositions
from .syntax import block_statements, code, dotted_name, last_name, last_small_statement
from .toggles import ToggleMatcher, frozen

# Exception names whose handler catches a failed import.
IMPORT_ERROR_CATCHERS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
# What a registry lookup of a missing name raises, with their bases (tvm_ffi: ValueError; older
# TVM: RuntimeError/TVMError; AttributeError for a missing attribute of a module).
_LOOKUP_ERROR_CATCHERS = frozenset({"ValueError", "RuntimeError", "TVMError", "LookupError", "KeyError", "AttributeError"})
# Calls that end the current block as surely as `raise` does.
_EXIT_CALLS = frozenset({"pytest.skip", "pytest.fail", "sys.exit", "exit", "quit", "os._exit"})

Guards = tuple[Guard, ...]


class WalkPass(Protocol):
    """A pass fed by the guard walk."""

    def small_statement(self, small: cst.BaseSmallStatement, index: int, guards: Guards) -> None: ...

    def dynamic_call(self, call: cst.Call, position: tuple[int, int], guards: Guards) -> None: ...


class GuardWalk:
    """Visits statements in source order, keeping the stack of guards that enclose each one."""

    def __init__(
        self,
        matcher: ToggleMatcher,
        positions,
        passes: Sequence[WalkPass],
        scan_calls: bool,
        dynamic_callees: frozenset[str],
        mentions_possible: bool = True,
    ):
        self.matcher = matcher
        self.positions = positions
        self.passes = passes
        self.scan_calls = scan_calls  # only files that mention import_module/__import__/find_spec
        self.dynamic_callees = dynamic_callees  # call names worth a look, aliases included
        self.mentions_possible = mentions_possible  # False when no toggle is spelled in the file
        self.index = -1
        # The guards of every statement, by walk index, for the passes over the `ast` view; with
        # libcst positions also each statement's line.
        self.statement_guards: list[Guards] = []
        self.statement_lines: list[int] | None = [] if isinstance(positions, CstPositions) else None

    def run(self, module: cst.Module) -> None:
        self.block(module.body, ())
        self.positions.check_count(self.index + 1)

    # statements

    def block(self, statements: Sequence[cst.CSTNode], guards: Guards, method_guards=()) -> None:
        for stmt in statements:
            exit_guard = self.statement(stmt, guards, method_guards)
            if exit_guard is not None:
                guards = guards + (exit_guard,)

    def statement(self, stmt: cst.CSTNode, guards: Guards, method_guards=()) -> Guard | None:
        """Walk one statement; return the guard it puts on the rest of its block (early exit)."""
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in stmt.body:
                self.small_statement(small, guards)
            return
        self.index += 1
        index = self.index
        line = self.positions.line(index, stmt)[0]
        self.statement_guards.append(guards)
        if self.statement_lines is not None:
            self.statement_lines.append(line)
        if isinstance(stmt, cst.If):
            self.expressions(stmt.test, index, guards)
            self._if(stmt, guards, line)
            return self._early_exit(stmt, line)
        elif isinstance(stmt, cst.FunctionDef):
            for decorator in stmt.decorators:
                self.expressions(decorator, index, guards)
            self.expressions(stmt.params, index, guards)
            inner = guards + (Guard(GuardKind.FUNCTION, line, f"def {stmt.name.value}"),) + tuple(method_guards)
            for decorator in stmt.decorators:
                knowledge = self.matcher.decorator_toggles(decorator)
                if knowledge:
                    text = "@" + (dotted_name(decorator.decorator) or code(decorator.decorator))
                    inner += (Guard(GuardKind.DECORATOR, line, text, frozen(knowledge)),)
            self.block(block_statements(stmt.body), inner)
        elif isinstance(stmt, cst.ClassDef):
            for decorator in stmt.decorators:
                self.expressions(decorator, index, guards)
            # A toggle decorator on a test class guards its methods, not its body.
            class_guards = tuple(
                Guard(GuardKind.DECORATOR, line, "@" + code(d.decorator), frozen(k))
                for d in stmt.decorators
                if (k := self.matcher.decorator_toggles(d))
            )
            self.block(block_statements(stmt.body), guards, class_guards)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            self._try(stmt, guards, line)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                self.expressions(item, index, guards)
            inner = guards
            if any(_suppresses_import_error(item.item) for item in stmt.items):
                inner = guards + (Guard(GuardKind.OPTIONAL, line, "contextlib.suppress(ImportError)"),)
            self.block(block_statements(stmt.body), inner)
        elif isinstance(stmt, cst.While):
            self.expressions(stmt.test, index, guards)
            self.block(block_statements(stmt.body), guards + self._condition(stmt.test, True, line, "while"))
            if stmt.orelse is not None:
                self.block(block_statements(stmt.orelse.body), guards)
        elif isinstance(stmt, cst.For):
            self.expressions(stmt.target, index, guards)
            self.expressions(stmt.iter, index, guards)
            self.block(block_statements(stmt.body), guards)
            if stmt.orelse is not None:
                self.block(block_statements(stmt.orelse.body), guards)
        elif isinstance(stmt, cst.Match):
            self.expressions(stmt.subject, index, guards)
            for case in stmt.cases:
                self.block(block_statements(case.body), guards)
        else:  # an unknown compound statement from a newer grammar: still find imports inside
            body = getattr(stmt, "body", None)
            if body is not None and hasattr(body, "body"):
                self.block(block_statements(body), guards)
        return None

    def _condition(self, test: cst.BaseExpression, truth: bool, line: int, keyword: str) -> Guards:
        knowledge = self.matcher.implies(test, truth)
        mentioned = self.matcher.mentioned(test) - set(knowledge) if self.mentions_possible else frozenset()
        if not knowledge and not mentioned:
            return ()
        text = f"{keyword} {code(test)}" if truth else f"{keyword} not ({code(test)})"
        return (Guard(GuardKind.CONDITION, line, text, frozen(knowledge), mentioned),)

    def _if(self, stmt: cst.If, guards: Guards, line: int) -> None:
        self.block(block_statements(stmt.body), guards + self._condition(stmt.test, True, line, "if"))
        orelse = stmt.orelse
        if orelse is None:
            return
        otherwise = guards + self._condition(stmt.test, False, line, "if")
        if isinstance(orelse, cst.If):  # elif: its own test adds to what the else already knows
            self.statement(orelse, otherwise)
        else:
            self.block(block_statements(orelse.body), otherwise)

    def _early_exit(self, stmt: cst.If, line: int) -> Guard | None:
        """After `if X: return`, the rest of the block runs only when X is false (and vice versa)."""
        if isinstance(stmt.orelse, cst.If):
            return None  # elif chains: too many paths to say anything sound cheaply
        body_exits = _ends_block(block_statements(stmt.body), self.matcher)
        else_exits = stmt.orelse is not None and _ends_block(block_statements(stmt.orelse.body), self.matcher)
        if body_exits == else_exits:
            return None
        truth = not body_exits
        knowledge = self.matcher.implies(stmt.test, truth)
        if not knowledge:
            return None
        branch = "else" if truth else "if"
        text = f"after `if {code(stmt.test)}` whose {branch} branch leaves the block"
        return Guard(GuardKind.EARLY_EXIT, line, text, frozen(knowledge))

    def _try(self, stmt: cst.Try, guards: Guards, line: int) -> None:
        handler = next((h for h in stmt.handlers if _catches(h, IMPORT_ERROR_CATCHERS, bare=True)), None)
        inner = guards
        # A handler that re-raises (`raise RuntimeError("need msc") from e`) is no guard.
        if handler is not None and not _ends_with_raise(block_statements(handler.body)):
            text = "except " + (code(handler.type) if handler.type is not None else "")
            inner = guards + (Guard(GuardKind.OPTIONAL, line, text.strip()),)
        elif handler is None:
            # A bare except catches ImportError too: handled as OPTIONAL above.
            lookup = next((h for h in stmt.handlers if _catches(h, _LOOKUP_ERROR_CATCHERS, bare=False)), None)
            if lookup is not None and not _ends_with_raise(block_statements(lookup.body)):
                inner = guards + (Guard(GuardKind.TOLERANT, line, "except " + code(lookup.type)),)
        self.block(block_statements(stmt.body), inner)
        for h in stmt.handlers:
            self.block(block_statements(h.body), guards)
        if stmt.orelse is not None:
            self.block(block_statements(stmt.orelse.body), guards)
        if stmt.finalbody is not None:
            self.block(block_statements(stmt.finalbody.body), guards)

    def small_statement(self, small: cst.CSTNode, guards: Guards) -> None:
        self.index += 1
        index = self.index
        self.statement_guards.append(guards)
        if self.statement_lines is not None:
            self.statement_lines.append(self.positions.line(index, small)[0])
        for listener in self.passes:
            listener.small_statement(small, index, guards)
        if not isinstance(small, (cst.Import, cst.ImportFrom)):
            self.expressions(small, index, guards)

    # expressions: calls that may import

    def expressions(self, node: cst.CSTNode, index: int, guards: Guards) -> None:
        if self.scan_calls:
            node.visit(_DynamicCallFinder(self, index, guards))

    def call(self, call: cst.Call, index: int, call_index: int, guards: Guards) -> None:
        position = self.positions.call(index, call, call_index)
        for listener in self.passes:
            listener.dynamic_call(call, position, guards)


class _DynamicCallFinder(cst.CSTVisitor):
    """Finds calls to import_module/__import__/find_spec (by name) in one statement's expressions,
    in source order, with the lambdas around them."""

    def __init__(self, walk: GuardWalk, index: int, guards: Guards) -> None:
        self.walk = walk
        self.index = index
        self.guards = guards
        self.count = 0
        self.lambdas: list[Guard] = []

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.lambdas.append(Guard(GuardKind.FUNCTION, 0, "lambda"))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.lambdas.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if last_name(node.func) in self.walk.dynamic_callees:
            self.walk.call(node, self.index, self.count, self.guards + tuple(self.lambdas))
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
            rights.append(part.right)
            part = part.left
        part.visit(self)
        for right in reversed(rights):
            right.visit(self)
        return False


def guards_have_function(guards: Sequence[Guard]) -> bool:
    return any(g.kind is GuardKind.FUNCTION for g in guards)


def _catches(handler: cst.ExceptHandler, names: frozenset[str], bare: bool) -> bool:
    if handler.type is None:
        return bare
    types = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
    return any(last_name(t) in names for t in types)


def _ends_block(statements: Sequence[cst.CSTNode], matcher=None) -> bool:
    """True if the last statement of a block leaves it: return, raise, continue, break, sys.exit()
    (the callee as bound in the file: a module's own `def exit(): pass` is no exit)."""
    last = last_small_statement(statements)
    if isinstance(last, (cst.Return, cst.Raise, cst.Continue, cst.Break)):
        return True
    if isinstance(last, cst.Expr) and isinstance(last.value, cst.Call):
        callee = matcher.callee(last.value.func) if matcher is not None else dotted_name(last.value.func)
        return callee in _EXIT_CALLS
    return False


def _ends_with_raise(statements: Sequence[cst.CSTNode]) -> bool:
    return isinstance(last_small_statement(statements), cst.Raise)


def _suppresses_import_error(expr: cst.BaseExpression) -> bool:
    if not isinstance(expr, cst.Call) or last_name(expr.func) != "suppress":
        return False
    return any(last_name(arg.value) in IMPORT_ERROR_CATCHERS for arg in expr.args)
