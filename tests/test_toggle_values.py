"""facts.toggle_values: the abstract values a toggle condition evaluates to, and the operators on them."""

from __future__ import annotations

import libcst as cst
import pytest

from scopeguard.facts.toggle_values import (
    ABSENT,
    FALSY,
    FUNCTION,
    NOT_MAIN,
    RAISES,
    TRUTHY,
    UNKNOWN,
    ClassValue,
    DictValue,
    Folded,
    NonOff,
    Ref,
    cap,
    compare,
    convert,
    negate,
    str_method,
    truth_of,
)


@pytest.mark.parametrize("value, expected", [
    (UNKNOWN, UNKNOWN), (RAISES, RAISES), (ABSENT, UNKNOWN), (TRUTHY, True), (FALSY, False),
    (NOT_MAIN, True), (FUNCTION, True), (ClassValue(None), True),
    (Folded(""), False), (Folded("off"), True),
    (NonOff(frozenset({"", "0"})), True), (NonOff(frozenset({"0"})), UNKNOWN),
    (DictValue({}), False), (DictValue({"k": 1}), True), ((), False), ((UNKNOWN,), True),
    (None, False), (0, False), ("", False), ("0", True), (Ref("os"), UNKNOWN),
])
def test_truth_of(value, expected):
    assert truth_of(value) is expected


def test_negate_flips_booleans_only():
    assert negate(True) is False
    assert negate(False) is True
    assert negate(UNKNOWN) is UNKNOWN
    assert negate(RAISES) is RAISES


def test_cap_drops_repeats_and_gives_up_past_32_alternatives():
    assert cap([]) == (UNKNOWN,)
    assert cap([1, 1, True, "a", "a"]) == (1, True, "a")  # 1 and True are different values here
    refs = cap([Ref("os.path"), Ref("os.path"), Ref("os")])
    assert [r.dotted for r in refs] == ["os.path", "os"]
    assert cap([UNKNOWN, UNKNOWN, RAISES]) == (UNKNOWN, RAISES)
    assert cap(list(range(32))) == tuple(range(32))
    assert cap(list(range(33))) == (UNKNOWN,)


EQ, NE, IS, IS_NOT, IN, NOT_IN, LT = (cst.Equal(), cst.NotEqual(), cst.Is(), cst.IsNot(), cst.In(), cst.NotIn(),
                                      cst.LessThan())


@pytest.mark.parametrize("op, a, b, expected", [
    (EQ, 1, 1, True), (EQ, "a", "b", False), (NE, "a", "b", True), (EQ, RAISES, 1, RAISES),
    (EQ, (1, "x"), (1, "x"), True), (EQ, (1,), (1, 2), False), (EQ, (1, UNKNOWN), (1, 2), UNKNOWN),
    # an environment value known up to letter case
    (EQ, Folded("off"), "on", False), (EQ, "OFF", Folded("off"), UNKNOWN), (EQ, Folded("0"), "0", True),
    (EQ, Folded("off"), None, False), (EQ, Folded("off"), NOT_MAIN, UNKNOWN),
    (EQ, Folded("off"), Folded("no"), False), (EQ, Folded("off"), Folded("off"), UNKNOWN),
    # an inverted toggle's OFF state: a string that is none of the OFF words
    (EQ, NonOff(frozenset({"off"})), "OFF", False), (EQ, NonOff(frozenset({"off"})), "ON", UNKNOWN),
    (EQ, NonOff(frozenset({"off"})), 1, False), (NE, NonOff(frozenset({"off"})), "Off", True),
    (EQ, NOT_MAIN, "__main__", False), (EQ, NOT_MAIN, "pkg.m", UNKNOWN), (EQ, NOT_MAIN, 3, False),
    (EQ, TRUTHY, 0, False), (EQ, TRUTHY, 1, UNKNOWN), (EQ, FALSY, 0, UNKNOWN),
    (IS, None, None, True), (IS, 0, None, False), (IS_NOT, "x", None, True), (IS, TRUTHY, None, False),
    (IS, TRUTHY, True, UNKNOWN), (IS, FALSY, True, False), (IS, FALSY, None, UNKNOWN), (IS, FUNCTION, None, False),
    (IS, 1, 2, UNKNOWN), (IS, RAISES, None, RAISES),
    (IN, "X", ("X", "Y"), True), (IN, "Z", ("X", "Y"), False), (NOT_IN, "Z", ("X", "Y"), True),
    (IN, Folded("off"), ("on", "1"), False), (IN, Folded("off"), ("OFF",), UNKNOWN), (IN, None, (None, 0), True),
    (IN, "k", DictValue({"k": 1}), True), (IN, TRUTHY, DictValue({"k": 1}), UNKNOWN), (IN, "b", "abc", True),
    (IN, "x", Ref("os.environ"), UNKNOWN),
    (LT, 1, 2, True), (cst.GreaterThanEqual(), 1, 2, False), (LT, "a", 1, RAISES), (LT, TRUTHY, 1, UNKNOWN),
])
def test_compare(op, a, b, expected):
    assert compare(op, a, b) is expected


def test_str_method():
    assert str_method("lower", "Off") == "off"
    assert str_method("strip", " on ") == "on"
    assert str_method("lower", Folded("off")) == "off"
    assert str_method("casefold", Folded("off")) == "off"
    assert str_method("upper", Folded("off")) == "OFF"
    stripped = str_method("strip", Folded(" off "))
    assert isinstance(stripped, Folded) and stripped.lower == "off"
    inverted = NonOff(frozenset({"off"}))
    assert str_method("lower", inverted) is inverted
    assert str_method("upper", inverted) is UNKNOWN
    assert str_method("lower", NOT_MAIN) is UNKNOWN
    assert str_method("lower", None) is RAISES  # None.lower(): AttributeError
    assert str_method("lower", FUNCTION) is RAISES
    assert str_method("lower", RAISES) is RAISES
    assert str_method("lower", TRUTHY) is UNKNOWN


@pytest.mark.parametrize("name, value, expected", [
    ("bool", TRUTHY, True), ("bool", Folded(""), False), ("bool", UNKNOWN, UNKNOWN), ("bool", RAISES, RAISES),
    ("str", 1, "1"), ("str", None, "None"), ("str", b"x", TRUTHY), ("str", FUNCTION, TRUTHY), ("str", FALSY, UNKNOWN),
    ("int", "12", 12), ("int", "x", RAISES), ("int", True, 1), ("int", Folded("0"), 0), ("int", Folded("off"), RAISES),
    ("int", None, RAISES), ("int", TRUTHY, UNKNOWN),
])
def test_convert(name, value, expected):
    assert convert(name, value) == expected and type(convert(name, value)) is type(expected)


def test_convert_str_keeps_case_folded_strings():
    folded, inverted = Folded("off"), NonOff(frozenset({"off"}))
    assert convert("str", folded) is folded
    assert convert("str", inverted) is inverted
