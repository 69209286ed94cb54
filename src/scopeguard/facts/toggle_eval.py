"""Toggle logic: which expressions hold a toggle's value, and what a condition being true or false
guarantees about the toggles (Knowledge).

The toggle model has explicit OFF states. Each spelling of a toggle is read in one of four ways,
decided by how the code reads it, and takes these values while the toggle is off:

    Python name / attribute  `USE_FEAT`, `config.USE_FEAT`, `getattr(config, "USE_FEAT")`
                             False, None, 0, ""               (on_when_false: any true value)
    predicate call           `has_feat()`                     the same
    environment variable     `os.environ.get("X")`, `os.getenv("X", d)`, `os.environ["X"]`,
                             `"X" in os.environ`
                             unset, or a value in the toggle's `off_values`, in any letter case
                             (default "", "0", "off", "false", "no"; on_when_false: set, and none
                             of them)
    build-info key           `libinfo().get("X", d)`, `info["X"]` on an opaque mapping
                             missing, or an off value as above

A condition is evaluated by a small abstract interpreter (`_Evaluator`) once per OFF state of each
toggle it reads (every combination of its spellings' OFF values), with everything else unknown:
`typing.TYPE_CHECKING` is False at run time, `__name__` is not "__main__" on import. A branch is
guarded by a toggle (knowledge (toggle, True)) only if it runs in no OFF state: an unknown result
in any state means not guarded. (toggle, False) says it runs in every OFF state (for messages).

Names are the toggle only where they are bound to it (bindings.FileBindings): a local, parameter,
loop variable, rebinding or a module's own `TYPE_CHECKING = True` is evaluated as what it holds;
import aliases, `getattr(module, "NAME")`, assigned aliases and walrus targets are followed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

import libcst as cst

from ..base.model import DEFAULT_OFF_VALUES, MAIN, TYPE_CHECKING, ReferenceKind, Registries, Toggle
from .bindings import ASSIGNED, CLASS, DEFINED, IMPORTED, FileBindings
from .syntax import single_string_index, string_value

Knowledge = dict  # toggle name -> required state (True = on)

# Names of typing.TYPE_CHECKING, once resolved.
_TYPE_CHECKING_NAMES = frozenset({"TYPE_CHECKING", "typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING"})
_ENV_MAPPINGS = frozenset({"os.environ", "environ"})
_ENV_GETTERS = frozenset({"os.getenv", "getenv", "os.environ.get", "environ.get"})
_STR_METHODS = frozenset({"lower", "upper", "strip", "casefold", "lstrip", "rstrip"})
# Source words that make a file worth a binding pass besides the toggles' own spellings.
_TRIGGERS = (b"TYPE_CHECKING", b"__main__", b"skip")
_MAX_STATES = 4096
_MAX_ALTERNATIVES = 32
_MAX_DEPTH = 40
_MAX_NESTING = 80  # ev calls in progress at once (each is a few Python frames)


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


UNKNOWN = _Sentinel("UNKNOWN")  # any value
RAISES = _Sentinel("RAISES")  # evaluating it raises: neither branch runs
ABSENT = _Sentinel("ABSENT")  # an unset environment variable / a missing build-info key
TRUTHY = _Sentinel("TRUTHY")  # some true value
FALSY = _Sentinel("FALSY")  # some false value
NOT_MAIN = _Sentinel("NOT_MAIN")  # `__name__` on import: a string other than "__main__"
FUNCTION = _Sentinel("FUNCTION")  # a function defined in the file


class Folded:
    """A string known up to letter case: any of "off", "OFF", "Off", ..."""

    __slots__ = ("lower",)

    def __init__(self, lower: str) -> None:
        self.lower = lower


class NonOff:
    """A string none of whose case-folded forms is an OFF value (an inverted toggle's OFF state)."""

    __slots__ = ("words",)

    def __init__(self, words: frozenset[str]) -> None:
        self.words = words


class Ref:
    """A dotted name outside the file's own values: an imported module or object, or a free name."""

    __slots__ = ("dotted",)

    def __init__(self, dotted: str) -> None:
        self.dotted = dotted


class ClassValue:
    __slots__ = ("scope",)

    def __init__(self, scope) -> None:
        self.scope = scope


class DictValue:
    __slots__ = ("items",)

    def __init__(self, items: dict) -> None:
        self.items = items


_CONCRETE = (type(None), bool, int, float, str, bytes, tuple)


class ToggleMatcher:
    """The configured toggles: their spellings, OFF values and decorators. `for_file` gives the
    per-file view the guard walk asks (binding-aware); `implies` here reads names as spelled."""

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
        self.toggles = tuple(toggles)
        # spelling -> (toggle, whether a truthy value means the toggle is on)
        self.spellings: dict[str, tuple[str, bool]] = {}
        self.off_words: dict[str, frozenset[str]] = {}
        self.decorators: dict[str, str] = {}  # configured dotted name -> toggle
        self.decorator_names: dict[str, str] = {}  # its last part -> toggle
        for toggle in self.toggles:
            self.off_words[toggle.name] = frozenset(w.strip().lower() for w in toggle.off_values)
            for spelling in toggle.on_when_true:
                self.spellings[spelling] = (toggle.name, True)
            for spelling in toggle.on_when_false:
                self.spellings[spelling] = (toggle.name, False)
            for decorator in toggle.decorators:
                self.decorators[decorator] = toggle.name
                self.decorator_names[decorator.rsplit(".", 1)[-1]] = toggle.name
        self._triggers = tuple({s.encode() for s in (*self.spellings, *self.decorator_names)}) + _TRIGGERS
        self._plain = FileToggles(self, None)

    def spelled_in(self, source: bytes) -> bool:
        """Whether any toggle spelling occurs in the text at all: if not, no test can mention one,
        and the (slow) search of every condition for mentions can be skipped."""
        return any(spelling.encode() in source for spelling in self.spellings) or any(
            name.encode() in source for name in self.decorator_names
        )

    def for_file(self, tree: cst.Module, source: bytes, module: str, is_package: bool, ast_tree=None) -> FileToggles:
        """The binding-aware view of one file (a binding pass only where a toggle may be read);
        `ast_tree`, the file's `ast` when the caller has it, narrows the search for `:=`."""
        if not any(word in source for word in self._triggers):
            return FileToggles(self, None)
        walrus = (ast_tree if ast_tree is not None else True) if b":=" in source else False
        return FileToggles(self, FileBindings(tree, module, is_package, walrus=walrus))

    # The same questions without bindings (names read as spelled): for callers without a file.
    def implies(self, expr: cst.BaseExpression, truth: bool) -> Knowledge:
        return self._plain.implies(expr, truth)

    def mentioned(self, expr: cst.CSTNode) -> frozenset[str]:
        return self._plain.mentioned(expr)

    def decorator_toggles(self, decorator: cst.Decorator) -> Knowledge:
        return self._plain.decorator_toggles(decorator)


class FileToggles:
    """What the tests, decorators and calls of one file say about the toggles."""

    def __init__(self, matcher: ToggleMatcher, bindings: FileBindings | None) -> None:
        self.matcher = matcher
        self.bindings = bindings
        self._cache: dict[int, tuple] = {}
        self.nesting = 0  # evaluations in progress, over every evaluator of this file (see _Evaluator.ev)

    # -- the guard walk's questions -------------------------------------------------------------

    def implies(self, expr: cst.BaseExpression, truth: bool) -> Knowledge:
        """What `expr` evaluating to `truth` guarantees about toggles (sound, never a guess)."""
        constant, per_toggle, _ = self._analyse(expr)
        knowledge: Knowledge = {}
        main_only = False
        if MAIN in per_toggle:
            main_only = _never(per_toggle[MAIN][0], truth)
        for toggle, (import_states, script_states) in per_toggle.items():
            states = script_states if main_only and toggle != MAIN and script_states is not None else import_states
            if _never(states, truth):
                knowledge[toggle] = True
            elif all(outcomes == {truth} for outcomes in states):
                knowledge[toggle] = False
        if constant is not None and constant is not truth and not main_only:
            # The branch cannot run at all (`if False:`, `while 0:`): it needs every toggle on.
            for toggle in self.matcher.toggles:
                knowledge[toggle.name] = True
        return knowledge

    def mentioned(self, expr: cst.CSTNode) -> frozenset[str]:
        """Every toggle whose spelling the test reads (for messages about weak guards)."""
        if not isinstance(expr, cst.BaseExpression):
            return frozenset()
        _, per_toggle, _ = self._analyse(expr)
        return frozenset(t for t in per_toggle if t not in (TYPE_CHECKING, MAIN))

    def decorator_toggles(self, decorator: cst.Decorator) -> Knowledge:
        """What must hold for a function with this decorator to run its body."""
        scope = self._scope(decorator)
        return self._decorator(decorator.decorator, scope, 0)

    def callee(self, func: cst.BaseExpression) -> str | None:
        """The dotted name a called expression is bound to (`stop` after `stop = sys.exit` ->
        "sys.exit"), None when the file binds it to its own function or class, or it is unknown."""
        evaluator = _Evaluator(self, {}, None)
        alternatives = evaluator.ev(func, self._scope(func), 0)
        names = {a.dotted for a in alternatives if isinstance(a, Ref)}
        if len(names) == 1 and len(alternatives) == 1:
            return names.pop()
        return None

    # -- analysis -------------------------------------------------------------------------------

    def _scope(self, node):
        return self.bindings.scope_of(node) if self.bindings is not None else None

    def _analyse(self, expr: cst.BaseExpression):
        key = id(expr)
        cached = self._cache.get(key)
        if cached is not None and cached[0] is expr:
            return cached[1]
        scope = self._scope(expr)
        first = _Evaluator(self, {}, scope)
        base = first.outcomes(expr)
        constant = None  # the test's value whatever the toggles (`if False:`)
        if UNKNOWN not in base:
            if base <= {False, RAISES}:
                constant = False
            elif base <= {True, RAISES}:
                constant = True
        variables: dict[str, list] = {}
        for var in first.seen:
            variables.setdefault(self._toggle_of(var), []).append(var)
        per_toggle: dict[str, tuple] = {}
        main_vars = [v for v in first.seen if v[0] == "main"]
        tc_vars = [v for v in first.seen if v[0] == "tc"]
        for toggle, own in variables.items():
            if toggle is None:
                continue
            own = sorted(own)
            choices = [self._off_values(var) for var in own]
            count = 1
            for c in choices:
                count *= len(c)
            if count > _MAX_STATES:
                continue
            fixed = {v: False for v in tc_vars if toggle != TYPE_CHECKING}
            import_states, script_states = [], [] if main_vars and toggle != MAIN else None
            for values in itertools.product(*choices):
                env = dict(zip(own, values))
                if toggle != MAIN:
                    for v in main_vars:
                        env[v] = NOT_MAIN
                import_states.append(_Evaluator(self, {**fixed, **env}, scope).outcomes(expr))
                if script_states is not None:
                    for v in main_vars:
                        env[v] = "__main__"
                    script_states.append(_Evaluator(self, {**fixed, **env}, scope).outcomes(expr))
            per_toggle[toggle] = (import_states, script_states)
        result = (constant, per_toggle, None)
        self._cache[key] = (expr, result)
        return result

    def _toggle_of(self, var: tuple[str, str]) -> str | None:
        kind, name = var
        if kind == "tc":
            return TYPE_CHECKING
        if kind == "main":
            return MAIN
        found = self.matcher.spellings.get(name)
        return found[0] if found else None

    def _off_values(self, var: tuple[str, str]) -> tuple:
        kind, name = var
        if kind == "tc":
            return (False,)
        if kind == "main":
            return (NOT_MAIN,)
        toggle, truthy_means_on = self.matcher.spellings[name]
        words = self.matcher.off_words.get(toggle, frozenset())
        if kind in ("py", "pred"):
            return (False, None, 0, "") if truthy_means_on else (TRUTHY,)
        if truthy_means_on:
            return (ABSENT, *(Folded(w) for w in sorted(words)))
        return (NonOff(words),)

    def _decorator(self, expr: cst.BaseExpression, scope, depth: int) -> Knowledge:
        if depth > 8:
            return {}
        if isinstance(expr, cst.Call):
            name = self._dotted_ref(expr.func, scope)
            if name is not None:
                last = name.rsplit(".", 1)[-1]
                positional = [a.value for a in expr.args if a.keyword is None and a.star == ""]
                keywords = {a.keyword.value: a.value for a in expr.args if a.keyword is not None}
                if last == "skipif" and (name == "skipif" or ".mark." in f".{name}"):
                    # pytest: skipped when any condition is true; runs when all are false.
                    conditions = positional + ([keywords["condition"]] if "condition" in keywords else [])
                    if any(isinstance(c, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))
                           for c in conditions):
                        return {}  # a string condition is evaluated by pytest: unknown here
                    knowledge: Knowledge = {}
                    for condition in conditions:
                        for toggle, state in self._implies_in(condition, scope, False).items():
                            knowledge.setdefault(toggle, state)
                            if knowledge[toggle] is not state:
                                knowledge[toggle] = True  # contradictory: never runs
                    return knowledge
                if last in ("skipUnless", "skipIf") and (name == last or name.startswith("unittest.")):
                    condition = positional[0] if positional else keywords.get("condition")
                    if condition is None:
                        return {}
                    return self._implies_in(condition, scope, last == "skipUnless")
            expr = expr.func
        # An alias assigned in the file: `needs = testing.requires_feat`, `needs = skipUnless(...)`.
        if isinstance(expr, cst.Name) and self.bindings is not None:
            found = self.bindings.lookup(expr.value, scope)
            if found is not None:
                if len(found) == 1 and found[0][0] == ASSIGNED:
                    return self._decorator(found[0][1], found[0][2], depth + 1)
                if any(kind != IMPORTED for kind, _, _ in found):
                    return {}
        name = self._dotted_ref(expr, scope)
        if name is None:
            return {}
        toggle = self.matcher.decorators.get(name) or self.matcher.decorator_names.get(name.rsplit(".", 1)[-1])
        return {toggle: True} if toggle else {}

    def _implies_in(self, expr: cst.BaseExpression, scope, truth: bool) -> Knowledge:
        if self.bindings is not None and self.bindings.scope_of(expr) is None:
            self.bindings.where[id(expr)] = scope
        return self.implies(expr, truth)

    def _dotted_ref(self, expr: cst.BaseExpression, scope) -> str | None:
        alternatives = _Evaluator(self, {}, scope).ev(expr, scope, 0)
        if len(alternatives) == 1 and isinstance(alternatives[0], Ref):
            return alternatives[0].dotted
        return None


