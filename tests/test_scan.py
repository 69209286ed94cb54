"""The scanner on its own: positions, relative imports, dynamic imports, suppressions, __all__."""

from __future__ import annotations

import textwrap

import pytest

from scopeguard import scan
from scopeguard.model import Execution, SiteKind, Toggle
from scopeguard.scan import ToggleMatcher, resolve_relative, scan_source

from .conftest import FIXTURES

MATCHER = ToggleMatcher([Toggle("msc", on_when_true=("USE_MSC",))])


def facts_of(code: str, module: str = "pkg.mod", is_package: bool = False):
    return scan_source(textwrap.dedent(code).encode(), path="x.py", module=module, is_package=is_package, matcher=MATCHER)


def test_positions_of_every_imported_name():
    facts = facts_of(
        """\
        import os, tvm.relax as rx
        from tvm.contrib import (
            msc,
            cutlass as cl,
        )
        x = 1; import json
        if True: from . import sibling
        from .conv import *
        """
    )
    assert [(s.dotted, s.line, s.column, s.kind) for s in facts.sites] == [
        ("os", 1, 8, SiteKind.IMPORT),
        ("tvm.relax", 1, 12, SiteKind.IMPORT),
        ("tvm.contrib.msc", 3, 5, SiteKind.FROM),
        ("tvm.contrib.cutlass", 4, 5, SiteKind.FROM),
        ("json", 6, 15, SiteKind.IMPORT),
        ("pkg.sibling", 7, 24, SiteKind.FROM),
        ("pkg.conv", 8, 19, SiteKind.FROM),
    ]
    assert facts.sites[-1].name == "*"


@pytest.mark.parametrize(
    "module, is_package, level, written, expected",
    [
        ("tvm.ir.x", False, 1, "", "tvm.ir"),
        ("tvm.ir.x", False, 2, "contrib", "tvm.contrib"),
        ("tvm.contrib", True, 1, "", "tvm.contrib"),  # inside __init__: its own package
        ("tvm.contrib", True, 2, "ir", "tvm.ir"),
        ("tvm", True, 1, "relax", "tvm.relax"),
        ("tvm", True, 2, "", None),  # beyond the top-level package
        ("tvm.ir.x", False, 3, "", None),
        ("tvm.ir.x", False, 0, "os", "os"),
    ],
)
def test_relative_imports(module, is_package, level, written, expected):
    assert resolve_relative(module, is_package, level, written) == expected


def test_relative_import_beyond_root_is_recorded_not_dropped():
    facts = facts_of("from ... import x\n", module="tvm.ir", is_package=True)
    assert facts.sites == ()
    assert [(u.line, u.reason) for u in facts.unresolved] == [(1, "relative import beyond top-level package")]


def test_dynamic_imports_follow_what_the_name_resolves_to():
    facts = facts_of(
        """\
        import importlib as il
        from importlib import import_module as load

        def f(name):
            il.import_module("tvm.a")
            load("tvm.b")
            __import__("tvm.c")
            runtime.Module.import_module("tvm.d")
            import_module("tvm.e")
            cb = lambda: il.import_module("tvm." + name)
            il.import_module(".rel", package="tvm")
        """
    )
    dynamic = [(s.target, s.line, s.column, s.execution) for s in facts.sites if s.kind is SiteKind.DYNAMIC]
    assert dynamic == [
        ("tvm.a", 5, 5, Execution.CALL),
        ("tvm.b", 6, 5, Execution.CALL),
        ("tvm.c", 7, 5, Execution.CALL),
    ]
    assert [(u.line, u.prefix, u.reason) for u in facts.unresolved] == [
        (10, "tvm.", "target is not a literal"),
        (11, ".rel", "relative dynamic import"),
    ]


def test_suppression_comments():
    facts = facts_of(
        """\
        import a  # scopeguard: ignore[SG201]  reviewed in #123
        import b  # scopeguard: ignore[sg201, SG4]
        import c  # scopeguard: ignore
        import d  # scopeguard ignore[SG201]  (not the syntax: no colon)
        """
    )
    assert [(x.line, x.codes, x.reason, x.first, x.last) for x in facts.suppressions] == [
        (1, ("SG201",), "reviewed in #123", 1, 1), (2, ("SG201", "SG4"), "", 2, 2), (3, (), "", 3, 3)]
    assert facts.suppressed(1, "SG201") and not facts.suppressed(1, "SG202")
    assert facts.suppressed(2, "SG402") and facts.suppressed(3, "SG101") and not facts.suppressed(4, "SG201")


def test_dunder_all_literal_and_not():
    assert facts_of("__all__ = ['a', 'b']\n__all__ += ('c',)\n").dunder_all == ("a", "b", "c")
    assert facts_of("__all__ = ['a'] + other\n").dunder_all is None
    assert facts_of("import x\n").dunder_all is None


def _summary(facts):
    return (
        [(s.dotted, s.line, s.column, s.execution, s.toggles_required_on, s.is_optional) for s in facts.sites],
        [(u.line, u.column, u.prefix) for u in facts.unresolved],
        facts.dunder_all,
    )


@pytest.mark.parametrize(
    "path", sorted(p for p in FIXTURES.rglob("*.py") if "latin1_no" not in p.name and "syntax_error" not in p.name),
    ids=lambda p: str(p.relative_to(FIXTURES)),
)
def test_fast_positions_agree_with_libcst_positions(path, monkeypatch):
    """Positions come from `ast` for speed; libcst's PositionProvider is the slow reference."""
    source = path.read_bytes()
    matcher = ToggleMatcher([Toggle("msc", on_when_true=("USE_MSC", "TVM_USE_MSC")), Toggle("relax", on_when_false=("_RUNTIME_ONLY",))])
    fast = scan_source(source, path="x.py", module="tvm.x", is_package=False, matcher=matcher)

    def no_ast(*args):
        raise scan._PositionMismatch

    monkeypatch.setattr(scan, "_AstPositions", no_ast)
    slow = scan_source(source, path="x.py", module="tvm.x", is_package=False, matcher=matcher)
    assert _summary(fast) == _summary(slow)
