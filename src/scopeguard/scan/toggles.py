"""Toggle logic: which expressions hold a toggle's value, and what a condition being true or false
guarantees about the toggles (Knowledge), merged and intersected soundly."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from ..model import MAIN, TYPE_CHECKING, ReferenceKind, Registries, Toggle
from .syntax import last_name, single_string_index, string_value

# Literal values that mean "off" when a toggle value is compared with them; any other literal is "on".
_OFF_LITERALS = frozenset({"off", "0", "false", "no", "n", "", "none", "disable", "disabled"})

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
            key = single_string_index(expr)
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
                key = string_value(expr.args[0].value)
                if key is not None and key in self.spellings:
                    return self.spellings[key]
            # A configured predicate: `has_msc()`.
            name = last_name(func)
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
            return merge(left, right) if both_hold else intersect(left, right)
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
            if string_value(other) == "__main__" and isinstance(op, (cst.Equal, cst.NotEqual)):
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
            if last_name(expr.func) == "skipif" and expr.args and expr.args[0].keyword is None:
                return self.implies(expr.args[0].value, False)
            expr = expr.func
        name = last_name(expr)
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


def _is_dunder_name(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "__name__"


def _literal_state(expr: cst.BaseExpression) -> bool | None:
    """Whether a literal compared with a toggle value means on (True) or off (False)."""
    text = string_value(expr)
    if text is not None:
        return text.strip().lower() not in _OFF_LITERALS
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return expr.value == "True"
    if isinstance(expr, cst.Integer):
        return expr.evaluated_value != 0
    return None


def merge(left: Knowledge, right: Knowledge) -> Knowledge:
    """Both hold."""
    merged = dict(left)
    for toggle, state in right.items():
        if merged.get(toggle, state) != state:
            del merged[toggle]  # contradictory: the branch cannot run; claim nothing
        else:
            merged[toggle] = state
    return merged


def intersect(left: Knowledge, right: Knowledge) -> Knowledge:
    """One of them holds."""
    return {toggle: state for toggle, state in left.items() if right.get(toggle) == state}


def frozen(knowledge: Knowledge) -> frozenset[tuple[str, bool]]:
    return frozenset(knowledge.items())
