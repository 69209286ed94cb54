"""Property tests for the scanner: generated programs against a small reference model, and garbage in.

The reference model knows nothing of libcst or of scan.py's rules. It builds a program from a small
grammar (import forms with relative levels and aliases, nested in if/elif/else, try/except/finally,
def/async def/class/lambda, with, while/for; conditions over toggle names with and/or/not;
TYPE_CHECKING; `__name__ == "__main__"`; early exits; toggle and skipif decorators) and records,
for every imported name it writes, what must hold for that line to run:

- the *conditions* on the path, each a (formula, required truth) pair. What they guarantee about
  each toggle is found by brute force: every assignment of the variables that satisfies all of
  them is enumerated, and a variable is known when it has one value in all of them. Each variable
  occurs at most once on a path, so this exact answer is also what a sound, syntax-directed scanner
  can and must find;
- whether it sits in a function (lazy) and whether a failed import is caught (try/except of an
  ImportError catcher that does not re-raise, contextlib.suppress), reset by every def;
- the absolute target, by `importlib.util.resolve_name` (the import system's own resolution).

Runs are bounded and deterministic: `derandomize=True`, no example database.
"""

from __future__ import annotations

import importlib.util
import itertools
from dataclasses import dataclass, field, replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scopeguard.model import MAIN, TYPE_CHECKING, Execution, FileFacts, SiteKind, Toggle
from scopeguard.scan import ToggleMatcher, scan_source

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

# variable -> (toggle it tells about, whether the variable being true means the toggle is on);
# None for names that are no toggle at all.
VARIABLES = {
    "USE_A": ("a", True),
    "NO_B": ("b", False),
    "TC": (TYPE_CHECKING, True),
    "MAIN": (MAIN, True),
    "FLAG": None,
    "OTHER": None,
}

# How each variable may be spelled in a test, and whether the spelling is exact. An exact spelling
# is true exactly when the variable is; a one-way spelling (a comparison with an "on" literal:
# `get("USE_A", "OFF") == "ON"`) being true means the variable is, but being false says nothing
# (the value may be "1"). Comparisons with an "off" literal are exact: toggle values are taken to
# be that literal or "on" (GUARDS.md case 12).
SPELLINGS = {
    "USE_A": [("USE_A", True), ("cfg.USE_A", True), ('os.environ.get("USE_A")', True), ('os.environ["USE_A"]', True),
              ("bool(USE_A)", True), ('USE_A != "0"', True), ('libinfo().get("USE_A", "OFF") == "ON"', False)],
    "NO_B": [("NO_B", True), ("settings.NO_B", True), ('os.getenv("NO_B")', True),
             ('str(NO_B).lower() == "true"', False)],
    "TC": [("TYPE_CHECKING", True), ("typing.TYPE_CHECKING", True)],
    "MAIN": [('__name__ == "__main__"', True)],
    "FLAG": [("FLAG", True), ("cfg.FLAG", True), ('os.environ.get("FLAG")', True)],
    "OTHER": [("sys.version_info >= (3, 9)", True), ("OTHER", True)],
}
# Spellings whose value is the variable's negation (all exact).
NEGATED_SPELLINGS = {
    "USE_A": [('libinfo().get("USE_A", "OFF") == "OFF"', True), ('USE_A == "0"', True)],
    "NO_B": [('NO_B == "OFF"', True)],
    "MAIN": [('__name__ != "__main__"', True)],
}


# -- formulas -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    op: str  # "var", "not", "and", "or"
    var: str = ""
    negated_spelling: bool = False  # for "var": the spelling is true when the variable is false
    spelling: str = ""
    one_way: bool = False  # for "var": true implies the variable, false implies nothing
    children: tuple[Formula, ...] = ()

    def value(self, assignment: dict[str, bool]) -> bool:
        if self.op == "var":
            if self.one_way:  # a free value of its own, tied to the variable by `aux => var`
                return assignment["aux:" + self.var]
            return assignment[self.var] != self.negated_spelling
        if self.op == "not":
            return not self.children[0].value(assignment)
        left, right = (c.value(assignment) for c in self.children)
        return (left and right) if self.op == "and" else (left or right)

    def variables(self) -> set[str]:
        if self.op == "var":
            return {self.var}
        return set().union(*(c.variables() for c in self.children))

    def auxiliaries(self) -> set[str]:
        if self.op == "var":
            return {"aux:" + self.var} if self.one_way else set()
        return set().union(*(c.auxiliaries() for c in self.children))

    def consistent(self, assignment: dict[str, bool]) -> bool:
        """The one-way leaves' implications hold in `assignment`."""
        if self.op == "var":
            return not self.one_way or not assignment["aux:" + self.var] or assignment[self.var]
        return all(c.consistent(assignment) for c in self.children)

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
        negated = var in NEGATED_SPELLINGS and draw(st.booleans())
        spelling, exact = draw(st.sampled_from(NEGATED_SPELLINGS[var] if negated else SPELLINGS[var]))
        leaf = Formula("var", var=var, negated_spelling=negated, spelling=spelling, one_way=not exact)
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


