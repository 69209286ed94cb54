"""The guard walk: every statement in source order with the stack of guards that encloses it.

Guards are functions and lambdas, toggle conditions (`if`/`elif`/`else`/`while`/`match`/`case ...
if`, conditional expressions), early exits (what must hold for control to reach a statement after
`if not X: return`, elif chains, `try/finally`, `with` blocks, `match`, a loop's `else`), toggle
decorators, handlers (`try/except`, `contextlib.suppress`, by the exceptions they catch without
re-raising or exiting on any path) and dead code (constant-false tests, statements after an
unconditional exit). The walk itself collects nothing: it hands each statement, and each call that
may be a dynamic import, to the passes listening (imports.ImportSites), and keeps each statement's
guards for the passes that read the `ast` view (names.NameCollector).

Each statement returns the guards that hold after it (None: control never gets past it), so early
exits compose through every compound statement.

The walk asks its sibling modules the questions that need no walk state: file_context.py (exit
calls, exception aliases, suppress names of the file), truth.py (constant tests, `case` patterns),
exits.py (statements and paths that leave a block), handlers.py (what a handler or `suppress`
catches, and whether the failure it swallows comes back), dynamic_calls.py (the calls in an
expression that may import).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import libcst as cst

from ..base.model import Guard, GuardKind
from .dynamic_calls import DynamicCallFinder
from .exits import is_exit, loop_breaks, loop_continues
from .file_context import WalkContext
from .handlers import (
    LOOKUP_ERROR_CATCHERS,
    catches_one_of,
    completes,
    handler_catches,
    handler_may_catch,
    non_suppressing,
    converter_catches,
    raised_instead,
    reraises_unchanged,
    suppresses,
    used_after,
)
from .positions import CstPositions
from .syntax import block_statements, code, dotted_name, last_small_statement
from .toggle_knowledge import frozen
from .toggle_matcher import ToggleMatcher
from .truth import UNKNOWN, can_be, pattern_test, runs_at_least_once

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
        context: WalkContext | None = None,
    ):
        self.matcher = matcher
        self.positions = positions
        self.passes = passes
        self.scan_calls = scan_calls  # only files that mention import_module/__import__/find_spec
        self.dynamic_callees = dynamic_callees  # call names worth a look, aliases included
        self.mentions_possible = mentions_possible  # False when no toggle is spelled in the file
        self.context = context if context is not None else WalkContext()
        self._rest: Sequence[cst.CSTNode] = ()
        self._last_mentioned: tuple = (None, frozenset())
        self.index = -1
        # The guards of every statement, by walk index, for the passes over the `ast` view; with
        # libcst positions also each statement's line.
        self.statement_guards: list[Guards] = []
        self.statement_lines: list[int] | None = [] if isinstance(positions, CstPositions) else None

    def run(self, module: cst.Module) -> None:
        self.block(module.body, ())
        self.positions.check_count(self.index + 1)

    # statements

    def block(self, statements: Sequence[cst.CSTNode], guards: Guards, method_guards=()) -> Guards | None:
        """Walk a block; return the guards that hold at its end (None: its end is never reached)."""
        current: Guards | None = guards
        for position, stmt in enumerate(statements):
            if isinstance(stmt, (cst.Try, cst.TryStar, cst.With)):
                self._rest = statements[position + 1:]  # what runs after it: uses of what it imports
            if current is None:  # after an unconditional exit: never runs
                current = guards + (self._dead(0),)
                self.statement(stmt, current, method_guards)
                continue
            current = self.statement(stmt, current, method_guards)
        return current

    def _enter(self, stmt: cst.CSTNode, guards: Guards) -> tuple[int, int]:
        self.index += 1
        index = self.index
        line = self.positions.line(index, stmt)[0]
        self.statement_guards.append(guards)
        if self.statement_lines is not None:
            self.statement_lines.append(line)
        return index, line

    def statement(self, stmt: cst.CSTNode, guards: Guards, method_guards=()) -> Guards | None:
        """Walk one statement; return the guards that hold after it (None: control never goes on)."""
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            after: Guards | None = guards
            for small in stmt.body:
                self.small_statement(small, after if after is not None else guards + (self._dead(0),))
                if after is not None and is_exit(small, self.context.exit_calls):
                    after = None
            return after
        index, line = self._enter(stmt, guards)
        if isinstance(stmt, cst.If):
            return self._if(stmt, guards, index, line)
        if isinstance(stmt, cst.FunctionDef):
            for decorator in stmt.decorators:
                self.expressions(decorator, index, guards)
            self.expressions(stmt.params, index, guards)
            if stmt.returns is not None:
                self.expressions(stmt.returns, index, guards)
            inner = guards + (Guard(GuardKind.FUNCTION, line, f"def {stmt.name.value}"),) + tuple(method_guards)
            for decorator in stmt.decorators:
                knowledge = self.matcher.decorator_toggles(decorator)
                if knowledge:
                    text = "@" + (dotted_name(decorator.decorator) or code(decorator.decorator))
                    inner += (Guard(GuardKind.DECORATOR, line, text, frozen(knowledge)),)
            self.block(block_statements(stmt.body), inner)
            return guards
        if isinstance(stmt, cst.ClassDef):
            for decorator in stmt.decorators:
                self.expressions(decorator, index, guards)
            for arg in (*stmt.bases, *stmt.keywords):
                self.expressions(arg, index, guards)
            # A toggle decorator on a test class guards its methods, not its body.
            class_guards = tuple(
                Guard(GuardKind.DECORATOR, line, "@" + code(d.decorator), frozen(k))
                for d in stmt.decorators
                if (k := self.matcher.decorator_toggles(d))
            )
            self.block(block_statements(stmt.body), guards, class_guards)
            return guards
        if isinstance(stmt, (cst.Try, cst.TryStar)):
            return self._try(stmt, guards, line)
        if isinstance(stmt, cst.With):
            return self._with(stmt, guards, index, line)
        if isinstance(stmt, cst.While):
            return self._while(stmt, guards, index, line)
        if isinstance(stmt, cst.For):
            return self._for(stmt, guards, index, line)
        if isinstance(stmt, cst.Match):
            return self._match(stmt, guards, index, line)
        # an unknown compound statement from a newer grammar: still find imports inside
        body = getattr(stmt, "body", None)
        if body is not None and hasattr(body, "body"):
            self.block(block_statements(body), guards)
        return guards

    # conditions

    def knowledge(self, test: cst.BaseExpression, truth: bool):
        """What `test` evaluating to `truth` guarantees: a frozenset of (toggle, state) pairs (the
        toggle model evaluates the whole test in every OFF state), or None when it cannot happen on
        import (a constant of the other truth, a disjunction whose every part is impossible)."""
        if not can_be(test, truth):
            return None
        return frozen(self.matcher.implies(test, truth))

    def _condition(self, test: cst.BaseExpression, truth: bool, line: int, keyword: str) -> Guards:
        knowledge = self.knowledge(test, truth)
        if knowledge is None:
            return (Guard(GuardKind.DEAD, line, _text(keyword, test, truth)),)
        mentioned = self._mentioned(test) - {name for name, _ in knowledge} if self.mentions_possible else frozenset()
        if not knowledge and not mentioned:
            return ()
        return (Guard(GuardKind.CONDITION, line, _text(keyword, test, truth), knowledge, mentioned),)

    def _mentioned(self, test: cst.BaseExpression) -> frozenset[str]:
        """matcher.mentioned, once per test (an `if` asks for its body and for what follows)."""
        if self._last_mentioned[0] is not test:
            self._last_mentioned = (test, self.matcher.mentioned(test))
        return self._last_mentioned[1]

    def _dead(self, line: int, text: str = "after an unconditional exit") -> Guard:
        return Guard(GuardKind.DEAD, line, text)

    def _join(self, guards: Guards, ends: list[Guards | None], line: int, text: str) -> Guards | None:
        """The guards after a statement whose paths end with `ends` (each `guards` plus a suffix;
        None for a path that leaves): what every path that goes on guarantees."""
        live = [e for e in ends if e is not None and not any(g.kind is GuardKind.DEAD for g in e[len(guards):])]
        if not live:
            return None if all(e is None for e in ends) else guards + (self._dead(line, text),)
        common: frozenset | None = None
        for end in live:
            pairs = frozenset(p for g in end[len(guards):] for p in g.knowledge)
            common = pairs if common is None else common & pairs
        if not common:
            return guards
        return guards + (Guard(GuardKind.EARLY_EXIT, line, text, common),)

    def _if(self, stmt: cst.If, guards: Guards, index: int, line: int) -> Guards | None:
        self.expressions(stmt.test, index, guards)
        first_test = stmt.test
        ends: list[Guards | None] = []
        otherwise = guards
        current: cst.If | None = stmt
        current_line = line
        unchanged = True  # every branch so far ends as it began: nothing to carry past the `if`
        while current is not None:
            body_guards = otherwise + self._condition(current.test, True, current_line, "if")
            end = self.block(block_statements(current.body), body_guards)
            ends.append(end)
            unchanged = unchanged and end is body_guards and not (body_guards[-1:] and body_guards[-1].kind is GuardKind.DEAD)
            orelse = current.orelse
            if orelse is None and unchanged:
                # `if X:` alone, no exit in it: what follows knows nothing new (X and not X share
                # no pair), so the else-side test need not be worked out
                return guards
            otherwise = otherwise + self._condition(current.test, False, current_line, "if")
            if isinstance(orelse, cst.If):  # elif: its own test adds to what the else already knows
                elif_index, current_line = self._enter(orelse, otherwise)
                self.expressions(orelse.test, elif_index, otherwise)
                current = orelse
                continue
            if orelse is None:
                ends.append(otherwise)
            else:
                ends.append(self.block(block_statements(orelse.body), otherwise))
            current = None
        return self._join(guards, ends, line, f"after `if {code(first_test)}` (only some of its branches go on)")

    def _try(self, stmt: cst.Try, guards: Guards, line: int) -> Guards | None:
        catches: set[str] = set()
        covered: set[str] = set()
        lookup = None
        texts = []
        # A `finally` that may raise (or anything outside the closed set handlers.completes knows)
        # undoes every handler: the failure, caught, is replaced by its own.
        final_ok = stmt.finalbody is None or completes(block_statements(stmt.finalbody.body), self.context)
        # what handlers catch and may raise something else instead (`raise RuntimeError(...) from e`,
        # a call that may raise), and what that may be: a CONVERTS guard (analysis/verdicts.py)
        converted: set[str] = set()
        outcomes: set[str] = set()
        converting = []
        for h in stmt.handlers:
            caught = handler_catches(h, self.context.error_names)
            new = caught - covered - ({"ModuleNotFoundError"} if "ImportError" in covered else set())
            leaves = not final_ok or not completes(block_statements(h.body), self.context)
            may = handler_may_catch(h, self.context.error_names) - covered
            if may and leaves and not (final_ok and reraises_unchanged(block_statements(h.body), self.context)):
                converted |= may
                outcomes |= raised_instead(block_statements(h.body), self.context) if final_ok else {"?"}
                converting.append("except " + (code(h.type) if h.type is not None else ""))
            if new and leaves:
                if new & {"ImportError", "ModuleNotFoundError"}:
                    # `except ModuleNotFoundError: raise` then `except ImportError: pass`: the later
                    # handler catches only what the earlier one let through; not told apart, so
                    # none of the import failures counts as caught
                    covered |= {"ImportError", "ModuleNotFoundError"}
                    new = set()
            if new and not leaves:
                catches |= new
                texts.append("except " + (code(h.type) if h.type is not None else ""))
            covered |= caught
            if lookup is None and not leaves and catches_one_of(h, LOOKUP_ERROR_CATCHERS, bare=False):
                lookup = h
        inner = guards
        if converted:
            # what leaves the body caught by these handlers is no longer the import's failure:
            # enclosing handlers protect it only if they catch what the handlers raise instead
            inner = guards + (Guard(GuardKind.CONVERTS, line, ", ".join(converting) + " (may raise another error)",
                                    catches=converter_catches(converted, outcomes)),)
        if not catches & {"ImportError", "ModuleNotFoundError"}:
            catches = set()  # AttributeError alone: a star import's failure only; not counted
        rest, self._rest = self._rest, ()
        if catches and used_after(stmt, rest):
            catches = set()  # `except ImportError: feat = None` then `feat.x` at once: it fails anyway
        if catches:
            inner = inner + (Guard(GuardKind.OPTIONAL, line, ", ".join(t.strip() for t in texts), catches=frozenset(catches)),)
        elif lookup is not None and "ImportError" not in covered:
            inner = inner + (Guard(GuardKind.TOLERANT, line, "except " + code(lookup.type)),)
        body_end = self.block(block_statements(stmt.body), inner)
        if body_end is not None and inner is not guards:
            body_end = guards + body_end[len(inner):]
        ends: list[Guards | None] = []
        for h in stmt.handlers:
            ends.append(self.block(block_statements(h.body), guards))
        if stmt.orelse is not None:
            start = body_end if body_end is not None else guards + (self._dead(line),)
            end = self.block(block_statements(stmt.orelse.body), start)
            ends.insert(0, end if body_end is not None else None)
        else:
            ends.insert(0, body_end)
        after = self._join(guards, ends, line, "after a `try` block that leaves on some paths")
        if stmt.finalbody is not None:
            final_end = self.block(block_statements(stmt.finalbody.body), guards)
            if final_end is None:
                return None
        return after

    def _with(self, stmt: cst.With, guards: Guards, index: int, line: int) -> Guards | None:
        for item in stmt.items:
            self.expressions(item, index, guards)
        inner = guards
        catches: set[str] = set()
        for item in stmt.items:
            catches |= suppresses(item.item, self.context.suppress_names, self.context.error_names)
        rest, self._rest = self._rest, ()
        if catches & {"ImportError", "ModuleNotFoundError"} and not used_after(stmt, rest):
            inner = guards + (Guard(GuardKind.OPTIONAL, line, "contextlib.suppress(" + ", ".join(sorted(catches)) + ")",
                                    catches=frozenset(catches)),)
        end = self.block(block_statements(stmt.body), inner)
        if all(non_suppressing(item.item) for item in stmt.items):
            return None if end is None else guards + end[len(inner):]
        return guards  # the manager may swallow a `raise` in the body: what follows may run anyway

    def _while(self, stmt: cst.While, guards: Guards, index: int, line: int) -> Guards | None:
        self.expressions(stmt.test, index, guards)
        self.block(block_statements(stmt.body), guards + self._condition(stmt.test, True, line, "while"))
        # without `break`, the loop ends only when its test is false
        exhausted = guards + self._condition(stmt.test, False, line, "while")
        has_break = loop_breaks(stmt.body)
        if stmt.orelse is not None:
            end = self.block(block_statements(stmt.orelse.body), exhausted)
            return guards if has_break else end
        return guards if has_break else self._join(guards, [exhausted], line, f"after `while {code(stmt.test)}`")

    def _for(self, stmt: cst.For, guards: Guards, index: int, line: int) -> Guards | None:
        self.expressions(stmt.target, index, guards)
        self.expressions(stmt.iter, index, guards)
        self.block(block_statements(stmt.body), guards)
        if stmt.orelse is None:
            return guards
        else_guards = guards
        if runs_at_least_once(stmt.iter):
            pairs = self._first_iteration_breaks(stmt.body)
            if pairs is None:
                else_guards = guards + (self._dead(line, "a loop `else` after a `break` that always runs"),)
            elif pairs:
                else_guards = guards + (Guard(GuardKind.EARLY_EXIT, line, "the loop's `else` (no `break` taken)", pairs),)
        self.block(block_statements(stmt.orelse.body), else_guards)
        return guards

    def _first_iteration_breaks(self, body: cst.BaseSuite):
        """What the loop's `else` implies when the first iteration surely reaches `if X: break`
        statements at the top of the body (None: an unconditional break comes first)."""
        pairs: frozenset = frozenset()
        for stmt in block_statements(body):
            if isinstance(stmt, cst.If) and stmt.orelse is None and isinstance(last_small_statement(block_statements(stmt.body)), cst.Break):
                knowledge = self.knowledge(stmt.test, False)
                if knowledge is None:
                    return None
                pairs = pairs | knowledge
                continue
            if isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(s, cst.Break) for s in stmt.body):
                return None
            if loop_continues(stmt):
                break
        return pairs

    def _match(self, stmt: cst.Match, guards: Guards, index: int, line: int) -> Guards | None:
        self.expressions(stmt.subject, index, guards)
        ends: list[Guards | None] = []
        unmatched = guards
        irrefutable = False
        for case in stmt.cases:
            if irrefutable:  # after `case _:` no case is ever tried
                self.block(block_statements(case.body), guards + (self._dead(line, "a case after an irrefutable one"),))
                continue
            test = pattern_test(stmt.subject, case.pattern)
            case_guards = unmatched
            if test is not UNKNOWN and test is not None:
                case_guards = unmatched + self._condition(test, True, line, "case")
            if case.guard is not None:
                self.expressions(case.guard, index, case_guards)
                case_guards = case_guards + self._condition(case.guard, True, line, "case ... if")
            ends.append(self.block(block_statements(case.body), case_guards))
            if case.guard is None:
                if test is None:
                    irrefutable = True
                    continue
                if test is not UNKNOWN:
                    unmatched = unmatched + self._condition(test, False, line, "case")
        if not irrefutable:
            ends.append(unmatched)
        return self._join(guards, ends, line, "after a `match` whose cases leave on some paths")

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
        if self.scan_calls and self.positions.may_call(index):
            node.visit(DynamicCallFinder(self, index, guards))

    def call(self, call: cst.Call, index: int, call_index: int, guards: Guards) -> None:
        position = self.positions.call(index, call, call_index)
        for listener in self.passes:
            listener.dynamic_call(call, position, guards)

def guards_have_function(guards: Sequence[Guard]) -> bool:
    return any(g.kind is GuardKind.FUNCTION for g in guards)



def _text(keyword: str, test: cst.BaseExpression, truth: bool) -> str:
    return f"{keyword} {code(test)}" if truth else f"{keyword} not ({code(test)})"
