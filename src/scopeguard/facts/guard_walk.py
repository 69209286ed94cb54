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
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import libcst as cst

from ..base.model import MAIN, TYPE_CHECKING, Guard, GuardKind
from .astnodes import dotted as _dotted_ast
from .positions import CstPositions
from .syntax import block_statements, code, dotted_name, last_name, last_small_statement, string_value
from .toggle_knowledge import frozen
from .toggle_matcher import ToggleMatcher

# Exception names whose handler catches a failed import.
IMPORT_ERROR_CATCHERS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
# What deleting a module can raise at an import site, by the handler names that catch it (see
# core.guards.failure): Exception and a bare except catch all of them.
_CATCHES = {
    "ImportError": frozenset({"ImportError"}),
    "ModuleNotFoundError": frozenset({"ModuleNotFoundError"}),
    "AttributeError": frozenset({"AttributeError"}),
    "Exception": frozenset({"ImportError", "AttributeError"}),
    "BaseException": frozenset({"ImportError", "AttributeError"}),
}
_CATCH_ALL = frozenset({"ImportError", "AttributeError"})
# What a registry lookup of a missing name raises, with their bases (tvm_ffi: ValueError; older
# TVM: RuntimeError/TVMError; AttributeError for a missing attribute of a module).
_LOOKUP_ERROR_CATCHERS = frozenset({"ValueError", "RuntimeError", "TVMError", "LookupError", "KeyError", "AttributeError"})
# Calls that end the current block as surely as `raise` does, by module; `exit`/`quit` are the
# builtins unless the file binds those names itself.
_EXIT_FUNCTIONS = {"sys": ("exit",), "os": ("_exit", "abort"), "pytest": ("skip", "fail", "exit")}
_EXIT_CALLS = frozenset(f"{m}.{f}" for m, names in _EXIT_FUNCTIONS.items() for f in names) | {"exit", "quit"}
# Context managers known never to swallow an exception from their body; after any other, a `raise`
# in the body may be suppressed and what follows the `with` may run.
_NON_SUPPRESSING = frozenset({
    "nullcontext", "open", "catch_warnings", "TemporaryDirectory", "NamedTemporaryFile", "redirect_stdout",
    "redirect_stderr", "chdir", "Lock", "RLock", "no_grad", "enable_grad", "inference_mode", "scandir",
})
_UNKNOWN = object()  # a test whose truth is not a constant


@dataclass(frozen=True)
class WalkContext:
    """What the walk needs to know about the file besides the statement at hand: the spellings of
    calls that exit (`sys.exit` through any alias), module-level names bound to exception types
    (`_ERRS = (ImportError, OSError)`), and the local names of contextlib.suppress."""

    exit_calls: frozenset[str] = _EXIT_CALLS
    error_names: dict = field(default_factory=dict)
    suppress_names: frozenset[str] = frozenset({"suppress"})
    module_names: frozenset[str] = frozenset()  # every name bound at module level (`def eval(...)`)


def walk_context(bindings, tree: ast.Module | None) -> WalkContext:
    """The WalkContext of a file from its import bindings (bindings.ImportBindings) and the module-
    level statements of its `ast`."""
    exits = {f"{m}.{f}" for m, names in _EXIT_FUNCTIONS.items() for f in names}
    for module, names in _EXIT_FUNCTIONS.items():
        for local in bindings.names_for(module):
            exits.update(f"{local}.{f}" for f in names)
        for f in names:
            exits.update(bindings.names_for(f"{module}.{f}"))
    suppress = set(bindings.names_for("contextlib.suppress")) | {"suppress"}
    body = tree.body if tree is not None else []
    counts: dict[str, int] = {}
    assigned: dict[str, ast.expr] = {}
    for stmt in body:
        for name in _bound_names(stmt):
            counts[name] = counts.get(name, 0) + 1
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            assigned[stmt.targets[0].id] = stmt.value
    for builtin in ("exit", "quit"):
        if builtin not in counts:
            exits.add(builtin)
    for module, names in _EXIT_FUNCTIONS.items():
        # `class sys: ...` (or `sys = ...`) at module level: `sys.exit()` is the file's own
        if counts.get(module, 0) > (1 if module in bindings.names_for(module) else 0):
            exits.difference_update(f"{module}.{f}" for f in names)
    errors: dict[str, tuple[str, ...]] = {}
    for name, value in assigned.items():
        if counts.get(name) != 1:
            continue
        dotted = _dotted_ast(value)
        if dotted is not None:
            if dotted in exits:
                exits.add(name)  # stop = sys.exit
            elif dotted.rpartition(".")[2] == "suppress":
                suppress.add(name)
            else:
                errors[name] = (dotted.rpartition(".")[2],)
        elif isinstance(value, ast.Tuple):
            parts = [_dotted_ast(e) for e in value.elts]
            if all(parts):
                errors[name] = tuple(p.rpartition(".")[2] for p in parts)
    return WalkContext(frozenset(exits), errors, frozenset(suppress), frozenset(counts))


