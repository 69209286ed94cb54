"""facts/truth.py on its own: constant tests, `case` patterns as tests, loops that surely run."""

from __future__ import annotations

import libcst as cst
import pytest

from scopeguard.facts.truth import UNKNOWN, can_be, constant_truth, pattern_test, runs_at_least_once


def expr(text: str) -> cst.BaseExpression:
    return cst.parse_expression(text)


def code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


@pytest.mark.parametrize(
    "text, truth",
    [
        ("True", True), ("False", False), ("None", False), ("0", False), ("7", True), ("0.0", False),
        ("''", False), ("'a'", True), ("()", False), ("[]", False), ("{}", False),
        ("'a' == 'a'", True), ("1 != 1", False),
        ("sys.version_info >= (3,)", True), ("sys.version_info < (3, 0)", False),
        ("version_info >= (3, 6)", UNKNOWN), ("sys.version_info[0] == 2", False),
        ("sys.version_info.major >= 3", True), ("sys.version_info[1] == 2", UNKNOWN),
        ("1 < 2", UNKNOWN),  # only == and != compare literals
        ("x", UNKNOWN), ("(1,)", UNKNOWN), ("not False", UNKNOWN), ("a < b < c", UNKNOWN),
    ],
)
def test_constant_truth(text, truth):
    assert constant_truth(expr(text)) is truth if truth is UNKNOWN else constant_truth(expr(text)) == truth


@pytest.mark.parametrize(
    "text, true, false",
    [
        ("False", False, True),
        ("True", True, False),
        ("x", True, True),
        ("not True", False, True),
        ("not not 0", False, True),
        ("x and False", False, True),
        ("x and y", True, True),
        ("0 or ''", False, True),
        ("x or 1", True, False),
        ("x or (y and 0)", True, True),
        ("True if x else True", True, False),
        ("1 if x else 0", True, True),
        ("sys.version_info < (3,)", False, True),
    ],
)
def test_can_be(text, true, false):
    assert (can_be(expr(text), True), can_be(expr(text), False)) == (true, false)


def test_can_be_survives_a_deep_not_chain():
    assert (can_be(expr("not " * 3000 + "False"), True), can_be(expr("not " * 3000 + "False"), False)) == (False, True)
    assert (can_be(expr("not " * 3001 + "False"), True), can_be(expr("not " * 3001 + "False"), False)) == (True, False)


def case_patterns(source: str) -> list[cst.MatchPattern]:
    match = cst.parse_module(source).body[0]
    assert isinstance(match, cst.Match)
    return [case.pattern for case in match.cases]


def test_pattern_test():
    patterns = case_patterns(
        "match x:\n"
        "    case None: pass\n"
        "    case 1: pass\n"
        "    case 1 | 'a': pass\n"
        "    case 2 as two: pass\n"
        "    case 3 | _: pass\n"
        "    case [a]: pass\n"
        "    case 1 | [b]: pass\n"
        "    case Point(x=1): pass\n"
        "    case _: pass\n"
        "    case y: pass\n"
    )
    subject = expr("x")
    tests = [pattern_test(subject, p) for p in patterns]
    assert [code(t) if isinstance(t, cst.CSTNode) else t for t in tests] == [
        "x is None", "x == 1", "x in (1, 'a')", "x == 2", None, UNKNOWN, UNKNOWN, UNKNOWN, None, None,
    ]


@pytest.mark.parametrize(
    "text, runs",
    [
        ("[1]", True), ("(1, 2)", True), ("{1}", True), ("[]", False), ("()", False), ("[*a]", False),
        ("[1, *a]", False), ("'ab'", True), ("''", False),
        ("range(3)", True), ("range(0)", False), ("range(2, 5)", True), ("range(5, 2)", False),
        ("range(n)", False), ("range(0, 10, 2)", False), ("range(stop=3)", False), ("range()", False),
        ("x", False), ("items()", False),
    ],
)
def test_runs_at_least_once(text, runs):
    assert runs_at_least_once(expr(text)) is runs
