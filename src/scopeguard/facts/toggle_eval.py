"""Evaluates an expression to its possible values in one OFF state of the toggles it reads."""

from __future__ import annotations

import libcst as cst

from ..base.model import TYPE_CHECKING
from .bindings import ASSIGNED, CLASS, DEFINED, IMPORTED
from .syntax import single_string_index, string_value
from .toggle_values import (
    ABSENT,
    FALSY,
    FUNCTION,
    RAISES,
    TRUTHY,
    UNKNOWN,
    ClassValue,
    DictValue,
    Ref,
    cap,
    compare,
    convert,
    negate,
    str_method,
    truth_of,
)

# Names of typing.TYPE_CHECKING, once resolved.
_TYPE_CHECKING_NAMES = frozenset({"TYPE_CHECKING", "typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING"})
_ENV_MAPPINGS = frozenset({"os.environ", "environ"})
_ENV_GETTERS = frozenset({"os.getenv", "getenv", "os.environ.get", "environ.get"})
_STR_METHODS = frozenset({"lower", "upper", "strip", "casefold", "lstrip", "rstrip"})
_MAX_DEPTH = 40
_MAX_NESTING = 80  # ev calls in progress at once (each is a few Python frames)


class Evaluator:
    """Evaluates an expression to its possible values (a tuple of alternatives) in one OFF state:
    `env` maps toggle variables (kind, spelling) to their value; unmapped ones are unknown and
    recorded in `seen`. `owner` is the toggle_knowledge.FileToggles asking (its matcher, bindings
    and nesting count are shared)."""

    def __init__(self, owner, env: dict, scope) -> None:
        self.owner = owner
        self.matcher = owner.matcher
        self.bindings = owner.bindings
        self.env = env
        self.scope = scope
        self.seen: set[tuple[str, str]] = set()
        self.active: set[int] = set()

    def outcomes(self, expr: cst.BaseExpression) -> set:
        return {truth_of(v) for v in self.values(self.ev(expr, self.scope, 0))}

    # -- variables ------------------------------------------------------------------------------

    def var(self, kind: str, name: str):
        key = (kind, name)
        self.seen.add(key)
        return self.env.get(key, UNKNOWN)

    def read(self, kind: str, key: str, form: str, default=(None,)) -> tuple:
        """An environment variable or build-info key read by `form`: "get" (with `default`),
        "[]" or "in"."""
        if key not in self.matcher.spellings:
            return (UNKNOWN,)
        value = self.var(kind, key)
        if value is ABSENT:
            return default if form == "get" else (RAISES,) if form == "[]" else (False,)
        if value is UNKNOWN:
            return (UNKNOWN,)
        return (True,) if form == "in" else (value,)

    def load(self, ref: Ref) -> tuple:
        """The value of an imported or free dotted name."""
        dotted = ref.dotted
        out: list = []
        if dotted in _TYPE_CHECKING_NAMES:
            out.append(self.var("tc", TYPE_CHECKING))
        else:
            last = dotted.rsplit(".", 1)[-1]
            if last in self.owner.functions:
                out.append(FUNCTION)  # a predicate read without a call: the function object
            else:
                out.append(self.var("py", last) if last in self.matcher.spellings else UNKNOWN)
        if self.bindings is not None and "." in dotted:
            for binding in self.bindings.attribute_bindings(dotted, self._resolve_base):
                out.extend(self.binding(binding, 1))
        return tuple(out)

    def _resolve_base(self, base, scope) -> list[str]:
        values = Evaluator(self.owner, {}, scope).ev(base, scope, 0)
        return [v.dotted for v in values if isinstance(v, Ref)]

    def values(self, alternatives: tuple) -> tuple:
        """Alternatives with names loaded (a Ref read as a value)."""
        if not any(isinstance(a, Ref) for a in alternatives):
            return alternatives
        out: list = []
        for a in alternatives:
            out.extend(self.load(a) if isinstance(a, Ref) else (a,))
        return cap(out)

    # -- evaluation -----------------------------------------------------------------------------

    def ev(self, node: cst.BaseExpression, scope, depth: int) -> tuple:
        # `depth` bounds one chain of reasoning; `nesting` bounds them all together: attribute
        # bindings start new chains (`load`, `_resolve_base`), and torch's bytecode_transformation.py
        # nests them past Python's stack. Beyond either, the value is unknown (not guarded).
        owner = self.owner
        if depth > _MAX_DEPTH or owner.nesting > _MAX_NESTING:
            return (UNKNOWN,)
        owner.nesting += 1
        try:
            return self._ev(node, scope, depth + 1)
        finally:
            owner.nesting -= 1

    def _ev(self, node: cst.BaseExpression, scope, depth: int) -> tuple:
        if isinstance(node, cst.Name):
            return self.name(node.value, scope, depth)
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = string_value(node)
            return (value,) if value is not None else (UNKNOWN,)
        if isinstance(node, (cst.Integer, cst.Float)):
            try:
                return (node.evaluated_value,)
            except Exception:  # noqa: BLE001 - odd literals: unknown
                return (UNKNOWN,)
        if isinstance(node, cst.Attribute):
            return self.attribute(node, scope, depth)
        if isinstance(node, cst.UnaryOperation):
            operand = self.values(self.ev(node.expression, scope, depth))
            if isinstance(node.operator, cst.Not):
                return cap([negate(truth_of(v)) for v in operand])
            if isinstance(node.operator, cst.Minus):
                return cap([-v if type(v) in (int, float) else (RAISES if v is RAISES else UNKNOWN) for v in operand])
            return (UNKNOWN,)
        if isinstance(node, cst.BooleanOperation):
            return self.boolean(node, scope, depth)
        if isinstance(node, cst.Comparison):
            return self.comparison(node, scope, depth)
        if isinstance(node, cst.Call):
            return self.call(node, scope, depth)
        if isinstance(node, cst.Subscript):
            return self.subscript(node, scope, depth)
        if isinstance(node, cst.IfExp):
            out: list = []
            for t in {truth_of(v) for v in self.values(self.ev(node.test, scope, depth))}:
                if t is RAISES:
                    out.append(RAISES)
                if t is True or t is UNKNOWN:
                    out.extend(self.ev(node.body, scope, depth))
                if t is False or t is UNKNOWN:
                    out.extend(self.ev(node.orelse, scope, depth))
            return cap(out)
        if isinstance(node, cst.Lambda):
            return (FUNCTION,)
        if isinstance(node, cst.NamedExpr):
            return self.ev(node.value, scope, depth)
        if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            items = []
            for element in node.elements:
                if not isinstance(element, cst.Element):
                    return (TRUTHY,) if items else (UNKNOWN,)
                value = self.values(self.ev(element.value, scope, depth))
                items.append(value[0] if len(value) == 1 else UNKNOWN)
            return (tuple(items),)
        if isinstance(node, cst.Dict):
            mapping = {}
            for element in node.elements:
                if not isinstance(element, cst.DictElement):
                    return (UNKNOWN,)
                key = self.values(self.ev(element.key, scope, depth))
                value = self.values(self.ev(element.value, scope, depth))
                if len(key) != 1 or not isinstance(key[0], (str, int, bool, type(None))):
                    return (UNKNOWN,)
                mapping[key[0]] = value[0] if len(value) == 1 else UNKNOWN
            return (DictValue(mapping),)
        return (UNKNOWN,)

    def name(self, name: str, scope, depth: int) -> tuple:
        if name in ("True", "False", "None"):
            return ({"True": True, "False": False, "None": None}[name],)
        found = self.bindings.lookup(name, scope) if self.bindings is not None else None
        if found is None:
            if name == "__name__":
                return (self.var("main", "__name__"),)
            return (Ref(name),)
        out: list = []
        defining = name in self.matcher.spellings and name not in self.owner.functions and all(
            kind == ASSIGNED and where.kind == "module" for kind, _, where in found
        )
        for binding in found:
            values = self.binding(binding, depth)
            if defining:
                # The module that defines the toggle (`USE_FEAT = _read_flag()`): an opaque value
                # is the toggle's; a known one (`USE_FEAT = True`) is what it is.
                values = tuple(self.var("py", name) if v is UNKNOWN else v for v in self.values(values))
            out.extend(values)
        return cap(out)

    def binding(self, binding, depth: int) -> tuple:
        kind, payload, where = binding
        if kind == IMPORTED:
            return (Ref(payload),)
        if kind == ASSIGNED:
            if id(payload) in self.active:
                return (UNKNOWN,)
            self.active.add(id(payload))
            try:
                return self.ev(payload, where, depth)
            finally:
                self.active.discard(id(payload))
        if kind == DEFINED:
            return (FUNCTION,)
        if kind == CLASS:
            return (ClassValue(payload),)
        return (UNKNOWN,)

    def attribute(self, node: cst.Attribute, scope, depth: int) -> tuple:
        attr = node.attr.value
        out: list = []
        for base in self.ev(node.value, scope, depth):
            if isinstance(base, Ref):
                out.append(Ref(f"{base.dotted}.{attr}"))
            elif isinstance(base, ClassValue):
                found = base.scope.names.get(attr)
                if not found:
                    out.append(UNKNOWN)
                else:
                    for binding in found:
                        out.extend(self.binding(binding, depth))
            elif base is RAISES:
                out.append(RAISES)
            else:
                out.append(UNKNOWN)
        return cap(out)

    def boolean(self, node: cst.BooleanOperation, scope, depth: int) -> tuple:
        is_and = isinstance(node.operator, cst.And)
        out: list = []
        right = None
        for value in self.values(self.ev(node.left, scope, depth)):
            t = truth_of(value)
            if t is RAISES:
                out.append(RAISES)
                continue
            if t is UNKNOWN:
                out.append(FALSY if is_and else TRUTHY)
            elif t is not is_and:
                out.append(value)
                continue
            if right is None:
                right = self.values(self.ev(node.right, scope, depth))
            out.extend(right)
        return cap(out)

    def comparison(self, node: cst.Comparison, scope, depth: int) -> tuple:
        """`a < b < c`: each link in turn, stopping at the first false one (as Python does)."""
        current = self.values(self.ev(node.left, scope, depth))
        results: set = set()
        for target in node.comparisons:
            right = self.values(self.ev(target.comparator, scope, depth))
            step = {compare(target.operator, a, b) for a in current for b in right}
            results |= step - {True}
            if True not in step and UNKNOWN not in step:
                return cap(list(results))
            current = right
        results.add(True)
        return cap(list(results))

    def call(self, node: cst.Call, scope, depth: int) -> tuple:
        func = node.func
        positional = [a.value for a in node.args if a.keyword is None and a.star == ""]
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        if any(a.star for a in node.args):
            return (UNKNOWN,)
        if isinstance(func, cst.Attribute) and func.attr.value in _STR_METHODS and not node.args:
            return cap([str_method(func.attr.value, v) for v in self.values(self.ev(func.value, scope, depth))])
        if isinstance(func, cst.Attribute) and func.attr.value == "get" and positional:
            key = string_value(positional[0])
            default_node = positional[1] if len(positional) > 1 else keywords.get("default")
            out: list = []
            for receiver in self.ev(func.value, scope, depth):
                if isinstance(receiver, Ref) and receiver.dotted in _ENV_MAPPINGS and key is not None:
                    out.extend(self.read("env", key, "get", self._default(default_node, scope, depth)))
                elif isinstance(receiver, DictValue) and key is not None:
                    out.append(receiver.items[key] if key in receiver.items else
                               self._default(default_node, scope, depth)[0])
                elif receiver is RAISES:
                    out.append(RAISES)
                elif key is not None and key in self.matcher.spellings and not isinstance(receiver, (ClassValue, str)):
                    out.extend(self.read("info", key, "get", self._default(default_node, scope, depth)))
                else:
                    out.append(UNKNOWN)
            return cap(out)
        out = []
        for callee in self.ev(func, scope, depth):
            if not isinstance(callee, Ref):
                out.append(RAISES if callee is RAISES else UNKNOWN)
                continue
            name = callee.dotted
            if name in _ENV_GETTERS and positional:
                key = string_value(positional[0])
                if key is None:
                    out.append(UNKNOWN)
                else:
                    default_node = positional[1] if len(positional) > 1 else keywords.get("default")
                    out.extend(self.read("env", key, "get", self._default(default_node, scope, depth)))
            elif name in ("getattr", "builtins.getattr") and len(positional) in (2, 3):
                attr = string_value(positional[1])
                if attr is None or not attr.isidentifier():
                    out.append(UNKNOWN)
                    continue
                fake = cst.Attribute(value=positional[0], attr=cst.Name(attr))
                got = self.values(self.attribute(fake, scope, depth))
                out.extend(got)
                if len(positional) == 3:  # the default, when the attribute is missing
                    out.extend(self.values(self.ev(positional[2], scope, depth)))
            elif name in ("bool", "str", "int") and len(positional) == 1 and not keywords:
                for value in self.values(self.ev(positional[0], scope, depth)):
                    out.append(convert(name, value))
            elif name.rsplit(".", 1)[-1] in self.matcher.spellings:
                out.append(self.var("pred", name.rsplit(".", 1)[-1]))
            else:
                out.append(UNKNOWN)
        return cap(out)

    def _default(self, node, scope, depth: int) -> tuple:
        if node is None:
            return (None,)
        return self.values(self.ev(node, scope, depth))

    def subscript(self, node: cst.Subscript, scope, depth: int) -> tuple:
        key = single_string_index(node)
        index = None
        if key is None and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            index = self.values(self.ev(node.slice[0].slice.value, scope, depth))
        out: list = []
        for receiver in self.ev(node.value, scope, depth):
            if isinstance(receiver, Ref) and receiver.dotted in _ENV_MAPPINGS and key is not None:
                out.extend(self.read("env", key, "[]"))
            elif isinstance(receiver, DictValue) and key is not None:
                out.append(receiver.items.get(key, RAISES))
            elif receiver is RAISES:
                out.append(RAISES)
            elif key is not None and key in self.matcher.spellings and not isinstance(receiver, (ClassValue, str)):
                out.extend(self.read("info", key, "[]"))
            elif isinstance(receiver, tuple) and index is not None and len(index) == 1 and type(index[0]) is int:
                try:
                    out.append(receiver[index[0]])
                except IndexError:
                    out.append(RAISES)
            else:
                out.append(UNKNOWN)
        return cap(out)


__all__ = ["Evaluator"]