def _never(states: list[set], truth: bool) -> bool:
    return all(truth not in outcomes and UNKNOWN not in outcomes for outcomes in states)


class _Evaluator:
    """Evaluates an expression to its possible values (a tuple of alternatives) in one OFF state:
    `env` maps toggle variables (kind, spelling) to their value; unmapped ones are unknown and
    recorded in `seen`."""

    def __init__(self, owner: FileToggles, env: dict, scope) -> None:
        self.owner = owner
        self.matcher = owner.matcher
        self.bindings = owner.bindings
        self.env = env
        self.scope = scope
        self.seen: set[tuple[str, str]] = set()
        self.active: set[int] = set()

    def outcomes(self, expr: cst.BaseExpression) -> set:
        return {_truth(v) for v in self.values(self.ev(expr, self.scope, 0))}

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
            out.append(self.var("py", last) if last in self.matcher.spellings else UNKNOWN)
        if self.bindings is not None and "." in dotted:
            for binding in self.bindings.attribute_bindings(dotted, self._resolve_base):
                out.extend(self.binding(binding, 1))
        return tuple(out)

    def _resolve_base(self, base, scope) -> list[str]:
        values = _Evaluator(self.owner, {}, scope).ev(base, scope, 0)
        return [v.dotted for v in values if isinstance(v, Ref)]

    def values(self, alternatives: tuple) -> tuple:
        """Alternatives with names loaded (a Ref read as a value)."""
        if not any(isinstance(a, Ref) for a in alternatives):
            return alternatives
        out: list = []
        for a in alternatives:
            out.extend(self.load(a) if isinstance(a, Ref) else (a,))
        return _cap(out)

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
                return _cap([_not(_truth(v)) for v in operand])
            if isinstance(node.operator, cst.Minus):
                return _cap([-v if type(v) in (int, float) else (RAISES if v is RAISES else UNKNOWN) for v in operand])
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
            for t in {_truth(v) for v in self.values(self.ev(node.test, scope, depth))}:
                if t is RAISES:
                    out.append(RAISES)
                if t is True or t is UNKNOWN:
                    out.extend(self.ev(node.body, scope, depth))
                if t is False or t is UNKNOWN:
                    out.extend(self.ev(node.orelse, scope, depth))
            return _cap(out)
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
        defining = name in self.matcher.spellings and all(
            kind == ASSIGNED and where.kind == "module" for kind, _, where in found
        )
        for binding in found:
            values = self.binding(binding, depth)
            if defining:
                # The module that defines the toggle (`USE_FEAT = _read_flag()`): an opaque value
                # is the toggle's; a known one (`USE_FEAT = True`) is what it is.
                values = tuple(self.var("py", name) if v is UNKNOWN else v for v in self.values(values))
            out.extend(values)
        return _cap(out)

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
        return _cap(out)

    def boolean(self, node: cst.BooleanOperation, scope, depth: int) -> tuple:
        is_and = isinstance(node.operator, cst.And)
        out: list = []
        right = None
        for value in self.values(self.ev(node.left, scope, depth)):
            t = _truth(value)
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
        return _cap(out)

    def comparison(self, node: cst.Comparison, scope, depth: int) -> tuple:
        """`a < b < c`: each link in turn, stopping at the first false one (as Python does)."""
        current = self.values(self.ev(node.left, scope, depth))
        results: set = set()
        for target in node.comparisons:
            right = self.values(self.ev(target.comparator, scope, depth))
            step = {_compare(target.operator, a, b) for a in current for b in right}
            results |= step - {True}
            if True not in step and UNKNOWN not in step:
                return _cap(list(results))
            current = right
        results.add(True)
        return _cap(list(results))

    def call(self, node: cst.Call, scope, depth: int) -> tuple:
        func = node.func
        positional = [a.value for a in node.args if a.keyword is None and a.star == ""]
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        if any(a.star for a in node.args):
            return (UNKNOWN,)
        if isinstance(func, cst.Attribute) and func.attr.value in _STR_METHODS and not node.args:
            return _cap([_str_method(func.attr.value, v) for v in self.values(self.ev(func.value, scope, depth))])
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
            return _cap(out)
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
                    out.append(_convert(name, value))
            elif name.rsplit(".", 1)[-1] in self.matcher.spellings:
                out.append(self.var("pred", name.rsplit(".", 1)[-1]))
            else:
                out.append(UNKNOWN)
        return _cap(out)

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
        return _cap(out)


