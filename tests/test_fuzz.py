"""Property tests for the scanner: generated programs against a small reference model, and garbage in.

The reference model knows nothing of libcst or of scan.py's rules. It builds a program from a small
grammar (import forms with relative levels and aliases, nested in if/elif/else, try/except/finally,
def/async def/class/lambda, with, while/for; conditions over toggle names with and/or/not;
TYPE_CHECKING; `__name__ == "__main__"`; early exits; toggle and skipif decorators) and records,
for every imported name it writes, what must hold for that line to run:

- the *conditions* on the path, each a (formula, required truth) pair. What each guarantees about
  each toggle is found by brute force with Python itself (`guard_knowledge`): the test is run with
  every combination of concrete values — the toggle's OFF values (README "Guards") for its own
  spellings, any value for everything else, TYPE_CHECKING False — and the toggle is known on when
  no combination makes the test hold (off when every one does). Each variable occurs at most once
  on a path, so this exact answer is also what a sound, syntax-directed scanner can and must find;
- whether it sits in a function (lazy) and whether a failed import is caught (try/except of an
  ImportError catcher that does not re-raise, contextlib.suppress), reset by every def;
- the absolute target, by `importlib.util.resolve_name` (the import system's own resolution).

Runs are bounded and deterministic: `derandomize=True`, no example database.
"""

from __future__ import annotations

import importlib.util
import itertools
from dataclasses import dataclass, field, replace
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scopeguard.base.model import MAIN, TYPE_CHECKING, Execution, FileFacts, SiteKind, Toggle
from scopeguard.facts import ToggleMatcher, scan_source

BOUNDED = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

MATCHER = ToggleMatcher(
    [
        Toggle("a", on_when_true=("USE_A",), decorators=("testing.requires_a",)),
        Toggle("b", on_when_false=("NO_B",)),
    ]
)

# variable -> the toggle it belongs to and whether a true value means on; None: no toggle at all.
VARIABLES = {
    "USE_A": ("a", True),
    "NO_B": ("b", False),
    "TC": (TYPE_CHECKING, True),
    "MAIN": (MAIN, True),
    "FLAG": None,
    "OTHER": None,
}

# How each variable may be spelled in a test, and how the spelling reads it: a Python name ("py"),
# an environment variable ("env"), a build-info key ("info"), TYPE_CHECKING ("tc"), `__name__`
# ("main"), `sys.version_info` ("sys").
SPELLINGS = {
    "USE_A": [("USE_A", "py"), ("cfg.USE_A", "py"), ('os.environ.get("USE_A")', "env"), ('os.environ["USE_A"]', "env"),
              ("bool(USE_A)", "py"), ('USE_A != "0"', "py"), ('libinfo().get("USE_A", "OFF") == "ON"', "info"),
              ('libinfo().get("USE_A", "OFF") == "OFF"', "info"), ('USE_A == "0"', "py"), ("USE_A is True", "py"),
              ('os.environ.get("USE_A", "0").lower() in ("1", "on")', "env"), ('"USE_A" in os.environ', "env")],
    "NO_B": [("NO_B", "py"), ("settings.NO_B", "py"), ('os.getenv("NO_B")', "env"), ('str(NO_B).lower() == "true"', "py"),
             ('NO_B == "OFF"', "py"), ("NO_B is not None", "py")],
    "TC": [("TYPE_CHECKING", "tc"), ("typing.TYPE_CHECKING", "tc")],
    "MAIN": [('__name__ == "__main__"', "main"), ('__name__ != "__main__"', "main")],
    "FLAG": [("FLAG", "py"), ("cfg.FLAG", "py"), ('os.environ.get("FLAG")', "env")],
    "OTHER": [("sys.version_info >= (3, 9)", "sys"), ("OTHER", "py")],
}

# The values a spelling reads while its toggle is off (README "Guards": the OFF states; an
# on_when_false spelling is off when true), and the values anything may hold otherwise. These are
# concrete Python values: the reference model runs each test with Python itself.
_PY_OFF = [False, None, 0, ""]
_PY_TRUE = [True, 1, "1", "0", "OFF", "ON", "yes", "true"]  # every literal a spelling compares with
_PY_ANY = [*_PY_OFF, *_PY_TRUE]
_ENV_OFF = [None, "", "0", "off", "OFF", "False", "no"]  # None: unset
_ENV_ANY = [*_ENV_OFF, "1", "ON", "on", "yes"]
OFF = {
    ("py", True): _PY_OFF,
    ("py", False): _PY_TRUE,
    ("env", True): _ENV_OFF,
    ("env", False): ["1", "ON", "on", "yes", "x"],
    ("info", True): [None, "OFF", "0", "", "off", "false"],
}
ANY = {"py": _PY_ANY, "env": _ENV_ANY, "info": [None, "OFF", "0", "", "ON", "1"], "sys": [(3, 8), (3, 12)]}


