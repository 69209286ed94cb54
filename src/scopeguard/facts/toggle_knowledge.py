"""What a condition or decorator being true or false guarantees about the toggles (Knowledge).

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

A condition is evaluated by a small abstract interpreter (toggle_eval.Evaluator) once per OFF
state of each toggle it reads (every combination of its spellings' OFF values), with everything
else unknown: `typing.TYPE_CHECKING` is False at run time, `__name__` is not "__main__" on import.
A branch is guarded by a toggle (knowledge (toggle, True)) only if it runs in no OFF state: an
unknown result in any state means not guarded. (toggle, False) says it runs in every OFF state
(for messages).

Names are the toggle only where they are bound to it (bindings.FileBindings): a local, parameter,
loop variable, rebinding or a module's own `TYPE_CHECKING = True` is evaluated as what it holds;
import aliases, `getattr(module, "NAME")`, assigned aliases and walrus targets are followed.
"""

from __future__ import annotations

import itertools

import libcst as cst

from ..base.model import MAIN, TYPE_CHECKING
from .bindings import ASSIGNED, IMPORTED, FileBindings
from .toggle_eval import Evaluator
from .toggle_values import ABSENT, NOT_MAIN, RAISES, TRUTHY, UNKNOWN, Folded, NonOff, Ref

Knowledge = dict  # toggle name -> required state (True = on)

_MAX_STATES = 4096


class FileToggles:
    """What the tests, decorators and calls of one file say about the toggles (`matcher`: the
    toggle_matcher.ToggleMatcher that made it)."""

    def __init__(self, matcher, bindings: FileBindings | None, called: frozenset[str] = frozenset()) -> None:
        self.matcher = matcher
        self.bindings = bindings
        # spellings that are functions here: configured with `()`, or called in this file
        self.functions = frozenset(matcher.predicates) | called
        self._cache: dict[int, tuple] = {}
        self.nesting = 0  # evaluations in progress, over every evaluator of this file (see Evaluator.ev)

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
        evaluator = Evaluator(self, {}, None)
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
        first = Evaluator(self, {}, scope)
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
                import_states.append(Evaluator(self, {**fixed, **env}, scope).outcomes(expr))
                if script_states is not None:
                    for v in main_vars:
                        env[v] = "__main__"
                    script_states.append(Evaluator(self, {**fixed, **env}, scope).outcomes(expr))
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
        alternatives = Evaluator(self, {}, scope).ev(expr, scope, 0)
        if len(alternatives) == 1 and isinstance(alternatives[0], Ref):
            return alternatives[0].dotted
        return None


def _never(states: list[set], truth: bool) -> bool:
    return all(truth not in outcomes and UNKNOWN not in outcomes for outcomes in states)

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


__all__ = ["FileToggles", "Knowledge", "frozen", "intersect", "merge"]