def _cap(values: list | tuple) -> tuple:
    if not values:
        return (UNKNOWN,)
    out: list = []
    for v in values:
        if not any(v is o or (type(v) is type(o) and isinstance(v, _CONCRETE) and v == o)
                   or (isinstance(v, Ref) and isinstance(o, Ref) and v.dotted == o.dotted) for o in out):
            out.append(v)
    if len(out) > _MAX_ALTERNATIVES:
        return (UNKNOWN,)
    return tuple(out)


def _truth(value):
    if value is UNKNOWN or value is RAISES:
        return value
    if value is TRUTHY or value is NOT_MAIN or value is FUNCTION or isinstance(value, ClassValue):
        return True
    if value is FALSY:
        return False
    if isinstance(value, Folded):
        return bool(value.lower)
    if isinstance(value, NonOff):
        return True if "" in value.words else UNKNOWN
    if isinstance(value, DictValue):
        return bool(value.items)
    if isinstance(value, tuple):
        return bool(value)
    if isinstance(value, _CONCRETE):
        return bool(value)
    return UNKNOWN


def _not(t):
    return (not t) if isinstance(t, bool) else t


def _is_str(value) -> bool:
    return isinstance(value, (str, Folded, NonOff)) or value is NOT_MAIN


def _equal(a, b):
    if a is RAISES or b is RAISES:
        return RAISES
    if isinstance(a, _CONCRETE) and not isinstance(a, tuple) and isinstance(b, _CONCRETE) and not isinstance(b, tuple):
        return a == b
    if isinstance(a, tuple) and isinstance(b, tuple):
        if len(a) != len(b):
            return False
        results = {_equal(x, y) for x, y in zip(a, b)}
        return False if False in results else True if results == {True} else UNKNOWN
    if not isinstance(a, (Folded, NonOff)) and a is not NOT_MAIN:
        a, b = b, a
    if isinstance(a, Folded):
        if isinstance(b, str):
            if b.lower() != a.lower:
                return False
            return True if a.lower.upper() == a.lower else UNKNOWN
        if b is NOT_MAIN:
            return UNKNOWN
        if isinstance(b, _CONCRETE):
            return False
        if isinstance(b, Folded):
            return False if b.lower != a.lower else UNKNOWN
        return UNKNOWN
    if isinstance(a, NonOff):
        if isinstance(b, str):
            return False if b.lower() in a.words else UNKNOWN
        if isinstance(b, Folded):
            return False if b.lower in a.words else UNKNOWN
        if isinstance(b, _CONCRETE):
            return False
        return UNKNOWN
    if a is NOT_MAIN:
        if b == "__main__":
            return False
        if isinstance(b, _CONCRETE) and not isinstance(b, str):
            return False
        return UNKNOWN
    if a is TRUTHY or b is TRUTHY:
        other = b if a is TRUTHY else a
        if other is None or other is False or other == 0 or other == "":
            return False if isinstance(other, _CONCRETE) else UNKNOWN
    return UNKNOWN


