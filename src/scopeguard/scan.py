"""One file's source -> FileFacts: every import site with its guard context.

The only module that imports libcst. Nothing imports this module until a file must really be parsed
(see pipeline.py), so a run served from the cache never pays for libcst. Positions come from the stdlib `ast` parse of the same bytes, matched to libcst
statements in source order: libcst's PositionProvider costs about four times the parse on TVM, while
`ast.parse` costs a fraction of it. Where the two parsers disagree we fall back to PositionProvider.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Sequence

import libcst as cst

from .model import (
    MAIN,
    TYPE_CHECKING,
    FileFacts,
    Guard,
    GuardKind,
    ImportSite,
    NameReference,
    ParseError,
    Patch,
    ReferenceKind,
    Registries,
    SiteKind,
    Toggle,
    UnresolvedImport,
    caught_in_innermost_function,
)

# Exception names whose handler catches a failed import.
_IMPORT_ERROR_CATCHERS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
# Calls that end the current block as surely as `raise` does.
_EXIT_CALLS = frozenset({"pytest.skip", "pytest.fail", "sys.exit", "exit", "quit", "os._exit"})
# Literal values that mean "off" when a toggle value is compared with them; any other literal is "on".
_OFF_LITERALS = frozenset({"off", "0", "false", "no", "n", "", "none", "disable", "disabled"})
_DYNAMIC_IMPORT_NAMES = frozenset({"import_module", "__import__", "find_spec"})
# Keyword names under which registry functions take the name (TVM: name, func_name, namespace).
_NAME_KEYWORDS = frozenset({"name", "func_name", "namespace", "prefix", "type_key"})
# A dotted name ("tvm.relax.training") or a dotted prefix ("tvm.contrib."), as string literals hold them.
_DOTTED = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)+\.?|[^\W\d]\w*\.")
_SUPPRESSION = re.compile(rb"#\s*scopeguard:\s*ignore(?:\[([A-Za-z0-9_,\s]*)\])?")

Knowledge = dict  # toggle name -> required state (True = on)


class ToggleMatcher:
    """Recognises the spellings of the configured toggles inside `if` tests and decorators."""

    def __init__(self, toggles: Iterable[Toggle], registries: Registries | None = None) -> None:
        # Registry functions by the last part of their name: what a call to them does with its name.
        # (They ride on the matcher because it is what every scan worker is initialised with.)
        registries = registries if registries is not None else Registries()
        self.registry_kinds: dict[str, ReferenceKind] = {}
        for kind, names in (
            (ReferenceKind.REGISTER, registries.register),
            (ReferenceKind.LOOKUP, registries.lookup),
            (ReferenceKind.INIT_API, registries.init_api),
        ):
            for name in names:
                self.registry_kinds[name.rsplit(".", 1)[-1]] = kind
        # What a line must contain for the name collector to find anything on it: a quote (every
        # literal and f-string), a registry function, setattr/delattr, or an environment read.
        words = sorted({*self.registry_kinds, "setattr", "delattr", "environ", "getenv"})
        self.name_pattern = re.compile(rb"[\"']|" + b"|".join(re.escape(w.encode()) for w in words))
        # spelling -> (toggle, whether a truthy value means the toggle is on)
        self.spellings: dict[str, tuple[str, bool]] = {TYPE_CHECKING: (TYPE_CHECKING, True)}
        self.decorators: dict[str, str] = {}
        for toggle in toggles:
            for spelling in toggle.on_when_true:
                self.spellings[spelling] = (toggle.name, True)
            for spelling in toggle.on_when_false:
                self.spellings[spelling] = (toggle.name, False)
            for decorator in toggle.decorators:
                # `@tvm.testing.requires_msc` and `from tvm.testing import requires_msc` alike.
                self.decorators[decorator.rsplit(".", 1)[-1]] = toggle.name

    # -- expression analysis ------------------------------------------------------------------

    def reference(self, expr: cst.BaseExpression) -> tuple[str, bool] | None:
        """(toggle, truthy-means-on) if `expr`'s value is a toggle's value, else None."""
        if isinstance(expr, cst.Name):
            return self.spellings.get(expr.value)
        if isinstance(expr, cst.Attribute):
            # `obj.lower()` and friends keep the value's meaning; `config.USE_MSC` names a toggle.
            return self.spellings.get(expr.attr.value)
        if isinstance(expr, cst.Subscript):
            key = _single_string_index(expr)
            return self.spellings.get(key) if key is not None else None
        if isinstance(expr, cst.Call):
            func = expr.func
            # `x.lower()`, `x.upper()`, `x.strip()`: the same value, normalised.
            if isinstance(func, cst.Attribute) and func.attr.value in ("lower", "upper", "strip") and not expr.args:
                return self.reference(func.value)
            # `bool(x)`, `str(x)`, `int(x)`: the same value.
            if isinstance(func, cst.Name) and func.value in ("bool", "str", "int") and len(expr.args) == 1:
                return self.reference(expr.args[0].value)
            # A string key as first argument: `libinfo().get("USE_MSC")`, `os.environ.get(...)`,
            # `os.getenv(...)`, `build_flag_enabled("USE_MSC")`.
            if expr.args and expr.args[0].keyword is None:
                key = _string_value(expr.args[0].value)
                if key is not None and key in self.spellings:
                    return self.spellings[key]
            # A configured predicate: `has_msc()`.
            name = _last_name(func)
            return self.spellings.get(name) if name else None
        return None

    def implies(self, expr: cst.BaseExpression, truth: bool) -> Knowledge:
        """What `expr` evaluating to `truth` guarantees about toggles (sound, never a guess)."""
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            return self.implies(expr.expression, not truth)
        if isinstance(expr, cst.BooleanOperation):
            left = self.implies(expr.left, truth)
            right = self.implies(expr.right, truth)
            both_hold = isinstance(expr.operator, cst.And) == truth  # `a and b` true, `a or b` false
            return _merge(left, right) if both_hold else _intersect(left, right)
        if isinstance(expr, cst.Comparison):
            return self._comparison(expr, truth)
        ref = self.reference(expr)
        if ref is None:
            return {}
        toggle, truthy_means_on = ref
        return {toggle: truth == truthy_means_on}

    def _comparison(self, expr: cst.Comparison, truth: bool) -> Knowledge:
        if len(expr.comparisons) != 1:
            return {}
        target = expr.comparisons[0]
        op = target.operator
        left, right = expr.left, target.comparator
        if _is_dunder_name(left) or _is_dunder_name(right):
            other = right if _is_dunder_name(left) else left
            if _string_value(other) == "__main__" and isinstance(op, (cst.Equal, cst.NotEqual)):
                return {MAIN: truth == isinstance(op, cst.Equal)}
            return {}
        ref = self.reference(left)
        literal = right
        if ref is None:
            ref, literal = self.reference(right), left
        if ref is None:
            return {}
        if isinstance(op, (cst.Equal, cst.Is)):
            states, equal = [_literal_state(literal)], truth
        elif isinstance(op, (cst.NotEqual, cst.IsNot)):
            states, equal = [_literal_state(literal)], not truth
        elif isinstance(op, (cst.In, cst.NotIn)) and isinstance(literal, (cst.Tuple, cst.List, cst.Set)):
            states = [_literal_state(element.value) for element in literal.elements]
            equal = truth == isinstance(op, cst.In)
        else:
            return {}
        if not states or None in states:
            return {}
        if equal:
            # The value is one of the literals: known only if they all mean the same.
            value_on = states[0] if len(set(states)) == 1 else None
        else:
            # The value differs from every literal: "on" only if all of them meant "off".
            value_on = True if not any(states) else None
        if value_on is None:
            return {}
        toggle, truthy_means_on = ref
        return {toggle: value_on == truthy_means_on}

    def spelled_in(self, source: bytes) -> bool:
        """Whether any toggle spelling occurs in the text at all: if not, no test can mention one,
        and the (slow) search of every condition for mentions can be skipped."""
        return any(
            spelling.encode() in source for spelling in self.spellings if spelling != TYPE_CHECKING
        ) or any(name.encode() in source for name in self.decorators)

    def mentioned(self, expr: cst.CSTNode) -> frozenset[str]:
        """Every toggle whose spelling appears in `expr` (for messages about weak guards)."""
        collector = _MentionCollector(self)
        expr.visit(collector)
        collector.found.discard(TYPE_CHECKING)
        return frozenset(collector.found)

    def decorator_toggles(self, decorator: cst.Decorator) -> Knowledge:
        expr = decorator.decorator
        if isinstance(expr, cst.Call):
            # `@pytest.mark.skipif(cond, reason=...)`: the test runs only when `cond` is false.
            if _last_name(expr.func) == "skipif" and expr.args and expr.args[0].keyword is None:
                return self.implies(expr.args[0].value, False)
            expr = expr.func
        name = _last_name(expr)
        toggle = self.decorators.get(name) if name else None
        return {toggle: True} if toggle else {}


class _MentionCollector(cst.CSTVisitor):
    def __init__(self, matcher: ToggleMatcher) -> None:
        self.matcher = matcher
        self.found: set[str] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.BaseExpression):
            ref = self.matcher.reference(node)
            if ref is not None:
                self.found.add(ref[0])
        return True


class _DynamicCallFinder(cst.CSTVisitor):
    """Finds import_module/__import__ calls in one statement's expressions, in source order."""

    def __init__(self, walker: _Walker, index: int, guards: tuple[Guard, ...]) -> None:
        self.walker = walker
        self.index = index
        self.guards = guards
        self.count = 0
        self.lambdas: list[Guard] = []

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.lambdas.append(Guard(GuardKind.FUNCTION, 0, "lambda"))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.lambdas.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if _last_name(node.func) in self.walker.dynamic_callees:
            self.walker._dynamic(node, self.index, self.count, self.guards + tuple(self.lambdas))
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