def _bound_names(stmt: ast.stmt):
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield stmt.name
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            yield (alias.asname or alias.name).split(".")[0]
    elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    yield node.id
    elif isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.stmt):
                yield from _bound_names(child)
            elif isinstance(child, ast.excepthandler):
                for inner in child.body:
                    yield from _bound_names(inner)

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
                if after is not None and self._exits(small):
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
        if not _can_be(test, truth):
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

    def _exits(self, small: cst.CSTNode) -> bool:
        if isinstance(small, (cst.Return, cst.Raise, cst.Continue, cst.Break)):
            return True
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            return dotted_name(small.value.func) in self.context.exit_calls
        return False

    def _try(self, stmt: cst.Try, guards: Guards, line: int) -> Guards | None:
        catches: set[str] = set()
        covered: set[str] = set()
        lookup = None
        texts = []
        for h in stmt.handlers:
            caught = self._handler_catches(h)
            new = caught - covered - ({"ModuleNotFoundError"} if "ImportError" in covered else set())
            leaves = _may_leave(block_statements(h.body), self.context.exit_calls)
            if new and not leaves:
                catches |= new
                texts.append("except " + (code(h.type) if h.type is not None else ""))
            covered |= caught
            if lookup is None and not leaves and _catches(h, _LOOKUP_ERROR_CATCHERS, bare=False):
                lookup = h
        inner = guards
        if not catches & {"ImportError", "ModuleNotFoundError"}:
            catches = set()  # AttributeError alone: a star import's failure only; not counted
        rest, self._rest = self._rest, ()
        if catches and _used_after(stmt, rest):
            catches = set()  # `except ImportError: feat = None` then `feat.x` at once: it fails anyway
        if catches:
            inner = guards + (Guard(GuardKind.OPTIONAL, line, ", ".join(t.strip() for t in texts), catches=frozenset(catches)),)
        elif lookup is not None and "ImportError" not in covered:
            inner = guards + (Guard(GuardKind.TOLERANT, line, "except " + code(lookup.type)),)
        body_end = self.block(block_statements(stmt.body), inner)
        if body_end is not None and catches:
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

    def _handler_catches(self, handler: cst.ExceptHandler) -> set[str]:
        if handler.type is None:
            return set(_CATCH_ALL)
        types = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
        caught: set[str] = set()
        for t in types:
            name = last_name(t)
            if isinstance(t, cst.Name) and name in self.context.error_names:
                names = self.context.error_names[name]
            else:
                names = (name,)
            for n in names:
                caught |= _CATCHES.get(n or "", frozenset())
        return caught

    def _with(self, stmt: cst.With, guards: Guards, index: int, line: int) -> Guards | None:
        for item in stmt.items:
            self.expressions(item, index, guards)
        inner = guards
        catches: set[str] = set()
        for item in stmt.items:
            catches |= self._suppresses(item.item)
        rest, self._rest = self._rest, ()
        if catches & {"ImportError", "ModuleNotFoundError"} and not _used_after(stmt, rest):
            inner = guards + (Guard(GuardKind.OPTIONAL, line, "contextlib.suppress(" + ", ".join(sorted(catches)) + ")",
                                    catches=frozenset(catches)),)
        end = self.block(block_statements(stmt.body), inner)
        if all(_non_suppressing(item.item) for item in stmt.items):
            return None if end is None else guards + end[len(inner):]
        return guards  # the manager may swallow a `raise` in the body: what follows may run anyway

    def _suppresses(self, expr: cst.BaseExpression) -> set[str]:
        if not isinstance(expr, cst.Call):
            return set()
        func = expr.func
        if not (last_name(func) == "suppress" or (isinstance(func, cst.Name) and func.value in self.context.suppress_names)):
            return set()
        caught: set[str] = set()
        for arg in expr.args:
            name = last_name(arg.value)
            names = self.context.error_names.get(name, (name,)) if isinstance(arg.value, cst.Name) else (name,)
            for n in names:
                caught |= _CATCHES.get(n or "", frozenset())
        return caught

    def _while(self, stmt: cst.While, guards: Guards, index: int, line: int) -> Guards | None:
        self.expressions(stmt.test, index, guards)
        self.block(block_statements(stmt.body), guards + self._condition(stmt.test, True, line, "while"))
        # without `break`, the loop ends only when its test is false
        exhausted = guards + self._condition(stmt.test, False, line, "while")
        has_break = _has_break(stmt.body)
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
        if _runs_at_least_once(stmt.iter):
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
            if _has_continue(stmt):
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
            test = _pattern_test(stmt.subject, case.pattern)
            case_guards = unmatched
            if test is not _UNKNOWN and test is not None:
                case_guards = unmatched + self._condition(test, True, line, "case")
            if case.guard is not None:
                self.expressions(case.guard, index, case_guards)
                case_guards = case_guards + self._condition(case.guard, True, line, "case ... if")
            ends.append(self.block(block_statements(case.body), case_guards))
            if case.guard is None:
                if test is None:
                    irrefutable = True
                    continue
                if test is not _UNKNOWN:
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
            node.visit(_DynamicCallFinder(self, index, guards))

    def call(self, call: cst.Call, index: int, call_index: int, guards: Guards) -> None:
        position = self.positions.call(index, call, call_index)
        for listener in self.passes:
            listener.dynamic_call(call, position, guards)