def known_toggles(conditions: list[tuple[Formula, bool]]) -> dict[str, bool]:
    """What every way of satisfying all conditions agrees on, as toggle states (brute force)."""
    variables = sorted(set().union(*(f.variables() for f, _ in conditions))) if conditions else []
    auxiliaries = sorted(set().union(*(f.auxiliaries() for f, _ in conditions))) if conditions else []
    satisfying = []
    for values in itertools.product([False, True], repeat=len(variables) + len(auxiliaries)):
        assignment = dict(zip(variables + auxiliaries, values, strict=True))
        if all(f.consistent(assignment) and f.value(assignment) == truth for f, truth in conditions):
            satisfying.append(assignment)
    assert satisfying, "read-once conditions are always satisfiable"
    # At run time TYPE_CHECKING is false, and on import `__name__ == "__main__"` is: a path that
    # can run with them false is judged by those runs only (`if MAIN or X:` needs X on import).
    assumed = set()
    for pseudo in ("TC", "MAIN"):
        if pseudo in variables and any(a[pseudo] for a in satisfying) and any(not a[pseudo] for a in satisfying):
            satisfying = [a for a in satisfying if not a[pseudo]]
            assumed.add(pseudo)  # assumed, not known from the conditions
    known = {}
    for var in variables:
        seen = {a[var] for a in satisfying}
        if len(seen) == 1 and VARIABLES[var] is not None and var not in assumed:
            toggle, truthy_means_on = VARIABLES[var]
            state = seen.pop() == truthy_means_on
            if (toggle, state) != (TYPE_CHECKING, False):  # always so at run time
                known[toggle] = state
    return known


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
        known = known_toggles(list(ctx.conditions))
        for toggle, state in ctx.decorator_toggles:
            known.setdefault(toggle, state)
        if known.get(TYPE_CHECKING) is True:
            execution = Execution.NEVER
        elif ctx.in_function or lazy or known.get(MAIN) is True:
            execution = Execution.CALL
        else:
            execution = Execution.IMPORT
        # A lambda's body runs when it is called: a try around its definition does not protect it.
        optional = ctx.optional and not lazy
        self.expected.append(Expected(line, target, name, kind, execution, optional, frozenset(known.items())))

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


def observed(facts: FileFacts) -> list[Expected]:
    out = []
    for site in facts.sites:
        knowledge: dict[str, bool] = {}
        for guard in site.guards:
            for toggle, state in guard.knowledge:
                if (toggle, state) == (TYPE_CHECKING, False):
                    continue  # always so at run time: nothing to know (see known_toggles)
                assert knowledge.get(toggle, state) == state, f"contradicting guards at line {site.line}"
                knowledge[toggle] = state
        out.append(Expected(site.line, site.target, site.name, site.kind, site.execution, site.is_optional,
                            frozenset(knowledge.items())))
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
    use_a = Formula("var", var="USE_A", spelling="USE_A")
    no_b = Formula("var", var="NO_B", spelling="NO_B")
    flag = Formula("var", var="FLAG", spelling="FLAG")
    tc = Formula("var", var="TC", spelling="TYPE_CHECKING")
    assert known_toggles([(use_a, True)]) == {"a": True}
    assert known_toggles([(no_b, True)]) == {"b": False}
    assert known_toggles([(Formula("or", children=(use_a, flag)), True)]) == {}
    assert known_toggles([(Formula("or", children=(use_a, flag)), False)]) == {"a": False}
    assert known_toggles([(Formula("and", children=(use_a, Formula("not", children=(no_b,)))), True)]) == {
        "a": True, "b": True}
    assert known_toggles([(tc, False), (use_a, True)]) == {"a": True}  # TYPE_CHECKING is false at run time anyway
    main = Formula("var", var="MAIN", spelling='__name__ == "__main__"')
    assert known_toggles([(Formula("or", children=(main, use_a)), True)]) == {"a": True}  # on import
    assert known_toggles([(Formula("or", children=(tc, use_a)), True)]) == {"a": True}
    one_way = Formula("var", var="USE_A", spelling='get("USE_A") == "ON"', one_way=True)
    assert known_toggles([(one_way, True)]) == {"a": True}
    assert known_toggles([(one_way, False)]) == {}
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


def test_an_expression_too_deep_to_walk_is_reported_with_a_reason():
    facts = _scan(b"if " + b"not " * 1000 + b"USE_A:\n    import m\n")
    assert facts.error is not None and facts.error.reason == (
        "an expression is nested too deeply to analyse (RecursionError); split it up or exclude the file")


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