# -- small expression helpers --------------------------------------------------------------------


def _last_name(expr: cst.BaseExpression) -> str | None:
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


def _string_value(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _single_string_index(expr: cst.Subscript) -> str | None:
    if len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        return _string_value(expr.slice[0].slice.value)
    return None


def _is_dunder_name(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "__name__"


def _literal_state(expr: cst.BaseExpression) -> bool | None:
    """Whether a literal compared with a toggle value means on (True) or off (False)."""
    text = _string_value(expr)
    if text is not None:
        return text.strip().lower() not in _OFF_LITERALS
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return expr.value == "True"
    if isinstance(expr, cst.Integer):
        return expr.evaluated_value != 0
    return None


def _merge(left: Knowledge, right: Knowledge) -> Knowledge:
    merged = dict(left)
    for toggle, state in right.items():
        if merged.get(toggle, state) != state:
            del merged[toggle]  # contradictory: the branch cannot run; claim nothing
        else:
            merged[toggle] = state
    return merged


def _intersect(left: Knowledge, right: Knowledge) -> Knowledge:
    return {toggle: state for toggle, state in left.items() if right.get(toggle) == state}


def _catches_import_error(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
    return any(_last_name(t) in _IMPORT_ERROR_CATCHERS for t in types)


# What a registry lookup of a missing name raises, with their bases (tvm_ffi: ValueError; older
# TVM: RuntimeError/TVMError; AttributeError for a missing attribute of a module).
_LOOKUP_ERROR_CATCHERS = frozenset({"ValueError", "RuntimeError", "TVMError", "LookupError", "KeyError", "AttributeError"})


def _catches_lookup_error(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return False  # a bare except catches ImportError too: handled as OPTIONAL
    types = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
    return any(_last_name(t) in _LOOKUP_ERROR_CATCHERS for t in types)


def _block_statements(block: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    """The statements of a suite; a one-line suite (`if X: import y`) is itself the statement."""
    return block.body if isinstance(block, cst.IndentedBlock) else [block]


def _last_small_statement(statements: Sequence[cst.CSTNode]) -> cst.CSTNode | None:
    """The statement that ends a block (the last small statement of a `a; b` line)."""
    if not statements:
        return None
    last = statements[-1]
    if isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return last.body[-1] if last.body else None
    return last


def _ends_block(statements: Sequence[cst.CSTNode]) -> bool:
    """True if the last statement of a block leaves it: return, raise, continue, break, sys.exit()."""
    last = _last_small_statement(statements)
    if isinstance(last, (cst.Return, cst.Raise, cst.Continue, cst.Break)):
        return True
    if isinstance(last, cst.Expr) and isinstance(last.value, cst.Call):
        return dotted_name(last.value.func) in _EXIT_CALLS
    return False


# -- positions ----------------------------------------------------------------------------------


class _PositionMismatch(Exception):
    """The ast and libcst views of a file disagree; positions must come from libcst itself."""


class _AstPositions:
    """Line/column of statements and import names, from `ast`, in source order."""

    def __init__(self, tree: ast.Module, dynamic_callees: frozenset[str]) -> None:
        statements = _statements(tree)
        statements.sort(key=lambda n: (n.lineno, n.col_offset))
        self.statements = statements
        self.dynamic_callees = dynamic_callees

    def statement(self, index: int, expected: type | None) -> ast.stmt:
        if index >= len(self.statements):
            raise _PositionMismatch
        node = self.statements[index]
        if expected is not None and not isinstance(node, expected):
            raise _PositionMismatch
        return node

    def line(self, index: int, node: cst.CSTNode) -> tuple[int, int]:
        stmt = self.statement(index, None)
        return stmt.lineno, stmt.col_offset + 1

    def alias(self, index: int, node: cst.CSTNode, alias_index: int) -> tuple[int, int]:
        stmt = self.statement(index, (ast.Import, ast.ImportFrom))
        if alias_index >= len(stmt.names):
            raise _PositionMismatch
        alias = stmt.names[alias_index]
        return alias.lineno, alias.col_offset + 1

    def call(self, index: int, node: cst.CSTNode, call_index: int) -> tuple[int, int]:
        stmt = self.statement(index, None)
        calls = sorted(
            (n for n in _header_nodes(stmt) if isinstance(n, ast.Call) and _ast_callee(n) in self.dynamic_callees),
            key=lambda n: (n.lineno, n.col_offset),
        )
        if call_index >= len(calls):
            return stmt.lineno, stmt.col_offset + 1
        return calls[call_index].lineno, calls[call_index].col_offset + 1

    def check_count(self, visited: int) -> None:
        if visited != len(self.statements):
            raise _PositionMismatch


class _CstPositions:
    """The slow, always-right fallback: libcst's own PositionProvider."""

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


def _header_nodes(stmt: ast.stmt) -> Iterable[ast.AST]:
    """The expressions of a statement, without its nested statements."""
    for name, value in ast.iter_fields(stmt):
        if name in ("body", "orelse", "finalbody", "handlers", "cases"):
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, ast.AST):
                yield from ast.walk(item)


def _ast_callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


# -- the walk -----------------------------------------------------------------------------------


def _statements(tree: ast.Module) -> list[ast.stmt]:
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


_STATEMENT_CONTAINERS = (ast.stmt, ast.excepthandler, ast.match_case)


class _Walker:
    """Visits statements in source order, keeping the stack of guards that enclose each one."""

    def __init__(
        self,
        facts_module: str,
        is_package: bool,
        matcher: ToggleMatcher,
        positions,
        scan_calls: bool,
        dynamic_callees: frozenset[str] = _DYNAMIC_IMPORT_NAMES,
    ):
        self.module = facts_module
        self.is_package = is_package
        self.matcher = matcher
        self.positions = positions
        self.scan_calls = scan_calls  # only files that mention import_module/__import__
        self.dynamic_callees = dynamic_callees  # call names worth a look, aliases included
        self.index = -1
        self.sites: list[ImportSite] = []
        self.unresolved: list[UnresolvedImport] = []
        self.importlib_aliases: set[str] = set()  # names bound to the importlib module
        self.import_module_aliases: set[str] = set()  # names bound to importlib.import_module
        self.candidate_calls: list[tuple[cst.Call, tuple[int, int], tuple[Guard, ...]]] = []
        self.dunder_all: list[str] | None = None
        self.dunder_all_literal = True
        self.mentions_possible = True  # False when no toggle is spelled anywhere in the file
        # The guards of every statement, by walk index, for the `ast` pass over strings and
        # assignments (collect_names); with libcst positions also each statement's line.
        self.statement_guards: list[tuple[Guard, ...]] = []
        self.statement_lines: list[int] | None = [] if isinstance(positions, _CstPositions) else None
        self.find_spec_aliases: set[str] = set()  # names bound to importlib.util.find_spec
        self.util_aliases: set[str] = set()  # names bound to the importlib.util module
        self.names: _KnownStrings = _KnownStrings(None, "", False, False)  # set by scan_source
        self.probes: list[NameReference] = []  # find_spec("a.b"): a name probed, None when missing
        self.import_calls: set[tuple[int, int]] = set()  # positions of importlib calls recognised

    # statements

    def block(self, statements: Sequence[cst.CSTNode], guards: tuple[Guard, ...], method_guards=()) -> None:
        for stmt in statements:
            exit_guard = self.statement(stmt, guards, method_guards)
            if exit_guard is not None:
                guards = guards + (exit_guard,)

    def statement(self, stmt: cst.CSTNode, guards: tuple[Guard, ...], method_guards=()) -> Guard | None:
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
                    text = "@" + (dotted_name(decorator.decorator) or _code(decorator.decorator))
                    inner += (Guard(GuardKind.DECORATOR, line, text, _frozen(knowledge)),)
            self.block(_block_statements(stmt.body), inner)
        elif isinstance(stmt, cst.ClassDef):
            for decorator in stmt.decorators:
                self.expressions(decorator, index, guards)
            # A toggle decorator on a test class guards its methods, not its body.
            class_guards = tuple(
                Guard(GuardKind.DECORATOR, line, "@" + _code(d.decorator), _frozen(k))
                for d in stmt.decorators
                if (k := self.matcher.decorator_toggles(d))
            )
            self.block(_block_statements(stmt.body), guards, class_guards)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            self._try(stmt, guards, line)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                self.expressions(item, index, guards)
            inner = guards
            if any(_suppresses_import_error(item.item) for item in stmt.items):
                inner = guards + (Guard(GuardKind.OPTIONAL, line, "contextlib.suppress(ImportError)"),)
            self.block(_block_statements(stmt.body), inner)
        elif isinstance(stmt, cst.While):
            self.expressions(stmt.test, index, guards)
            self.block(_block_statements(stmt.body), guards + self._condition(stmt.test, True, line, "while"))
            if stmt.orelse is not None:
                self.block(_block_statements(stmt.orelse.body), guards)
        elif isinstance(stmt, cst.For):
            self.expressions(stmt.target, index, guards)
            self.expressions(stmt.iter, index, guards)
            self.block(_block_statements(stmt.body), guards)
            if stmt.orelse is not None:
                self.block(_block_statements(stmt.orelse.body), guards)
        elif isinstance(stmt, cst.Match):
            self.expressions(stmt.subject, index, guards)
            for case in stmt.cases:
                self.block(_block_statements(case.body), guards)
        else:  # an unknown compound statement from a newer grammar: still find imports inside
            body = getattr(stmt, "body", None)
            if body is not None and hasattr(body, "body"):
                self.block(_block_statements(body), guards)
        return None

    def _condition(self, test: cst.BaseExpression, truth: bool, line: int, keyword: str) -> tuple[Guard, ...]:
        knowledge = self.matcher.implies(test, truth)
        mentioned = self.matcher.mentioned(test) - set(knowledge) if self.mentions_possible else frozenset()
        if not knowledge and not mentioned:
            return ()
        text = f"{keyword} {_code(test)}" if truth else f"{keyword} not ({_code(test)})"
        return (Guard(GuardKind.CONDITION, line, text, _frozen(knowledge), mentioned),)

    def _if(self, stmt: cst.If, guards: tuple[Guard, ...], line: int) -> None:
        self.block(_block_statements(stmt.body), guards + self._condition(stmt.test, True, line, "if"))
        orelse = stmt.orelse
        if orelse is None:
            return
        otherwise = guards + self._condition(stmt.test, False, line, "if")
        if isinstance(orelse, cst.If):  # elif: its own test adds to what the else already knows
            self.statement(orelse, otherwise)
        else:
            self.block(_block_statements(orelse.body), otherwise)

    def _early_exit(self, stmt: cst.If, line: int) -> Guard | None:
        """After `if X: return`, the rest of the block runs only when X is false (and vice versa)."""
        if isinstance(stmt.orelse, cst.If):
            return None  # elif chains: too many paths to say anything sound cheaply
        body_exits = _ends_block(_block_statements(stmt.body))
        else_exits = stmt.orelse is not None and _ends_block(_block_statements(stmt.orelse.body))
        if body_exits == else_exits:
            return None
        truth = not body_exits
        knowledge = self.matcher.implies(stmt.test, truth)
        if not knowledge:
            return None
        branch = "else" if truth else "if"
        text = f"after `if {_code(stmt.test)}` whose {branch} branch leaves the block"
        return Guard(GuardKind.EARLY_EXIT, line, text, _frozen(knowledge))

    def _try(self, stmt: cst.Try, guards: tuple[Guard, ...], line: int) -> None:
        handler = next((h for h in stmt.handlers if _catches_import_error(h)), None)
        inner = guards
        # A handler that re-raises (`raise RuntimeError("need msc") from e`) is no guard.
        if handler is not None and not _ends_with_raise(_block_statements(handler.body)):
            text = "except " + (_code(handler.type) if handler.type is not None else "")
            inner = guards + (Guard(GuardKind.OPTIONAL, line, text.strip()),)
        elif handler is None:
            lookup = next((h for h in stmt.handlers if _catches_lookup_error(h)), None)
            if lookup is not None and not _ends_with_raise(_block_statements(lookup.body)):
                inner = guards + (Guard(GuardKind.TOLERANT, line, "except " + _code(lookup.type)),)
        self.block(_block_statements(stmt.body), inner)
        for h in stmt.handlers:
            self.block(_block_statements(h.body), guards)
        if stmt.orelse is not None:
            self.block(_block_statements(stmt.orelse.body), guards)
        if stmt.finalbody is not None:
            self.block(_block_statements(stmt.finalbody.body), guards)

    def small_statement(self, small: cst.CSTNode, guards: tuple[Guard, ...]) -> None:
        self.index += 1
        index = self.index
        self.statement_guards.append(guards)
        if self.statement_lines is not None:
            self.statement_lines.append(self.positions.line(index, small)[0])
        if isinstance(small, cst.Import):
            for i, alias in enumerate(small.names):
                target = dotted_name(alias.name)
                line, column = self.positions.alias(index, alias, i)
                self.sites.append(ImportSite(target, None, line, column, SiteKind.IMPORT, guards))
                self._note_importlib(target, alias, None)
        elif isinstance(small, cst.ImportFrom):
            self._import_from(small, index, guards)
        else:
            if isinstance(small, (cst.Assign, cst.AugAssign)) and not guards_have_function(guards):
                self._dunder_all(small)
            self.expressions(small, index, guards)

    def _import_from(self, small: cst.ImportFrom, index: int, guards: tuple[Guard, ...]) -> None:
        level = len(small.relative)
        written = dotted_name(small.module) if small.module is not None else ""
        target = resolve_relative(self.module, self.is_package, level, written)
        names = small.names
        if target is None:
            line, column = self.positions.line(index, small)
            dots = "." * level
            self.unresolved.append(
                UnresolvedImport(line, column, f"from {dots}{written} import ...", "", "relative import beyond top-level package", guards)
            )
            return
        if isinstance(names, cst.ImportStar):
            line, column = self.positions.alias(index, names, 0)
            self.sites.append(ImportSite(target, "*", line, column, SiteKind.FROM, guards))
            return
        for i, alias in enumerate(names):
            name = dotted_name(alias.name) or ""
            line, column = self.positions.alias(index, alias, i)
            self.sites.append(ImportSite(target, name, line, column, SiteKind.FROM, guards))
            self._note_importlib(target, alias, name)

    def _note_importlib(self, target: str, alias: cst.ImportAlias, name: str | None) -> None:
        bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
        if name is None and target == "importlib":
            self.importlib_aliases.add(bound or "importlib")
        elif name is None and target.startswith("importlib.") and bound is None:
            self.importlib_aliases.add("importlib")  # `import importlib.util` binds `importlib`
        elif target == "importlib" and name == "import_module":
            self.import_module_aliases.add(bound or name)
        elif target == "importlib" and name == "util":
            self.util_aliases.add(bound or name)
        elif target == "importlib.util" and name == "find_spec":
            self.find_spec_aliases.add(bound or name)
        elif name is None and target == "importlib.util" and bound is not None:
            self.util_aliases.add(bound)

    def _dunder_all(self, small: cst.CSTNode) -> None:
        if isinstance(small, cst.Assign):
            if not any(isinstance(t.target, cst.Name) and t.target.value == "__all__" for t in small.targets):
                return
            self.dunder_all = []
        elif isinstance(small.target, cst.Name) and small.target.value == "__all__":
            self.dunder_all = self.dunder_all or []
        else:
            return
        value = small.value
        if isinstance(value, (cst.List, cst.Tuple)):
            for element in value.elements:
                text = _string_value(element.value)
                if text is None:
                    self.dunder_all_literal = False
                else:
                    self.dunder_all.append(text)
        else:
            self.dunder_all_literal = False

    # expressions: dynamic imports

    def expressions(self, node: cst.CSTNode, index: int, guards: tuple[Guard, ...]) -> None:
        if self.scan_calls:
            node.visit(_DynamicCallFinder(self, index, guards))

    def _dynamic(self, call: cst.Call, index: int, call_index: int, guards: tuple[Guard, ...]) -> None:
        # Whether the callee is importlib's is decided in finish(): `import importlib` may come
        # later in the file than a function that uses it.
        self.candidate_calls.append((call, self.positions.call(index, call, call_index), guards))

    def finish(self) -> None:
        for call, (line, column), guards in self.candidate_calls:
            func = call.func
            is_import = (isinstance(func, cst.Name) and func.value in self.import_module_aliases | {"__import__"}) or (
                isinstance(func, cst.Attribute)
                and func.attr.value == "import_module"
                and isinstance(func.value, cst.Name)
                and func.value.value in self.importlib_aliases
            )
            is_probe = not is_import and self._is_find_spec(func)
            if not (is_import or is_probe) or not call.args:
                continue  # e.g. runtime.Module.import_module(path): a method, not importlib
            self.import_calls.add((line, column))
            argument = call.args[0].value
            # A literal, or an f-string/concatenation of literals, `__name__` and module constants.
            known = self.names.resolve_cst(argument)
            text, complete = known if known is not None else ("", False)
            if complete and not text.startswith("."):
                if is_probe:
                    self._probe(text, call, line, column, guards)
                else:
                    self.sites.append(ImportSite(text, None, line, column, SiteKind.DYNAMIC, guards))
                continue
            reason = "relative dynamic import" if complete else "target is not a literal"
            self.unresolved.append(UnresolvedImport(line, column, _code(call), text, reason, guards))
        self.sites.sort(key=lambda site: (site.line, site.column))

    def _is_find_spec(self, func: cst.BaseExpression) -> bool:
        """`importlib.util.find_spec`, `util.find_spec` or `find_spec`, bound by the file's imports."""
        if isinstance(func, cst.Name):
            return func.value in self.find_spec_aliases
        if not isinstance(func, cst.Attribute) or func.attr.value != "find_spec":
            return False
        owner = func.value
        if isinstance(owner, cst.Name):
            return owner.value in self.util_aliases
        return (
            isinstance(owner, cst.Attribute)
            and owner.attr.value == "util"
            and isinstance(owner.value, cst.Name)
            and owner.value.value in self.importlib_aliases
        )

    def _probe(self, name: str, call: cst.Call, line: int, column: int, guards: tuple[Guard, ...]) -> None:
        """find_spec("a.b.c") imports a.b (an import like any other) and returns None when a.b.c is
        missing: the probed name is a reference, not an import that fails."""
        parent = name.rpartition(".")[0]
        if parent:
            self.sites.append(ImportSite(parent, None, line, column, SiteKind.DYNAMIC, guards))
        callee = dotted_name(call.func) or "find_spec"
        self.probes.append(NameReference(name, line, column, ReferenceKind.PROBE, callee, False, guards))


def guards_have_function(guards: Sequence[Guard]) -> bool:
    return any(g.kind is GuardKind.FUNCTION for g in guards)


def _ends_with_raise(statements: Sequence[cst.CSTNode]) -> bool:
    return isinstance(_last_small_statement(statements), cst.Raise)


def _suppresses_import_error(expr: cst.BaseExpression) -> bool:
    if not isinstance(expr, cst.Call) or _last_name(expr.func) != "suppress":
        return False
    return any(_last_name(arg.value) in _IMPORT_ERROR_CATCHERS for arg in expr.args)


# -- strings that name things: registry calls, dotted literals, monkeypatches (on the `ast`) -------


class _KnownStrings:
    """What a string expression is known to hold: literals, `__name__`, `__package__` and module
    constants (`_PREFIX = "tvm.contrib."`), joined by f-strings and `+`.

    resolve_cst/resolve_ast return (text, complete): `complete` False means only the start of the
    real string is known (f"tvm.contrib.{name}" -> ("tvm.contrib.", False)); None: nothing known.
    """

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

    def resolve_cst(self, expr: cst.BaseExpression) -> tuple[str, bool] | None:
        try:
            return self._cst(expr)
        except RecursionError:  # `"a" + "b" + ...` a thousand times: give up on this string only
            return None

    def resolve_ast(self, expr: ast.expr) -> tuple[str, bool] | None:
        try:
            return self._ast(expr)
        except RecursionError:
            return None

    def _cst(self, expr: cst.BaseExpression) -> tuple[str, bool] | None:
        text = _string_value(expr)
        if text is not None:
            return text, True
        if isinstance(expr, cst.Name):
            value = self.value(expr.value)
            return (value, True) if value is not None else None
        if isinstance(expr, cst.FormattedString):
            out = ""
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    out += part.value
                    continue
                if part.conversion is None and part.format_spec is None:
                    inner = self._cst(part.expression)
                    if inner is not None and inner[1]:
                        out += inner[0]
                        continue
                return out, False
            return out, True
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return _join(self._cst(expr.left), lambda: self._cst(expr.right))
        return None

    def _ast(self, expr: ast.expr) -> tuple[str, bool] | None:
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
                    inner = self._ast(part.value)
                    if inner is not None and inner[1]:
                        out += inner[0]
                        continue
                return out, False
            return out, True
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return _join(self._ast(expr.left), lambda: self._ast(expr.right))
        return None


def _join(left: tuple[str, bool] | None, right) -> tuple[str, bool] | None:
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
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound[node.id] = bound.get(node.id, 0) + 1
        elif isinstance(node, ast.arg):
            bound[node.arg] = bound.get(node.arg, 0) + 1
    return bound


def _ast_dotted(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        base = _ast_dotted(expr.value)
        return f"{base}.{expr.attr}" if base else None
    return None


_HEADER_SKIP = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})
_PATCH_HOW = {ast.Assign: "assign", ast.AugAssign: "augassign", ast.AnnAssign: "assign", ast.Delete: "delete"}


class _NameCollector:
    """One pass over the `ast` statements (with the guards of the libcst walk) collecting registry
    calls, dotted string literals and monkeypatches. The `ast` is a fraction of libcst's cost to
    walk, and every string of every file must be looked at."""

    def __init__(
        self,
        module: str,
        is_package: bool,
        registry_kinds: dict[str, ReferenceKind],
        names: _KnownStrings,
        import_calls: set[tuple[int, int]],
    ) -> None:
        self.module = module
        self.is_package = is_package
        self.kinds = registry_kinds
        self.names = names
        self.import_calls = import_calls  # importlib calls: their argument is an import site already
        self.references: list[NameReference] = []
        self.patches: list[Patch] = []
        self.bindings: dict[str, str] = {}  # local name -> the module or object an import bound to it
        self.consumed: set[int] = set()  # ids of string nodes already recorded as a call's argument

    def run(self, statements: list[tuple[ast.stmt, tuple[Guard, ...]]], lines: frozenset[int] | None = None) -> None:
        """`lines`: the only lines where a string, a registry call, `setattr`/`delattr` or an
        environment read can be (None: any line). Walking every expression of every statement
        is the costly part; most statements hold no quote and none of those names."""
        for stmt, _ in statements:
            self._bind(stmt)
        for stmt, guards in statements:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # docstrings and other bare strings say nothing to the program
            how = _PATCH_HOW.get(type(stmt))
            if how is not None:
                targets = stmt.targets if isinstance(stmt, (ast.Assign, ast.Delete)) else [stmt.target]
                if not (isinstance(stmt, ast.AnnAssign) and stmt.value is None):
                    for target in targets:
                        self._patch_target(target, how, guards)
            if lines is None or _spans_any(stmt, lines):
                self._expressions(stmt, guards)

    def _bind(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    self.bindings[alias.asname] = alias.name
                else:
                    head = alias.name.split(".", 1)[0]
                    self.bindings[head] = head
        elif isinstance(stmt, ast.ImportFrom):
            base = resolve_relative(self.module, self.is_package, stmt.level, stmt.module or "")
            if base is None:
                return
            for alias in stmt.names:
                if alias.name != "*":
                    self.bindings[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name

    def _imported(self, expr: ast.expr) -> str | None:
        """The absolute dotted name of `expr` if its first name is bound by an import."""
        dotted = _ast_dotted(expr)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        base = self.bindings.get(head)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base

    def _patch_target(self, target: ast.expr, how: str, guards: tuple[Guard, ...]) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._patch_target(element, how, guards)
        elif isinstance(target, ast.Starred):
            self._patch_target(target.value, how, guards)
        elif isinstance(target, ast.Attribute):
            owner = self._imported(target.value)
            if owner is not None:
                self.patches.append(Patch(owner, target.attr, target.lineno, target.col_offset + 1, how, guards))

    def _expressions(self, stmt: ast.stmt, guards: tuple[Guard, ...]) -> None:
        pending: list[ast.AST] = []
        for name, value in ast.iter_fields(stmt):
            if name in _HEADER_SKIP:
                continue
            for item in value if isinstance(value, list) else (value,):
                if isinstance(item, ast.AST):
                    pending.append(item)
        self._walk(pending, guards)

    def _walk(self, pending: list[ast.AST], guards: tuple[Guard, ...]) -> None:
        """Every expression node below `pending`. Hot: every node of every file passes here, so
        leaves are dispatched on their exact type first and `ctx` children are never visited."""
        while pending:
            node = pending.pop()
            kind = type(node)
            if kind is ast.Name:
                continue
            if kind is ast.Constant:
                value = node.value
                if type(value) is str and "." in value and id(node) not in self.consumed:
                    self._literal(value, True, node, guards)
                continue
            if kind is ast.Attribute:
                pending.append(node.value)
                continue
            if kind is ast.Call:
                self._call(node, guards)
            elif kind is ast.JoinedStr:
                if id(node) not in self.consumed:
                    known = self.names.resolve_ast(node)
                    if known is not None:
                        self._literal(known[0], known[1], node, guards)
                # only the expressions inside may hold calls; the text parts are done
                pending.extend(part for part in node.values if type(part) is ast.FormattedValue)
                continue
            elif kind is ast.Lambda:
                self._walk(list(ast.iter_child_nodes(node)), guards + (Guard(GuardKind.FUNCTION, node.lineno, "lambda"),))
                continue
            elif kind is ast.Subscript and _is_environ(node.value):  # os.environ["X"]
                self._environment(node.slice, node, guards)
            elif (
                kind is ast.Compare  # "X" in os.environ
                and len(node.ops) == 1
                and isinstance(node.ops[0], (ast.In, ast.NotIn))
                and _is_environ(node.comparators[0])
            ):
                self._environment(node.left, node, guards)
            pending.extend(ast.iter_child_nodes(node))

    def _literal(self, text: str, complete: bool, node: ast.expr, guards: tuple[Guard, ...]) -> None:
        if "." not in text or len(text) > 200 or not _DOTTED.fullmatch(text):
            return
        is_prefix = not complete or text.endswith(".")
        self.references.append(
            NameReference(text, node.lineno, node.col_offset + 1, ReferenceKind.LITERAL, "", is_prefix, guards)
        )

    def _call(self, node: ast.Call, guards: tuple[Guard, ...]) -> None:
        func = node.func
        callee = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if callee is None:
            return
        line, column = node.lineno, node.col_offset + 1
        if (line, column) in self.import_calls:
            if node.args:
                self.consumed.add(id(node.args[0]))
            return
        if callee in ("setattr", "delattr") and isinstance(func, ast.Name) and len(node.args) >= 2:
            owner = self._imported(node.args[0])
            if owner is not None:
                attribute = node.args[1].value if isinstance(node.args[1], ast.Constant) else ""
                attribute = attribute if isinstance(attribute, str) else ""
                self.patches.append(Patch(owner, attribute, line, column, callee, guards))
            return
        if (
            callee in _ENVIRONMENT_READERS
            and (callee == "getenv" or (isinstance(func, ast.Attribute) and _is_environ(func.value)))
            and node.args
        ):
            self._environment(node.args[0], node, guards)  # os.environ.get("X"), os.getenv("X")
            return
        kind = self.kinds.get(callee)
        if kind is None:
            return
        argument = node.args[0] if node.args and not isinstance(node.args[0], ast.Starred) else None
        if argument is None:
            argument = next((k.value for k in node.keywords if k.arg in _NAME_KEYWORDS), None)
        known = self.names.resolve_ast(argument) if argument is not None else None
        if known is None or not known[0]:
            return  # a name built at run time from nothing known: nothing to say
        self.consumed.add(id(argument))
        if kind is ReferenceKind.LOOKUP and _allows_missing(node):
            guards = guards + (Guard(GuardKind.OPTIONAL, line, "allow_missing=True"),)
        elif kind is ReferenceKind.LOOKUP and caught_in_innermost_function(guards, GuardKind.TOLERANT):
            # `try: f = get_global_func("relax.x") except ValueError: f = None`: as optional as
            # allow_missing=True, so the rules see it the same way.
            guards = guards + (Guard(GuardKind.OPTIONAL, line, "lookup failure caught"),)
        text, complete = known
        call = _ast_dotted(func) or callee
        self.references.append(NameReference(text, line, column, kind, call, not complete, guards))


    def _environment(self, key: ast.expr, node: ast.expr, guards: tuple[Guard, ...]) -> None:
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value:
            self.consumed.add(id(key))
            self.references.append(
                NameReference(key.value, node.lineno, node.col_offset + 1, ReferenceKind.ENVIRONMENT, "", False, guards)
            )


_ENVIRONMENT_READERS = frozenset({"get", "getenv", "setdefault", "pop"})


def _lines_matching(source: bytes, pattern: re.Pattern[bytes]) -> frozenset[int]:
    """1-based numbers of the lines `pattern` finds something on. bytes.splitlines breaks at \n,
    \r\n and a lone \r, as Python's tokenizer does; source encodings are ASCII-compatible."""
    return frozenset(number for number, line in enumerate(source.splitlines(), start=1) if pattern.search(line))


def _spans_any(stmt: ast.stmt, lines: frozenset[int]) -> bool:
    """The statement (its decorators included) covers one of `lines`."""
    first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
    last = stmt.end_lineno or stmt.lineno
    return any(number in lines for number in range(first, last + 1))


def _is_environ(expr: ast.expr) -> bool:
    """`os.environ` or `environ` (from os import environ)."""
    return (isinstance(expr, ast.Name) and expr.id == "environ") or (
        isinstance(expr, ast.Attribute) and expr.attr == "environ"
    )


def _allows_missing(call: ast.Call) -> bool:
    """`get_global_func(name, True)` / `allow_missing=True`: a missing name gives None, no error."""
    for keyword in call.keywords:
        if keyword.arg == "allow_missing":
            return isinstance(keyword.value, ast.Constant) and bool(keyword.value.value)
    return len(call.args) >= 2 and isinstance(call.args[1], ast.Constant) and bool(call.args[1].value)


def _code(node: cst.CSTNode) -> str:
    return " ".join(cst.Module(body=[]).code_for_node(node).split())


def _frozen(knowledge: Knowledge) -> frozenset[tuple[str, bool]]:
    return frozenset(knowledge.items())


def resolve_relative(module: str, is_package: bool, level: int, written: str) -> str | None:
    """The absolute module of `from <level dots><written> import ...` inside `module`.

    Inside `pkg/__init__.py` (module `pkg`) one dot means `pkg` itself, elsewhere the parent.
    None when the dots climb above the top-level package.
    """
    if level == 0:
        return written
    parts = module.split(".") if module else []
    base = parts if is_package else parts[:-1]
    if level - 1 > len(base) - 1 or not base:
        return None
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([written] if written else []))


def _suppressions(source: bytes) -> tuple[tuple[int, tuple[str, ...]], ...]:
    if b"scopeguard:" not in source:
        return ()
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = _SUPPRESSION.search(line)
        if match is None:
            continue
        codes = match.group(1)
        parsed = tuple(c.strip().upper() for c in codes.decode("ascii").split(",") if c.strip()) if codes else ()
        found.append((number, parsed))
    return tuple(found)


def scan_source(
    source: bytes, *, path: str, module: str, is_package: bool, matcher: ToggleMatcher, extra: bool = False
) -> FileFacts:
    """Parse one file and collect its facts. Never raises for bad input: errors become facts."""
    base = dict(path=path, module=module, is_package=is_package, extra=extra)
    try:
        tree = cst.parse_module(source)
    except Exception as error:  # libcst raises more than ParserSyntaxError on odd input; never crash
        return FileFacts(**base, error=_parse_error(source, error))

    scan_calls = b"import_module" in source or b"__import__" in source or b"find_spec" in source
    mentions_possible = matcher.spelled_in(source)
    try:
        ast_tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        ast_tree = None
    callees = _dynamic_callees(ast_tree) if ast_tree is not None and scan_calls else _DYNAMIC_IMPORT_NAMES
    names = _KnownStrings(ast_tree, module, is_package, extra)
    try:
        try:
            if ast_tree is None:
                raise _PositionMismatch
            positions = _AstPositions(ast_tree, callees)
            walker = _run_walker(
                tree, module, is_package, matcher, positions, scan_calls, callees, mentions_possible, names
            )
        except _PositionMismatch:
            walker = _run_walker(
                tree, module, is_package, matcher, _CstPositions(tree), scan_calls, callees, mentions_possible, names
            )
        collector = _NameCollector(module, is_package, matcher.registry_kinds, names, walker.import_calls)
        if ast_tree is not None:
            collector.run(_guarded_statements(walker, ast_tree), _lines_matching(source, matcher.name_pattern))
    except RecursionError:  # `not not ... x` a thousand deep; a 3000-term sum (libcst's codegen recurses)
        return FileFacts(**base, error=ParseError(1, 1, _TOO_DEEP))
    dunder_all = tuple(walker.dunder_all) if walker.dunder_all is not None and walker.dunder_all_literal else None
    references = sorted(walker.probes + collector.references, key=lambda r: (r.line, r.column, r.kind.value))
    return FileFacts(
        **base,
        sites=tuple(walker.sites),
        unresolved=tuple(walker.unresolved),
        dunder_all=dunder_all,
        suppressions=_suppressions(source),
        references=tuple(references),
        patches=tuple(sorted(collector.patches, key=lambda p: (p.line, p.column))),
    )


def _guarded_statements(walker: _Walker, tree: ast.Module) -> list[tuple[ast.stmt, tuple[Guard, ...]]]:
    """Every `ast` statement with the guards the libcst walk found around it.

    With `ast` positions the two walks match one to one, by index. When they disagreed (libcst
    positions), statements are matched by line; a statement on a line the walk never saw is left
    out rather than given the wrong guards.
    """
    if walker.statement_lines is None:
        return list(zip(walker.positions.statements, walker.statement_guards, strict=True))
    by_line: dict[int, tuple[Guard, ...]] = {}
    for line, guards in zip(walker.statement_lines, walker.statement_guards, strict=True):
        by_line.setdefault(line, guards)
    statements = sorted(_statements(tree), key=lambda n: (n.lineno, n.col_offset))
    return [(stmt, by_line[stmt.lineno]) for stmt in statements if stmt.lineno in by_line]


_TOO_DEEP = "an expression is nested too deeply to analyse (RecursionError); split it up or exclude the file"


def _parse_error(source: bytes, error: Exception) -> ParseError:
    """Where and why a file cannot be parsed, in CPython's words where it has better ones."""
    # A coding declaration that names no codec (`uft-8`), or `utf8` after a UTF-8 BOM, is not a
    # missing declaration: say what is wrong with it (stdlib test/tokenizedata/bad_coding*.py).
    declared = str(error).splitlines()[0] if str(error) else ""
    if declared.startswith(("unknown encoding", "encoding problem")):
        return ParseError(1, 1, f"{declared}; fix the coding declaration (PEP 263), or drop it and save as UTF-8")
    if isinstance(error, (UnicodeError, LookupError)) or "encoding" in str(error):
        return ParseError(1, 1, "not valid UTF-8 and no encoding declaration; re-encode it as UTF-8 or declare its encoding (PEP 263)")
    try:
        compile(source, "<file>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as syntax:  # CPython's location and message are the ones users know
        if isinstance(syntax.msg, str) and "encoding" in syntax.msg:
            return ParseError(1, 1, "not valid UTF-8 and no encoding declaration; re-encode it as UTF-8 or declare its encoding (PEP 263)")
        return ParseError(syntax.lineno or 1, syntax.offset or 1, f"{type(syntax).__name__}: {syntax.msg}")
    except (ValueError, RecursionError, MemoryError) as other:
        return ParseError(1, 1, f"{type(other).__name__}: {other}")
    if isinstance(error, cst.ParserSyntaxError):  # valid for CPython, not for libcst's grammar
        first = str(error).splitlines()[0] if str(error) else "syntax error"
        return ParseError(error.raw_line, error.raw_column + 1, f"libcst cannot parse this file: {first}")
    return ParseError(1, 1, f"{type(error).__name__}: {error}")


def _dynamic_callees(tree: ast.Module) -> frozenset[str]:
    """import_module/__import__/find_spec plus local names for them
    (`from importlib import import_module as load`, `from importlib.util import find_spec as probe`)."""
    aliases = {
        alias.asname
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in ("importlib", "importlib.util") and node.level == 0
        for alias in node.names
        if alias.name in ("import_module", "find_spec") and alias.asname
    }
    return _DYNAMIC_IMPORT_NAMES | aliases


def _run_walker(
    tree, module, is_package, matcher, positions, scan_calls, callees, mentions_possible=True, names=None
) -> _Walker:
    walker = _Walker(module, is_package, matcher, positions, scan_calls, callees)
    walker.mentions_possible = mentions_possible
    if names is not None:
        walker.names = names
    walker.block(tree.body, ())
    positions.check_count(walker.index + 1)
    walker.finish()
    return walker


# The largest real files seen: torch 1.4 MB (7 s, 770 MB to parse), a generated AWS policy table 4 MB.
MAX_FILE_BYTES = 8 * 2**20


def scan_file(
    abspath: str, *, path: str, module: str, is_package: bool, matcher: ToggleMatcher, extra: bool = False
) -> FileFacts:
    try:
        with open(abspath, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            # Parsing costs ~10 s and ~1 GB per 5 MB of code: a file this large is generated data.
            if size > MAX_FILE_BYTES:
                reason = (f"too large to analyse ({size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES >> 20} MB); "
                          "exclude it if it is generated")
                return FileFacts(path=path, module=module, is_package=is_package, extra=extra,
                                 error=ParseError(0, 0, reason))
            source = handle.read()
    except OSError as error:
        reason = f"cannot read: {error.strerror or error}"
        return FileFacts(path=path, module=module, is_package=is_package, extra=extra, error=ParseError(0, 0, reason))
    return scan_source(source, path=path, module=module, is_package=is_package, matcher=matcher, extra=extra)