class _DynamicCallFinder(cst.CSTVisitor):
    """Finds calls to import_module/__import__/find_spec (by name) in one statement's expressions,
    in source order, with the guards inside the expression around them: lambdas (not an
    immediately called one; its defaults run now), conditional expressions and the right operands
    of `and`/`or`."""

    def __init__(self, walk: GuardWalk, index: int, guards: Guards) -> None:
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


def guards_have_function(guards: Sequence[Guard]) -> bool:
    return any(g.kind is GuardKind.FUNCTION for g in guards)



def _can_be(test: cst.BaseExpression, truth: bool) -> bool:
    """False when `test` surely cannot evaluate to `truth`: constants (`if False:`, `while 0:`)
    combined by `not`, `and`, `or` and conditional expressions. Anything else may."""
    while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):  # `not not ...` deep
        test, truth = test.expression, not truth
    if isinstance(test, cst.BooleanOperation):
        kind = type(test.operator)
        operands: list[cst.BaseExpression] = []
        pending: list[cst.BaseExpression] = [test]
        while pending:
            part = pending.pop()
            if isinstance(part, cst.BooleanOperation) and isinstance(part.operator, kind):
                pending.append(part.right)
                pending.append(part.left)
            else:
                operands.append(part)
        if (kind is cst.And) == truth:  # every operand has this truth
            return all(_can_be(o, truth) for o in operands)
        return any(_can_be(o, truth) for o in operands)  # one operand has it
    if isinstance(test, cst.IfExp):  # `A if C else B`: C and A, or not C and B
        return any(_can_be(test.test, condition) and _can_be(value, truth)
                   for condition, value in ((True, test.body), (False, test.orelse)))
    constant = _constant_truth(test)
    return constant is _UNKNOWN or constant == truth

def _catches(handler: cst.ExceptHandler, names: frozenset[str], bare: bool) -> bool:
    if handler.type is None:
        return bare
    types = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
    return any(last_name(t) in names for t in types)


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


def _may_leave(statements: Sequence[cst.CSTNode], exits: frozenset[str]) -> bool:
    """Some path through a handler raises or exits (`raise`, `raise X from e`, `sys.exit()`), in
    nested blocks too: such a handler does not make the failure survivable."""

    def leaves(small: cst.CSTNode) -> bool:
        if isinstance(small, cst.Raise):
            return True
        return isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and dotted_name(small.value.func) in exits

    return _find_small(statements, leaves)


def _has_break(body: cst.BaseSuite) -> bool:
    return _find_small(block_statements(body), lambda s: isinstance(s, cst.Break), loops=False)