def _singleton(value) -> bool:
    return value is None or value is True or value is False


def _identical(a, b):
    if a is RAISES or b is RAISES:
        return RAISES
    if not _singleton(b):
        a, b = b, a
    if not _singleton(b):
        return UNKNOWN
    if isinstance(a, _CONCRETE):
        return a is b
    if _is_str(a) or a is FUNCTION or isinstance(a, (ClassValue, DictValue)):
        return False
    if a is TRUTHY:
        return False if b is None or b is False else UNKNOWN
    if a is FALSY:
        return False if b is True else UNKNOWN
    return UNKNOWN


def _contains(item, container):
    if item is RAISES or container is RAISES:
        return RAISES
    if isinstance(container, tuple):
        results = {_equal(item, element) if not _singleton(element) else _either(item, element) for element in container}
        if True in results:
            return True
        if results <= {False}:
            return False
        return RAISES if results == {RAISES} else UNKNOWN
    if isinstance(container, DictValue):
        if isinstance(item, _CONCRETE):
            return item in container.items
        return UNKNOWN
    if isinstance(container, str) and isinstance(item, str):
        return item in container
    return UNKNOWN


def _either(item, element):
    """`item in (..., element, ...)` for a singleton element: identity or equality."""
    if isinstance(item, _CONCRETE) and not isinstance(item, tuple):
        return item is element or item == element
    same = _identical(item, element)
    if same is True:
        return True
    equal = _equal(item, element)
    return equal if same is False else (True if equal is True else UNKNOWN)


