"""The cache's data-only encoding: facts and findings round-trip exactly, and any value of the wrong
shape is refused (the cache then drops that entry), without building anything but model classes."""

from __future__ import annotations

import json

import pytest

from scopeguard.collect.codec import Invalid, decoder, encoder
from scopeguard.base.model import (FileFacts, Suppression, UnresolvedReason, Guard, GuardKind, ImportSite, NameReference, ParseError, Patch,
                              ReferenceKind, Severity, SiteKind, UnresolvedImport, Violation)

GUARD = Guard(GuardKind.CONDITION, 3, "if USE_MSC", frozenset({("msc", True), ("TYPE_CHECKING", False)}),
              frozenset({"msc"}))
FACTS = FileFacts(
    path="python/tvm/a.py", module="tvm.a", is_package=False, extra=False,
    sites=(ImportSite("tvm.contrib.msc", None, 4, 5, SiteKind.IMPORT, (GUARD,)),
           ImportSite("tvm", "relax", 5, 1, SiteKind.FROM)),
    unresolved=(UnresolvedImport(7, 2, "import_module(x)", "tvm.contrib.", UnresolvedReason.NOT_LITERAL, (GUARD,)),),
    dunder_all=("a", "b"),
    suppressions=(Suppression(4, 10, ("SG201",), "reviewed", 4, 4), Suppression(9, 1, (), "", 10, 12)),
    error=ParseError(1, 2, "why \ud800"),  # a lone surrogate survives (ASCII JSON escapes it)
    references=(NameReference("relax.x", 8, 3, ReferenceKind.LOOKUP, "get_global_func", True, (GUARD,)),),
    patches=(Patch("tvm.ir.Foo", "bar", 9, 1, "assign"),),
    statements=((10, 12, 1),),
)
VIOLATION = Violation("SG201", "python/tvm/a.py", 4, 5, "message", "tvm.a", "tvm.contrib.msc", "tvm.contrib.msc",
                      Severity.WARNING, ("tvm.a", "tvm.contrib.msc"))


@pytest.mark.parametrize("value", [FACTS, VIOLATION], ids=["facts", "violation"])
def test_round_trip_through_json_is_exact(value):
    cls = type(value)
    text = json.dumps(encoder(cls)(value))
    assert text.isascii()
    again = decoder(cls)(json.loads(text))
    assert again == value and hash(again) == hash(value)


def _broken(path, replacement):
    """The encoded FACTS with the value at `path` (list indexes) replaced."""
    data = json.loads(json.dumps(encoder(FileFacts)(FACTS)))
    target = data
    for index in path[:-1]:
        target = target[index]
    target[path[-1]] = replacement
    return data


@pytest.mark.parametrize(("path", "replacement"), [
    ((2,), 0),  # is_package: an int is not a bool
    ((4, 0, 2), True),  # a site's line: a bool is not an int
    ((4, 0, 2), 4.0),  # ... nor a float
    ((4, 0, 4), "star"),  # an unknown SiteKind
    ((4, 0, 5, 0, 0), "os.system"),  # an unknown GuardKind
    ((4, 0), ["tvm", None, 4, 5]),  # a site of the wrong length
    ((4,), {"0": 1}),  # an object where a list belongs
    ((6,), "ab"),  # dunder_all: a string is not a list of strings
    ((7, 0), [4, ["SG201"], "extra"]),  # a suppression of the wrong length
    ((8,), [1, 2]),  # a ParseError of the wrong length
    ((9, 0, 3), "exec"),  # an unknown ReferenceKind
])
def test_wrong_shapes_are_refused(path, replacement):
    with pytest.raises(Invalid):
        decoder(FileFacts)(_broken(path, replacement))


def test_a_pickle_reduce_lookalike_is_just_a_wrong_shape():
    with pytest.raises(Invalid):
        decoder(FileFacts)({"__reduce__": ["os.system", ["touch /tmp/x"]]})