def _has_continue(stmt: cst.CSTNode) -> bool:
    return _find_small([stmt], lambda s: isinstance(s, cst.Continue), loops=False)


def _imported_names(statements: Sequence[cst.CSTNode]) -> set[str]:
    names: set[str] = set()
    for stmt in statements:
        if not isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    # `import a.b` binds `a`, usually bound before: not a name this import decides
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    if isinstance(bound, cst.Name):
                        names.add(bound.value)
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    if isinstance(bound, cst.Name):
                        names.add(bound.value)
    return names


def _binding(bodies, name: str) -> str:
    """What the handlers (their bodies) leave `name` bound to: "fallback" when every one binds it
    to something other than None, "unbound" when one binds nothing, else "none"."""
    worst = "fallback"
    for body in bodies:
        found = "unbound"
        for stmt in block_statements(body):
            if not isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets):
                    found = "none" if isinstance(small.value, cst.Name) and small.value.value == "None" else "fallback"
                elif isinstance(small, (cst.Import, cst.ImportFrom)) and name in _imported_names([stmt]):
                    found = "fallback"
        if found == "unbound":
            return "unbound"
        if found == "none":
            worst = "none"
    return worst


class _UseFinder(cst.CSTVisitor):
    """Finds `name.attr`, `name(...)` or `name[...]` evaluated for sure where it is written: not
    under a test that mentions the name, not in a lambda, function, conditional expression or
    `and`/`or` operand, not in a `try`."""

    def __init__(self, names: set[str], unbound: set[str]) -> None:
        self.names = names | unbound
        self.unbound = unbound  # no value at all: any use fails (NameError)
        self.found = False

    def _mentions(self, node: cst.CSTNode) -> bool:
        finder = _NameFinder(self.names)
        node.visit(finder)
        return finder.found

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.found or isinstance(node, (cst.Lambda, cst.IfExp, cst.BooleanOperation, cst.Try, cst.TryStar,
                                           cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal, cst.Del)):
            return False
        if isinstance(node, cst.FunctionDef):  # its decorators and defaults run now, not its body
            for part in (*node.decorators, node.params):
                part.visit(self)
            return False
        if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)) and node.value is not None:
            node.value.visit(self)  # a target is no use
            return False
        if isinstance(node, (cst.If, cst.While)) and self._mentions(node.test):
            return False
        if isinstance(node, cst.Name) and node.value in self.unbound:
            self.found = True
            return False
        value = (
            node.value if isinstance(node, (cst.Attribute, cst.Subscript)) else node.func if isinstance(node, cst.Call) else None
        )
        if isinstance(value, cst.Name) and value.value in self.names:
            self.found = True
            return False
        return True


class _NameFinder(cst.CSTVisitor):
    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.names:
            self.found = True


def _used_after(stmt: cst.CSTNode, rest: Sequence[cst.CSTNode]) -> bool:
    """A name the try (or `with suppress(...)`) imports, left None or unbound by its handlers, is
    used for sure later in the same block: the failure swallowed comes back as an error there."""
    if not rest:
        return False
    if isinstance(stmt, (cst.Try, cst.TryStar)):  # the handlers after which the rest runs
        bodies = [h.body for h in stmt.handlers
                  if not isinstance(last_small_statement(block_statements(h.body)), (cst.Return, cst.Raise, cst.Continue, cst.Break))]
    else:
        bodies = [cst.IndentedBlock(body=[])]
    states = {n: _binding(bodies, n) for n in _imported_names(block_statements(stmt.body))}
    names = {n for n, state in states.items() if state == "none"}
    unbound = {n for n, state in states.items() if state == "unbound"}
    if not names and not unbound:
        return False
    finder = _UseFinder(names, unbound)
    for later in rest:
        later.visit(finder)
        if finder.found:
            return True
    return False


def _non_suppressing(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Call) and last_name(expr.func) in _NON_SUPPRESSING


def _runs_at_least_once(expr: cst.BaseExpression) -> bool:
    """A `for` over a non-empty literal or `range(n)` with literal bounds that is not empty."""
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return bool(expr.elements) and not any(isinstance(e, cst.StarredElement) for e in expr.elements)
    if isinstance(expr, cst.SimpleString):
        return bool(expr.evaluated_value)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "range":
        values = [a.value.evaluated_value if isinstance(a.value, cst.Integer) and a.keyword is None else None for a in expr.args]
        if None in values or not 1 <= len(values) <= 2:
            return False
        start, stop = (0, values[0]) if len(values) == 1 else values
        return stop > start
    return False