def _compare(op, a, b):
    if isinstance(op, cst.Equal):
        return _equal(a, b)
    if isinstance(op, cst.NotEqual):
        return _not(_equal(a, b))
    if isinstance(op, cst.Is):
        return _identical(a, b)
    if isinstance(op, cst.IsNot):
        return _not(_identical(a, b))
    if isinstance(op, cst.In):
        return _contains(a, b)
    if isinstance(op, cst.NotIn):
        return _not(_contains(a, b))
    if a is RAISES or b is RAISES:
        return RAISES
    if isinstance(a, _CONCRETE) and isinstance(b, _CONCRETE):
        try:
            if isinstance(op, cst.LessThan):
                return a < b
            if isinstance(op, cst.LessThanEqual):
                return a <= b
            if isinstance(op, cst.GreaterThan):
                return a > b
            if isinstance(op, cst.GreaterThanEqual):
                return a >= b
        except TypeError:
            return RAISES
    return UNKNOWN


def _str_method(method: str, value):
    if value is RAISES:
        return RAISES
    if isinstance(value, str):
        return getattr(value, method)()
    if isinstance(value, Folded):
        if method in ("lower", "casefold"):
            return value.lower
        if method == "upper":
            return value.lower.upper()
        return Folded(getattr(value.lower, method)())
    if isinstance(value, NonOff) and method in ("lower", "casefold"):
        return value
    if _is_str(value):
        return UNKNOWN
    if isinstance(value, _CONCRETE) or isinstance(value, DictValue) or value is FUNCTION:
        return RAISES  # None.lower(): AttributeError
    return UNKNOWN


