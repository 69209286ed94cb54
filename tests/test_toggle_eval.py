"""facts.toggle_eval: an expression's possible values in one OFF state (env), and the toggle
variables it reads (seen)."""

from __future__ import annotations

import libcst as cst
import pytest

from scopeguard.base.model import TYPE_CHECKING, Toggle
from scopeguard.facts.toggle_eval import Evaluator
from scopeguard.facts.toggle_knowledge import FileToggles
from scopeguard.facts.toggle_matcher import ToggleMatcher
from scopeguard.facts.toggle_values import ABSENT, NOT_MAIN, RAISES, UNKNOWN, Folded, NonOff, Ref

MATCHER = ToggleMatcher([Toggle("a", on_when_true=("USE_A",)), Toggle("e", on_when_true=("USE_E",))])


def evaluate(expr: str, env: dict | None = None):
    """(alternatives, outcomes, seen) of `expr` with names read as spelled (no file bindings)."""
    evaluator = Evaluator(FileToggles(MATCHER, None), env or {}, None)
    node = cst.parse_expression(expr)
    return evaluator.ev(node, None, 0), evaluator.outcomes(node), evaluator.seen


def test_a_toggle_name_is_a_reference_whose_value_is_the_state():
    values, outcomes, seen = evaluate("USE_A")
    assert [v.dotted for v in values] == ["USE_A"]
    assert outcomes == {UNKNOWN}
    assert seen == {("py", "USE_A")}
    assert evaluate("USE_A", {("py", "USE_A"): False})[1] == {False}
    assert evaluate("not USE_A", {("py", "USE_A"): ""})[1] == {True}
    assert evaluate("config.USE_A", {("py", "USE_A"): 0})[1:] == ({False}, {("py", "USE_A")})
    assert evaluate('getattr(config, "USE_A")', {("py", "USE_A"): None})[1:] == ({False}, {("py", "USE_A")})


@pytest.mark.parametrize("expr, env, values, seen", [
    ('os.environ.get("USE_E", "0")', {("env", "USE_E"): ABSENT}, ("0",), {("env", "USE_E")}),
    ('os.getenv("USE_E")', {("env", "USE_E"): ABSENT}, (None,), {("env", "USE_E")}),
    ('os.environ["USE_E"]', {("env", "USE_E"): ABSENT}, (RAISES,), {("env", "USE_E")}),
    ('libinfo().get("USE_E")', {("info", "USE_E"): ABSENT}, (None,), {("info", "USE_E")}),
    ('info["USE_E"]', {("info", "USE_E"): ABSENT}, (RAISES,), {("info", "USE_E")}),
    ('os.environ.get("OTHER", "1")', {}, (UNKNOWN,), set()),  # not a toggle's spelling
    ("__name__", {("main", "__name__"): NOT_MAIN}, (NOT_MAIN,), {("main", "__name__")}),
    ("1 if X else 2", {}, (1, 2), set()),
    ('{"k": 1}.get("k")', {}, (1,), set()),
    ('{"k": 1}.get("z", 5)', {}, (5,), set()),
    ('{"k": 1}["z"]', {}, (RAISES,), set()),
    ("(1, 2)[1]", {}, (2,), set()),
    ("(1, 2)[5]", {}, (RAISES,), set()),
    ("-3", {}, (-3,), set()),
    ('int("7")', {}, (7,), set()),
    ("True and 0", {}, (0,), set()),
    ("None or 'x'", {}, ("x",), set()),
    ("1 < 2 < 0", {}, (False,), set()),
    ('str(USE_A).lower()', {("py", "USE_A"): None}, ("none",), {("py", "USE_A")}),
    ("f(*args)", {}, (UNKNOWN,), set()),
])
def test_values_in_one_off_state(expr, env, values, seen):
    got, _, got_seen = evaluate(expr, env)
    assert got == values
    assert got_seen == seen


def test_an_environment_value_known_up_to_case():
    off = Folded("off")
    values, outcomes, _ = evaluate('os.environ["USE_E"]', {("env", "USE_E"): off})
    assert values == (off,) and outcomes == {True}
    assert evaluate('os.environ.get("USE_E", "") == "ON"', {("env", "USE_E"): off})[1] == {False}
    assert evaluate('os.environ.get("USE_E", "").lower() == "off"', {("env", "USE_E"): off})[1] == {True}
    inverted = NonOff(frozenset({"", "off"}))
    assert evaluate('os.environ.get("USE_E") in ("OFF", "off")', {("env", "USE_E"): inverted})[1] == {False}


def test_type_checking_and_dotted_references():
    values, outcomes, seen = evaluate("typing.TYPE_CHECKING", {("tc", TYPE_CHECKING): False})
    assert [v.dotted for v in values] == ["typing.TYPE_CHECKING"] and outcomes == {False}
    assert seen == {("tc", TYPE_CHECKING)}
    values = evaluate("os.path.join")[0]
    assert len(values) == 1 and isinstance(values[0], Ref) and values[0].dotted == "os.path.join"


def test_past_the_depth_or_nesting_bound_the_value_is_unknown():
    owner = FileToggles(MATCHER, None)
    node = cst.parse_expression("1")
    assert Evaluator(owner, {}, None).ev(node, None, 40) == (1,)
    assert Evaluator(owner, {}, None).ev(node, None, 41) == (UNKNOWN,)
    owner.nesting = 80
    assert Evaluator(owner, {}, None).ev(node, None, 0) == (1,)
    owner.nesting = 81
    assert Evaluator(owner, {}, None).ev(node, None, 0) == (UNKNOWN,)
