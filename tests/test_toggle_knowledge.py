"""facts.toggle_knowledge: what a condition or decorator being true or false guarantees about the
toggles, and the Knowledge operations."""

from __future__ import annotations

import libcst as cst
import pytest

from scopeguard.base.model import MAIN, TYPE_CHECKING, Toggle
from scopeguard.facts.toggle_knowledge import FileToggles, frozen, intersect, merge
from scopeguard.facts.toggle_matcher import ToggleMatcher

MATCHER = ToggleMatcher([
    Toggle("a", on_when_true=("USE_A",), decorators=("pkg.testing.requires_a",)),
    Toggle("b", on_when_false=("NO_B",)),
    Toggle("e", on_when_true=("USE_E",), off_values=("", "off", "0")),
])


def plain() -> FileToggles:
    return FileToggles(MATCHER, None)


@pytest.mark.parametrize("expr, if_true, if_false", [
    ("USE_A", {"a": True}, {"a": False}),
    ("not USE_A", {"a": False}, {"a": True}),
    ("not NO_B", {"b": True}, {"b": False}),
    ("USE_A and NO_B", {"a": True}, {"a": False}),
    ("USE_A or USE_E", {}, {}),
    ("bool(USE_A)", {"a": True}, {"a": False}),
    ('getattr(config, "USE_A")', {"a": True}, {"a": False}),
    ('os.environ.get("USE_E", "") == "1"', {"e": True}, {"e": False}),
    ('libinfo().get("USE_E", "OFF") == "ON"', {"e": True}, {"e": False}),
    ('os.environ["USE_E"]', {}, {}),  # raises when unset: neither branch runs, the set one is unknown
    ('__name__ == "__main__"', {MAIN: True}, {MAIN: False}),
    ("TYPE_CHECKING", {TYPE_CHECKING: True}, {TYPE_CHECKING: False}),
    ("False", {"a": True, "b": True, "e": True}, {}),  # never runs: needs every toggle on
    ("foo()", {}, {}),
])
def test_implies(expr, if_true, if_false):
    toggles = plain()
    node = cst.parse_expression(expr)
    assert toggles.implies(node, True) == if_true
    assert toggles.implies(node, False) == if_false


def test_mentioned_names_the_toggles_read_but_not_type_checking_or_main():
    toggles = plain()
    assert toggles.mentioned(cst.parse_expression("USE_A and NO_B")) == frozenset({"a", "b"})
    assert toggles.mentioned(cst.parse_expression('os.environ["USE_E"] or x')) == frozenset({"e"})
    assert toggles.mentioned(cst.parse_expression('TYPE_CHECKING or __name__ == "__main__"')) == frozenset()
    assert toggles.mentioned(cst.Pass()) == frozenset()


def _decorator(source: str) -> cst.Decorator:
    return cst.parse_module(f"{source}\ndef f():\n    pass\n").body[0].decorators[0]


@pytest.mark.parametrize("source, expected", [
    ('@pytest.mark.skipif(not USE_A, reason="x")', {"a": True}),
    ("@pytest.mark.skipif(condition=NO_B)", {"b": True}),
    ('@pytest.mark.skipif(not USE_A, USE_A, reason="x")', {"a": True}),  # contradictory: never runs
    ('@pytest.mark.skipif("USE_A")', {}),  # a string condition is pytest's to evaluate
    ('@unittest.skipUnless(USE_A, "x")', {"a": True}),
    ('@unittest.skipIf(USE_A, "x")', {"a": False}),
    ("@requires_a", {"a": True}),
    ("@pkg.testing.requires_a", {"a": True}),
    ("@requires_a()", {"a": True}),
    ("@other", {}),
])
def test_decorator_toggles(source, expected):
    assert plain().decorator_toggles(_decorator(source)) == expected


def test_callee_is_the_one_dotted_name_a_call_reaches():
    toggles = plain()
    assert toggles.callee(cst.parse_expression("sys.exit")) == "sys.exit"
    assert toggles.callee(cst.parse_expression("f")) == "f"
    assert toggles.callee(cst.parse_expression("a if x else b")) is None
    assert toggles.callee(cst.parse_expression("g()")) is None


def test_merge_intersect_frozen():
    assert merge({"a": True}, {"b": False}) == {"a": True, "b": False}
    assert merge({"a": False}, {"a": False}) == {"a": False}
    assert merge({"a": False}, {"a": True}) == {"a": True}  # contradiction: cannot run, needs it on
    assert merge({"a": True}, {"a": False}) == {"a": True}
    assert intersect({"a": True, "b": False}, {"a": True, "b": True, "c": True}) == {"a": True}
    assert intersect({"a": True}, {}) == {}
    assert frozen({"a": True, "b": False}) == frozenset({("a", True), ("b", False)})
    assert frozen({}) == frozenset()
