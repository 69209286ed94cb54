"""The abstract values a toggle condition evaluates to, and Python's operators on them."""

from __future__ import annotations

import libcst as cst

_MAX_ALTERNATIVES = 32


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


def cap(values: list | tuple) -> tuple:
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


def truth_of(value):
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


def negate(t):
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


def compare(op, a, b):
    if isinstance(op, cst.Equal):
        return _equal(a, b)
    if isinstance(op, cst.NotEqual):
        return negate(_equal(a, b))
    if isinstance(op, cst.Is):
        return _identical(a, b)
    if isinstance(op, cst.IsNot):
        return negate(_identical(a, b))
    if isinstance(op, cst.In):
        return _contains(a, b)
    if isinstance(op, cst.NotIn):
        return negate(_contains(a, b))
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


def str_method(method: str, value):
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


def convert(name: str, value):
    if value is RAISES:
        return RAISES
    if name == "bool":
        t = truth_of(value)
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


__all__ = [
    "ABSENT",
    "FALSY",
    "FUNCTION",
    "NOT_MAIN",
    "RAISES",
    "TRUTHY",
    "UNKNOWN",
    "ClassValue",
    "DictValue",
    "Folded",
    "NonOff",
    "Ref",
    "cap",
    "compare",
    "convert",
    "negate",
    "str_method",
    "truth_of",
]
