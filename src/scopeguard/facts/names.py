"""Strings that name things: registry calls, dotted string literals, monkeypatches, environment reads.

One pass over the `ast` statements, with the guards the libcst walk found around each: the `ast` is
a fraction of libcst's cost to walk, and every string of every file must be looked at.
"""

from __future__ import annotations

import ast
import re

from ..base.model import Guard, GuardKind, NameReference, Patch, ReferenceKind, caught_in_innermost_function
from .astnodes import HEADER_SKIP, dotted, line_span
from .bindings import ImportBindings
from .guard_walk import Guards
from .strings import KnownStrings

# Keyword names under which registry functions take the name (TVM: name, func_name, namespace).
_NAME_KEYWORDS = frozenset({"name", "func_name", "namespace", "prefix", "type_key"})
# A dotted name ("tvm.relax.training") or a dotted prefix ("tvm.contrib."), as string literals hold them.
_DOTTED = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)+\.?|[^\W\d]\w*\.")
_PATCH_HOW = {ast.Assign: "assign", ast.AugAssign: "augassign", ast.AnnAssign: "assign", ast.Delete: "delete"}
_ENVIRONMENT_READERS = frozenset({"get", "getenv", "setdefault", "pop"})


class NameCollector:
    def __init__(
        self,
        registry_kinds: dict[str, ReferenceKind],
        bindings: ImportBindings,
        names: KnownStrings,
        import_calls: set[tuple[int, int]],
    ) -> None:
        self.kinds = registry_kinds
        self.bindings = bindings  # local name -> the module or object an import bound to it
        self.names = names
        self.import_calls = import_calls  # importlib calls: their argument is an import site already
        self.references: list[NameReference] = []
        self.patches: list[Patch] = []
        self.consumed: set[int] = set()  # ids of string nodes already recorded as a call's argument

    def run(self, statements: list[tuple[ast.stmt, Guards]], lines: frozenset[int] | None = None) -> None:
        """`lines`: the only lines where a string, a registry call, `setattr`/`delattr` or an
        environment read can be (None: any line). Walking every expression of every statement
        is the costly part; most statements hold no quote and none of those names."""
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

    def _patch_target(self, target: ast.expr, how: str, guards: Guards) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._patch_target(element, how, guards)
        elif isinstance(target, ast.Starred):
            self._patch_target(target.value, how, guards)
        elif isinstance(target, ast.Attribute):
            owner = self.bindings.absolute(dotted(target.value))
            if owner is not None:
                self.patches.append(Patch(owner, target.attr, target.lineno, target.col_offset + 1, how, guards))

    def _expressions(self, stmt: ast.stmt, guards: Guards) -> None:
        pending: list[ast.AST] = []
        for name, value in ast.iter_fields(stmt):
            if name in HEADER_SKIP:
                continue
            for item in value if isinstance(value, list) else (value,):
                if isinstance(item, ast.AST):
                    pending.append(item)
        self._walk(pending, guards)

    def _walk(self, pending: list[ast.AST], guards: Guards) -> None:
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
                    known = self.names.resolve(node)
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

    def _literal(self, text: str, complete: bool, node: ast.expr, guards: Guards) -> None:
        if "." not in text or len(text) > 200 or not _DOTTED.fullmatch(text):
            return
        is_prefix = not complete or text.endswith(".")
        self.references.append(
            NameReference(text, node.lineno, node.col_offset + 1, ReferenceKind.LITERAL, "", is_prefix, guards)
        )

    def _call(self, node: ast.Call, guards: Guards) -> None:
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
            owner = self.bindings.absolute(dotted(node.args[0]))
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
        known = self.names.resolve(argument) if argument is not None else None
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
        call = dotted(func) or callee
        self.references.append(NameReference(text, line, column, kind, call, not complete, guards))

    def _environment(self, key: ast.expr, node: ast.expr, guards: Guards) -> None:
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value:
            self.consumed.add(id(key))
            self.references.append(
                NameReference(key.value, node.lineno, node.col_offset + 1, ReferenceKind.ENVIRONMENT, "", False, guards)
            )


def lines_matching(source: bytes, pattern: re.Pattern[bytes]) -> frozenset[int]:
    """1-based numbers of the lines `pattern` finds something on. bytes.splitlines breaks at \\n,
    \\r\\n and a lone \\r, as Python's tokenizer does; source encodings are ASCII-compatible."""
    return frozenset(number for number, line in enumerate(source.splitlines(), start=1) if pattern.search(line))


def _spans_any(stmt: ast.stmt, lines: frozenset[int]) -> bool:
    """The statement (its decorators included) covers one of `lines`."""
    first, last = line_span(stmt)
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