# -- formulas -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    op: str  # "var", "not", "and", "or"
    var: str = ""
    spelling: str = ""
    kind: str = ""  # for "var": how the spelling reads the variable (see SPELLINGS)
    children: tuple[Formula, ...] = ()

    def leaves(self) -> list[Formula]:
        if self.op == "var":
            return [self]
        return [leaf for c in self.children for leaf in c.leaves()]

    def variables(self) -> set[str]:
        return {leaf.var for leaf in self.leaves()}

    def code(self) -> str:
        if self.op == "var":
            return self.spelling
        if self.op == "not":
            return f"not ({self.children[0].code()})"
        return f"({self.children[0].code()}) {self.op} ({self.children[1].code()})"


@st.composite
def formulas(draw, available: frozenset[str], depth: int = 2) -> Formula:
    """A formula over `available` in which each variable occurs at most once."""
    names = sorted(available)
    if depth == 0 or len(names) < 2 or draw(st.integers(0, 2)) == 0:
        var = draw(st.sampled_from(names))
        spelling, kind = draw(st.sampled_from(SPELLINGS[var]))
        leaf = Formula("var", var=var, spelling=spelling, kind=kind)
        return Formula("not", children=(leaf,)) if draw(st.booleans()) else leaf
    op = draw(st.sampled_from(["and", "or", "not"]))
    if op == "not":
        return Formula("not", children=(draw(formulas(available, depth - 1)),))
    left = draw(formulas(frozenset(names[: len(names) // 2 + draw(st.integers(0, 1))]) or available, depth - 1))
    rest = available - left.variables()
    if not rest:
        return left
    right = draw(formulas(frozenset(rest), depth - 1))
    return Formula(op, children=(left, right))


def _namespace(values: dict[str, object]) -> dict:
    """What a test sees when each variable holds `values[var]` (each is read by one spelling)."""
    env = {k: values[k] for k in ("USE_A", "NO_B", "FLAG") if isinstance(values.get(k), str)}
    info = {"USE_A": values["USE_A"]} if isinstance(values.get("USE_A"), str) else {}
    return {
        "USE_A": values.get("USE_A"), "NO_B": values.get("NO_B"), "FLAG": values.get("FLAG"),
        "OTHER": values.get("OTHER"), "TYPE_CHECKING": values.get("TC", False), "__name__": values.get("MAIN", "top"),
        "cfg": SimpleNamespace(USE_A=values.get("USE_A"), FLAG=values.get("FLAG")),
        "settings": SimpleNamespace(NO_B=values.get("NO_B")),
        "typing": SimpleNamespace(TYPE_CHECKING=values.get("TC", False)),
        "os": SimpleNamespace(environ=env, getenv=env.get),
        "libinfo": lambda: dict(info),
        "sys": SimpleNamespace(version_info=values.get("OTHER") if isinstance(values.get("OTHER"), tuple) else (3, 12)),
    }


def _outcomes(formula: Formula, domains: dict[str, list]) -> set:
    """Every result of the test over the product of the variables' domains ("raise": it raised)."""
    code = compile(formula.code(), "<test>", "eval")
    names = sorted(domains)
    found = set()
    for values in itertools.product(*(domains[n] for n in names)):
        try:
            found.add(bool(eval(code, _namespace(dict(zip(names, values, strict=True))))))  # noqa: S307
        except Exception:  # noqa: BLE001 - a test that raises runs neither branch
            found.add("raise")
    return found


def guard_knowledge(formula: Formula, truth: bool) -> dict[str, bool]:
    """What one test being `truth` guarantees, by brute force with Python itself: (toggle, True)
    when no OFF value of the toggle's spellings lets it be `truth` (whatever the rest holds;
    TYPE_CHECKING is False at run time, `__name__` is not "__main__" on import — or is, when the test
    only holds in a script), (toggle, False) when every OFF value makes it `truth`."""
    leaves = {leaf.var: leaf.kind for leaf in formula.leaves()}

    def domains(toggle: str | None, script: bool) -> dict[str, list]:
        out = {}
        for var, kind in leaves.items():
            owner = VARIABLES[var]
            if kind == "tc":
                out[var] = [False] if toggle is not None else [True, False]
            elif kind == "main":
                out[var] = ["top", "__main__"] if toggle is None else ["__main__"] if script else ["top"]
            elif owner is not None and owner[0] == toggle:
                out[var] = OFF[(kind, owner[1])]
            else:
                out[var] = ANY[kind]
        return out

    present = {VARIABLES[v][0] for v in leaves if VARIABLES[v] is not None}
    known: dict[str, bool] = {}
    script = MAIN in present and truth not in _outcomes(formula, domains(MAIN, False))
    for toggle in sorted(present):
        found = _outcomes(formula, domains(toggle, script and toggle != MAIN))
        if truth not in found:
            known[toggle] = True
        elif found == {truth}:
            known[toggle] = False
    if not script and truth not in _outcomes(formula, domains(None, False)):
        known.update({"a": True, "b": True})  # never runs at all
    return known


def combine(knowledge: list[dict[str, bool]]) -> dict[str, bool]:
    """A site's toggles: on if any enclosing guard needs it on, else off if one runs it while off."""
    out: dict[str, bool] = {}
    for known in knowledge:
        for toggle, state in known.items():
            out[toggle] = out.get(toggle, False) or state
    return out


# -- programs -------------------------------------------------------------------------------------


@dataclass
class Context:
    conditions: tuple[tuple[Formula, bool], ...] = ()
    decorator_toggles: tuple[tuple[str, bool], ...] = ()  # from @requires_a on an enclosing def
    in_function: bool = False
    optional: bool = False
    used: frozenset[str] = frozenset()  # variables already constrained on this path
    nested_scope: bool = False  # inside a def or class: `import *` is a SyntaxError there

    def with_condition(self, formula: Formula, truth: bool) -> Context:
        return replace(self, conditions=self.conditions + ((formula, truth),), used=self.used | formula.variables())


@dataclass(frozen=True)
class Expected:
    line: int
    target: str
    name: str | None
    kind: SiteKind
    execution: Execution
    optional: bool
    knowledge: frozenset[tuple[str, bool]]


@dataclass
class Program:
    module: str
    is_package: bool
    lines: list[str] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)
    unresolved_lines: list[int] = field(default_factory=list)
    counter: int = 0

    def emit(self, indent: int, text: str) -> int:
        self.lines.append("    " * indent + text)
        return len(self.lines)

    def fresh(self) -> str:
        self.counter += 1
        return f"m{self.counter}"

    def expect(self, ctx: Context, line: int, target: str, name: str | None, kind: SiteKind, lazy=False) -> None:
        known = combine([guard_knowledge(f, truth) for f, truth in ctx.conditions] + [dict(ctx.decorator_toggles)])
        if known.get(TYPE_CHECKING) is True:
            execution = Execution.NEVER
        elif ctx.in_function or lazy or known.get(MAIN) is True:
            execution = Execution.CALL
        else:
            execution = Execution.IMPORT
        # A lambda's body runs when it is called: a try around its definition does not protect it.
        optional = ctx.optional and not lazy
        self.expected.append(Expected(line, target, name, kind, execution, optional, _informative(known)))

    @property
    def source(self) -> str:
        return "\n".join(self.lines) + "\n"


HEADER = ["import importlib", "import contextlib"]
ALL_VARIABLES = frozenset(VARIABLES)


@st.composite
def import_statement(draw, program: Program, ctx: Context, indent: int) -> None:
    forms = ["import", "import-as", "from", "from-two", "relative", "dynamic", "lambda", "dunder", "semicolon"]
    form = draw(st.sampled_from(forms if ctx.nested_scope else [*forms, "star"]))
    one, two = program.fresh(), program.fresh()
    if form == "import":
        line = program.emit(indent, f"import {one}")
        program.expect(ctx, line, one, None, SiteKind.IMPORT)
    elif form == "import-as":
        line = program.emit(indent, f"import pkg.{one} as alias_{one}, {two}")
        program.expect(ctx, line, f"pkg.{one}", None, SiteKind.IMPORT)
        program.expect(ctx, line, two, None, SiteKind.IMPORT)
    elif form == "from":
        line = program.emit(indent, f"from lib.{one} import thing as other")
        program.expect(ctx, line, f"lib.{one}", "thing", SiteKind.FROM)
    elif form == "from-two":
        line = program.emit(indent, f"from lib import {one} as a_{one}, {two}")
        program.expect(ctx, line, "lib", one, SiteKind.FROM)
        program.expect(ctx, line, "lib", two, SiteKind.FROM)
    elif form in ("relative", "star"):
        level = draw(st.integers(1, 4))
        written = draw(st.sampled_from(["", one, f"sub.{one}"])) if form == "relative" else one
        names = "*" if form == "star" else draw(st.sampled_from([two, f"{two} as a_{two}", f"({two},)"]))
        line = program.emit(indent, f"from {'.' * level}{written} import {names}")
        package = program.module if program.is_package else program.module.rpartition(".")[0]
        try:
            target = importlib.util.resolve_name("." * level + written, package)
        except ImportError:
            program.unresolved_lines.append(line)
        else:
            program.expect(ctx, line, target, "*" if form == "star" else two, SiteKind.FROM)
    elif form == "dynamic":
        line = program.emit(indent, f'mod = importlib.import_module("dyn.{one}")')
        program.expect(ctx, line, f"dyn.{one}", None, SiteKind.DYNAMIC)
    elif form == "lambda":
        line = program.emit(indent, f'load = lambda: importlib.import_module("dyn.{one}")')
        program.expect(ctx, line, f"dyn.{one}", None, SiteKind.DYNAMIC, lazy=True)
    elif form == "dunder":
        line = program.emit(indent, f'__import__("dyn.{one}")')
        program.expect(ctx, line, f"dyn.{one}", None, SiteKind.DYNAMIC)
    else:
        line = program.emit(indent, f"x = 1; import {one}")
        program.expect(ctx, line, one, None, SiteKind.IMPORT)


CATCHING = ["ImportError", "ModuleNotFoundError", "Exception", "BaseException", "", "(KeyError, ImportError)"]
NOT_CATCHING = ["KeyError", "(ValueError, OSError)"]


@st.composite
def block(draw, program: Program, ctx: Context, indent: int, depth: int) -> Context:
    """1-3 statements at `indent`; each may narrow the context of the ones after it (early exit).
    Returns the context at the block's end."""
    for _ in range(draw(st.integers(1, 3))):
        ctx = draw(statement(program, ctx, indent, depth))
    return ctx


@st.composite
def statement(draw, program: Program, ctx: Context, indent: int, depth: int) -> Context:
    """Writes one statement; returns the context for the rest of the block."""
    free = ALL_VARIABLES - ctx.used
    kinds = ["import", "import"]
    if depth > 0:
        kinds += ["def", "class", "try", "with", "for"]
        if free:
            kinds += ["if", "if", "while", "exit"]
    kind = draw(st.sampled_from(kinds))
    if kind == "import":
        draw(import_statement(program, ctx, indent))
    elif kind == "if":
        test = draw(formulas(free))
        body_ctx = ctx.with_condition(test, True)
        if draw(st.booleans()):  # a one-line suite: `if X: import m`
            one = program.fresh()
            line = program.emit(indent, f"if {test.code()}: import {one}")
            program.expect(body_ctx, line, one, None, SiteKind.IMPORT)
        else:
            program.emit(indent, f"if {test.code()}:")
            draw(block(program, body_ctx, indent + 1, depth - 1))
        otherwise = ctx.with_condition(test, False)
        rest = free - test.variables()
        if rest and draw(st.booleans()):
            second = draw(formulas(rest))
            program.emit(indent, f"elif {second.code()}:")
            draw(block(program, otherwise.with_condition(second, True), indent + 1, depth - 1))
            otherwise = otherwise.with_condition(second, False)
        if draw(st.booleans()):
            program.emit(indent, "else:")
            draw(block(program, otherwise, indent + 1, depth - 1))
    elif kind == "exit":
        # `if X: raise ...` — the rest of the block runs only when X is false.
        test = draw(formulas(free))
        program.emit(indent, f"if {test.code()}:")
        program.emit(indent + 1, draw(st.sampled_from(["raise SystemExit", 'raise RuntimeError("off")', "sys.exit(1)"])))
        return ctx.with_condition(test, False)
    elif kind == "while":
        test = draw(formulas(free))
        program.emit(indent, f"while {test.code()}:")
        draw(block(program, ctx.with_condition(test, True), indent + 1, depth - 1))
        # no `break` is ever written: the loop ends only when its test is false
        return ctx.with_condition(test, False)
    elif kind == "def":
        inner = replace(ctx, in_function=True, optional=False, nested_scope=True)
        decorator = draw(st.sampled_from(["", "@functools.wraps(g)", "@requires_a", "@testing.requires_a", "skipif"]))
        if decorator in ("@requires_a", "@testing.requires_a") and "USE_A" not in ctx.used:
            program.emit(indent, decorator)
            inner = replace(inner, decorator_toggles=ctx.decorator_toggles + (("a", True),), used=ctx.used | {"USE_A"})
        elif decorator == "skipif" and free:
            test = draw(formulas(free))
            program.emit(indent, f'@pytest.mark.skipif({test.code()}, reason="x")')
            inner = inner.with_condition(test, False)
        elif decorator == "@functools.wraps(g)":
            program.emit(indent, decorator)
        keyword = draw(st.sampled_from(["def", "async def"]))
        program.emit(indent, f"{keyword} f_{program.fresh()}(x=None):")
        draw(block(program, inner, indent + 1, depth - 1))
    elif kind == "class":
        program.emit(indent, f"class C_{program.fresh()}(Base):")
        draw(block(program, replace(ctx, nested_scope=True), indent + 1, depth - 1))
    elif kind == "try":
        program.emit(indent, "try:")
        handlers = draw(st.lists(st.sampled_from(CATCHING + NOT_CATCHING), min_size=1, max_size=2, unique=True))
        if "" in handlers:  # a bare except must come last
            handlers = [h for h in handlers if h] + [""]
        reraise = [draw(st.booleans()) for _ in handlers]
        first_catching = next((i for i, h in enumerate(handlers) if h in CATCHING), None)
        protected = first_catching is not None and not reraise[first_catching]
        body_ctx = replace(ctx, optional=ctx.optional or protected)
        # the `else` runs after the body completed: what the body's early exits left holds there
        body_end = replace(draw(block(program, body_ctx, indent + 1, depth - 1)), optional=ctx.optional)
        for handler, again in zip(handlers, reraise, strict=True):
            program.emit(indent, f"except {handler}:" if handler else "except:")
            if draw(st.booleans()):
                draw(import_statement(program, ctx, indent + 1))
            program.emit(indent + 1, "raise" if again else "pass")
        if draw(st.booleans()):
            program.emit(indent, "else:")
            body_end = draw(block(program, body_end, indent + 1, depth - 1))
        if draw(st.booleans()):
            program.emit(indent, "finally:")
            draw(block(program, ctx, indent + 1, depth - 1))
        # every handler re-raises: the rest runs only after the body (and else) completed
        if all(reraise):
            return body_end
    elif kind == "with":
        suppress = draw(st.booleans())
        program.emit(indent, "with contextlib.suppress(ImportError):" if suppress else 'with open("f") as handle:')
        inner = replace(ctx, optional=ctx.optional or suppress)
        end = draw(block(program, inner, indent + 1, depth - 1))
        if not suppress:  # open() swallows nothing: the body's early exits hold after it
            return replace(end, optional=ctx.optional)
    else:  # for
        program.emit(indent, "for item in items:")
        draw(block(program, ctx, indent + 1, depth - 1))
    return ctx


@st.composite
def programs(draw) -> Program:
    module, is_package = draw(st.sampled_from([("top", False), ("top", True), ("pkg.mod", False), ("pkg.sub", True),
                                                ("pkg.sub.deep", False), ("a.b.c.d", True)]))
    program = Program(module, is_package)
    for text in HEADER:
        line = program.emit(0, text)
        program.expect(Context(), line, text.split()[1], None, SiteKind.IMPORT)
    draw(block(program, Context(), 0, draw(st.integers(1, 3))))
    return program


def _informative(knowledge: dict[str, bool]) -> frozenset:
    """The pairs that say something: TYPE_CHECKING is False at run time and `__name__` is not
    "__main__" on import anyway, so (TYPE_CHECKING, False) and (MAIN, False) may or may not be
    recorded (the scanner splits `and`/`or` tests, the reference evaluates them whole)."""
    return frozenset(p for p in knowledge.items() if p not in {(TYPE_CHECKING, False), (MAIN, False)})


def observed(facts: FileFacts) -> list[Expected]:
    out = []
    for site in facts.sites:
        knowledge = combine([dict(guard.knowledge) for guard in site.guards])
        for toggle, state in knowledge.items():
            assert site.state_required(toggle) is state
        out.append(Expected(site.line, site.target, site.name, site.kind, site.execution, site.is_optional,
                            _informative(knowledge)))
    return out


def _key(e: Expected):
    return (e.line, e.target, e.name or "")


@settings(BOUNDED, max_examples=200)
@given(programs())
def test_scanner_agrees_with_the_reference_model(program):
    source = program.source
    compile(source, "<generated>", "exec")  # the generator writes valid Python, or the test is wrong
    facts = scan_source(source.encode(), path="gen.py", module=program.module, is_package=program.is_package,
                        matcher=MATCHER)
    assert facts.error is None, source
    assert sorted(observed(facts), key=_key) == sorted(program.expected, key=_key), source
    assert sorted(u.line for u in facts.unresolved) == sorted(program.unresolved_lines), source


def test_the_reference_model_itself():
    # A few hand-checked answers, so that a broken model cannot agree with a broken scanner.
    def leaf(var, spelling, kind="py"):
        return Formula("var", var=var, spelling=spelling, kind=kind)

    use_a, no_b, flag = leaf("USE_A", "USE_A"), leaf("NO_B", "NO_B"), leaf("FLAG", "FLAG")
    tc = leaf("TC", "TYPE_CHECKING", "tc")
    assert guard_knowledge(use_a, True) == {"a": True}
    assert guard_knowledge(use_a, False) == {"a": False}
    assert guard_knowledge(no_b, True) == {"b": False}
    assert guard_knowledge(Formula("or", children=(use_a, flag)), True) == {}
    assert guard_knowledge(Formula("or", children=(use_a, flag)), False) == {}
    assert guard_knowledge(Formula("and", children=(use_a, Formula("not", children=(no_b,)))), True) == {
        "a": True, "b": True}
    assert guard_knowledge(tc, True) == {TYPE_CHECKING: True}
    assert guard_knowledge(Formula("or", children=(tc, use_a)), True) == {"a": True}  # False at run time
    # OFF states: "0" is a true string; a missing build-info key takes the default.
    assert guard_knowledge(leaf("USE_A", 'os.environ.get("USE_A")', "env"), True) == {}
    assert guard_knowledge(leaf("USE_A", 'libinfo().get("USE_A", "OFF") == "ON"', "info"), True) == {"a": True}
    assert guard_knowledge(leaf("USE_A", 'libinfo().get("USE_A", "OFF") == "OFF"', "info"), True) == {}
    assert guard_knowledge(leaf("USE_A", 'USE_A != "0"'), True) == {"a": False}
    assert combine([{"a": False}, {"a": True}]) == {"a": True}
    assert importlib.util.resolve_name("..x", "pkg.sub") == "pkg.x"


# -- garbage in -----------------------------------------------------------------------------------


def _scan(data: bytes) -> FileFacts:
    facts = scan_source(data, path="junk.py", module="pkg.junk", is_package=False, matcher=MATCHER)
    assert isinstance(facts, FileFacts) and facts.path == "junk.py" and facts.module == "pkg.junk"
    if facts.error is not None:
        assert facts.error.reason.strip() and facts.error.line >= 0 and facts.error.column >= 0
        assert facts.sites == ()
    return facts


@settings(BOUNDED, max_examples=300)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data):
    _scan(data)


@settings(BOUNDED, max_examples=200)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_random_text_never_raises(text):
    _scan(text.encode("utf-8", "surrogatepass"))


PYTHONISH = st.sampled_from(
    ["import ", "from ", " import ", ".", "..", "(", ")", ":", "\n", "    ", "\t", "if ", "else:", "try:", "except",
     "def f():", "lambda", "TYPE_CHECKING", "USE_A", "not ", " and ", " or ", "importlib.import_module(", '"x"',
     "f'{", "}'", "#", "\\\n", "\r", "\x0c", "async ", "await ", "class C:", "@requires_a", "*", ",", "as ", "x",
     "__import__(", "\ufeff", "# -*- coding: latin-1 -*-\n", "\xff", "\x00", "match x:", "case 1:", "yield"]
)


@settings(BOUNDED, max_examples=300)
@given(st.lists(PYTHONISH, max_size=40))
def test_python_shaped_garbage_never_raises(parts):
    _scan("".join(parts).encode("utf-8", "surrogateescape"))


@settings(BOUNDED, max_examples=80)
@given(programs(), st.data())
def test_damaged_programs_never_raise(program, data):
    source = bytearray(program.source.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(source)))
        action = data.draw(st.sampled_from(["delete", "insert", "flip"]))
        if action == "delete" and position < len(source):
            del source[position]
        elif action == "insert":
            source[position:position] = data.draw(st.binary(min_size=1, max_size=3))
        elif position < len(source):
            source[position] ^= data.draw(st.integers(1, 255))
    _scan(bytes(source))


@pytest.mark.parametrize(
    "source",
    [
        b"import importlib\nx = " + b" + ".join([b"a"] * 1200) + b"\n",  # a generated table's sum
        b"if " + b"not " * 1000 + b"USE_A:\n    import m\n",  # deeper than any visitor can go
        b"import importlib\nx = (" + b"'a'\n " * 3000 + b")\n",  # pydoc_data/topics.py's shape
        b"(" * 300 + b")" * 300 + b"\n",
        b"if x:\n" + b"".join(b" " * i + b"if x:\n" for i in range(1, 120)) + b" " * 120 + b"import m\n",
        b"\x00import os\n",
        b"\xef\xbb\xbf\xef\xbb\xbfimport os\n",
    ],
    ids=["long-sum", "deep-not", "long-string-concatenation", "deep-parens", "deep-blocks", "nul", "double-bom"],
)
def test_pathological_sources_never_raise(source):
    _scan(source)


def test_long_implicit_string_concatenation_is_analysed_not_dropped():
    # Regression (stdlib corpus run): pydoc_data/topics.py, thousands of implicitly concatenated
    # strings in a file that mentions __import__, made the dynamic-import search recurse too deep
    # and the file was lost as an internal error.
    source = b"import importlib\nimport json\ntopics = {'a': " + b"'__import__ x'\n  " * 1500 + b"}\n"
    facts = _scan(source)
    assert facts.error is None
    assert [(s.target, s.line) for s in facts.sites] == [("importlib", 1), ("json", 2)]


def test_f_strings_in_a_long_concatenation_are_still_searched():
    source = b"import importlib\nx = ('a' 'b' f'{importlib.import_module(\"dyn.q\")}' 'c')\n"
    facts = _scan(source)
    assert [(s.target, s.kind) for s in facts.sites] == [("importlib", SiteKind.IMPORT), ("dyn.q", SiteKind.DYNAMIC)]


def test_a_long_sum_in_a_file_with_dynamic_imports_is_analysed():
    # Regression: `a + b + ...` nests one level per operand; the dynamic-import search recursed
    # through it and lost the file (RecursionError) at about 300 operands.
    terms = b" + ".join([b"a"] * 1200)
    facts = _scan(b"import importlib\nx = (" + terms + b") + importlib.import_module('dyn.q')\n")
    assert facts.error is None
    assert [(s.target, s.line, s.kind) for s in facts.sites] == [
        ("importlib", 1, SiteKind.IMPORT), ("dyn.q", 2, SiteKind.DYNAMIC)]


def test_a_test_too_deep_to_evaluate_guards_nothing():
    # The toggle evaluation stops at a fixed depth and calls the value unknown: the import is
    # analysed and unguarded (it used to cost the whole file, as a RecursionError).
    facts = _scan(b"if " + b"not " * 1000 + b"USE_A:\n    import m\n")
    assert facts.error is None
    assert [(s.target, s.guards) for s in facts.sites] == [("m", ())]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (b"# -*- coding: uft-8 -*-\nimport os\n",
         "unknown encoding: uft-8; fix the coding declaration (PEP 263), or drop it and save as UTF-8"),
        (b"\xef\xbb\xbf# coding: latin-1\nimport os\n",
         "encoding problem: utf-8; fix the coding declaration (PEP 263), or drop it and save as UTF-8"),
        (b"x = '\xf6'\n",
         "not valid UTF-8 and no encoding declaration; re-encode it as UTF-8 or declare its encoding (PEP 263)"),
    ],
    ids=["misspelt-codec", "declaration-contradicts-bom", "undeclared-latin1"],
)
def test_encoding_problems_are_named_precisely(source, reason):
    # From the stdlib corpus run: test/tokenizedata/bad_coding.py and bad_coding2.py were reported
    # as "no encoding declaration" although both declare one.
    assert _scan(source).error.reason == reason