_PY3_RANGE = ((3, 0, 0, "alpha", 0), (999, 0, 0, "final", 0))
_COMPARE = {
    cst.LessThan: lambda a, b: a < b, cst.LessThanEqual: lambda a, b: a <= b,
    cst.GreaterThan: lambda a, b: a > b, cst.GreaterThanEqual: lambda a, b: a >= b,
    cst.Equal: lambda a, b: a == b, cst.NotEqual: lambda a, b: a != b,
}


def _literal(expr: cst.BaseExpression):
    if isinstance(expr, (cst.Integer, cst.SimpleString)):
        return expr.evaluated_value
    return _UNKNOWN


def _constant_truth(expr: cst.BaseExpression):
    """The truth of a constant test (`False`, `0`, `""`, `()`, `sys.version_info >= (3,)`), else _UNKNOWN."""
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return expr.value == "True"
    if isinstance(expr, (cst.Integer, cst.Float)):
        return bool(expr.evaluated_value)
    if isinstance(expr, cst.SimpleString):
        return bool(expr.evaluated_value)
    if isinstance(expr, (cst.Tuple, cst.List, cst.Dict)) and not expr.elements:
        return False
    if isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1:
        left, target = expr.left, expr.comparisons[0]
        compare = _COMPARE.get(type(target.operator))
        if compare is None:
            return _UNKNOWN
        literals = [_literal(x) for x in (left, target.comparator)]
        if _UNKNOWN not in literals and isinstance(target.operator, (cst.Equal, cst.NotEqual)):
            return compare(*literals)
        written = dotted_name(left)
        if written in ("sys.version_info", "version_info") and isinstance(target.comparator, cst.Tuple):
            items = [e.value.evaluated_value if isinstance(e.value, cst.Integer) else None for e in target.comparator.elements]
            if not items or None in items:
                return _UNKNOWN
            lo, hi = (compare(v, tuple(items)) for v in _PY3_RANGE)
            return lo if lo == hi else _UNKNOWN
        major = written in ("sys.version_info.major",) or (
            isinstance(left, cst.Subscript) and dotted_name(left.value) == "sys.version_info"
            and len(left.slice) == 1 and isinstance(left.slice[0].slice, cst.Index)
            and isinstance(left.slice[0].slice.value, cst.Integer) and left.slice[0].slice.value.evaluated_value == 0
        )
        if major and isinstance(target.comparator, cst.Integer):
            lo, hi = (compare(v[0], target.comparator.evaluated_value) for v in _PY3_RANGE)
            return lo if lo == hi else _UNKNOWN
    return _UNKNOWN


def _text(keyword: str, test: cst.BaseExpression, truth: bool) -> str:
    return f"{keyword} {code(test)}" if truth else f"{keyword} not ({code(test)})"


def _compare(left: cst.BaseExpression, operator, right: cst.BaseExpression) -> cst.Comparison:
    return cst.Comparison(left=left, comparisons=[cst.ComparisonTarget(operator=operator, comparator=right)])


def _pattern_test(subject: cst.BaseExpression, pattern: cst.MatchPattern):
    """A test equivalent to `case pattern:` matching (None: it always matches; _UNKNOWN: no test
    is known)."""
    if isinstance(pattern, cst.MatchAs):
        return None if pattern.pattern is None else _pattern_test(subject, pattern.pattern)
    if isinstance(pattern, cst.MatchSingleton):
        return _compare(subject, cst.Is(), pattern.value)
    if isinstance(pattern, cst.MatchValue):
        return _compare(subject, cst.Equal(), pattern.value)
    if isinstance(pattern, cst.MatchOr):
        values = []
        for element in pattern.patterns:
            inner = element.pattern
            if isinstance(inner, cst.MatchAs) and inner.pattern is None:
                return None
            if not isinstance(inner, (cst.MatchSingleton, cst.MatchValue)):
                return _UNKNOWN
            values.append(inner.value)
        return _compare(subject, cst.In(), cst.Tuple(elements=[cst.Element(value=v) for v in values]))
    return _UNKNOWN