def _convert(name: str, value):
    if value is RAISES:
        return RAISES
    if name == "bool":
        t = _truth(value)
        return t if isinstance(t, bool) else (RAISES if t is RAISES else UNKNOWN)
    if name == "str":
        if isinstance(value, (Folded, NonOff)):
            return value
        if isinstance(value, _CONCRETE) and not isinstance(value, bytes):
            return str(value)
        if value is TRUTHY or value is FALSY or value is UNKNOWN:
            return UNKNOWN
        return TRUTHY  # a function's or class's repr
    if isinstance(value, (bool, int)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return RAISES
    if isinstance(value, Folded):
        return int(value.lower) if value.lower.strip().lstrip("+-").isdigit() else RAISES
    if value is None:
        return RAISES
    return UNKNOWN


def merge(left: Knowledge, right: Knowledge) -> Knowledge:
    """Both hold (a contradiction means the code cannot run: it needs the toggle on)."""
    merged = dict(left)
    for toggle, state in right.items():
        merged[toggle] = True if merged.get(toggle, state) != state else state
    return merged


def intersect(left: Knowledge, right: Knowledge) -> Knowledge:
    """One of them holds."""
    return {toggle: state for toggle, state in left.items() if right.get(toggle) == state}


def frozen(knowledge: Knowledge) -> frozenset[tuple[str, bool]]:
    return frozenset(knowledge.items())


__all__ = ["DEFAULT_OFF_VALUES", "FileToggles", "Knowledge", "ToggleMatcher", "frozen", "intersect", "merge"]
