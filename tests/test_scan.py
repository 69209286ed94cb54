"""The scanner on its own: positions, relative imports, dynamic imports, suppressions, __all__."""

from __future__ import annotations

import ast
import textwrap

import pytest

from scopeguard import facts as scan
from scopeguard.base.model import Execution, SiteKind, Toggle
from scopeguard.facts import ToggleMatcher, resolve_relative, scan_source

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
        ("tvm.rel", 11, 5, Execution.CALL),  # relative to a known package: resolved as importlib does
    ]
    assert [(u.line, u.prefix, u.reason) for u in facts.unresolved] == [
        (10, "tvm.", "target is not a literal"),
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
    assert facts_of("__all__ = ['a'] + other\n").dunder_all == ("*",)  # not known: may name anything
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


# --- issue 14: control flow, handlers, dynamic imports, import time (guardb) ---------------------

from scopeguard.analysis import Verdict, classify  # noqa: E402
from scopeguard.base.model import Scope  # noqa: E402

MSC = Scope("tvm.contrib.msc", toggle="msc")


def _verdicts(code: str, target: str = "tvm.contrib.msc") -> list[tuple[int, str, Verdict]]:
    facts = facts_of(code)
    return [(s.line, s.execution.value, classify(s, MSC)) for s in facts.sites if s.dotted.startswith(target)]


@pytest.mark.parametrize(
    "code, expected",
    [
        # exits through aliases of sys.exit; a local `exit` is no exit
        ("import sys\nstop = sys.exit\nif not USE_MSC:\n    stop()\nimport tvm.contrib.msc\n", Verdict.TOGGLE),
        ("from sys import exit as leave\nif not USE_MSC:\n    leave()\nimport tvm.contrib.msc\n", Verdict.TOGGLE),
        ("def exit():\n    pass\nif not USE_MSC:\n    exit()\nimport tvm.contrib.msc\n", Verdict.NONE),
        # exits composed through elif chains, try/finally, with, else
        ("if USE_MSC:\n    pass\nelif True:\n    raise SystemExit\nimport tvm.contrib.msc\n", Verdict.TOGGLE),
        ("if X:\n    pass\nelif not USE_MSC:\n    raise SystemExit\nimport tvm.contrib.msc\n", Verdict.NONE),
        ("try:\n    if not USE_MSC:\n        raise SystemExit\nfinally:\n    pass\nimport tvm.contrib.msc\n", Verdict.TOGGLE),
        ("try:\n    if not USE_MSC:\n        raise RuntimeError\nexcept RuntimeError:\n    pass\nimport tvm.contrib.msc\n",
         Verdict.NONE),
        ("with open(f):\n    if not USE_MSC:\n        raise SystemExit\nimport tvm.contrib.msc\n", Verdict.TOGGLE),
        ("with quiet():\n    if not USE_MSC:\n        raise SystemExit\nimport tvm.contrib.msc\n", Verdict.NONE),
        # constants, contradictions and disjunctions that cannot hold on import
        ("if False:\n    import tvm.contrib.msc\n", Verdict.DEAD),
        ("while 0:\n    import tvm.contrib.msc\n", Verdict.DEAD),
        ("if True:\n    import tvm.contrib.msc\n", Verdict.NONE),
        ("if USE_MSC and not USE_MSC:\n    import tvm.contrib.msc\n", Verdict.TOGGLE),
        ("import typing\nif typing.TYPE_CHECKING or USE_MSC:\n    import tvm.contrib.msc\n", Verdict.TOGGLE),
        ('if __name__ == "__main__" or USE_MSC:\n    import tvm.contrib.msc\n', Verdict.TOGGLE),
        ("import sys\nif sys.version_info < (3,):\n    import tvm.contrib.msc\n", Verdict.DEAD),
        ("import sys\nif sys.version_info < (3, 9):\n    import tvm.contrib.msc\n", Verdict.NONE),
        ("raise SystemExit\nimport tvm.contrib.msc\n", Verdict.DEAD),
        # match / case
        ("match USE_MSC:\n    case True:\n        import tvm.contrib.msc\n", Verdict.TOGGLE),
        ("match USE_MSC:\n    case True:\n        pass\n    case _:\n        import tvm.contrib.msc\n", Verdict.NONE),
        # loops: `else` after a first iteration that breaks when off; after `while` without break
        ("for _ in range(1):\n    if not USE_MSC:\n        break\nelse:\n    import tvm.contrib.msc\n", Verdict.TOGGLE),
        ("for _ in items:\n    if not USE_MSC:\n        break\nelse:\n    import tvm.contrib.msc\n", Verdict.NONE),
        # a conditional expression around a dynamic import
        ('import importlib\nm = importlib.import_module("tvm.contrib.msc") if USE_MSC else None\n', Verdict.TOGGLE),
    ],
)
def test_control_flow_guards(code, expected):
    (found,) = _verdicts(code)
    assert found[2] is expected, code


@pytest.mark.parametrize(
    "code, expected",
    [
        # deleting msc: `from tvm.contrib import msc` raises a plain ImportError
        ("try:\n    from tvm.contrib import msc\nexcept ModuleNotFoundError:\n    msc = None\n", Verdict.NONE),
        ("try:\n    import tvm.contrib.msc\nexcept ModuleNotFoundError:\n    pass\n", Verdict.OPTIONAL),
        ("try:\n    from tvm.contrib.msc import core\nexcept ModuleNotFoundError:\n    core = None\n", Verdict.OPTIONAL),
        ("try:\n    from tvm.contrib import msc\nexcept ImportError:\n    msc = None\n", Verdict.OPTIONAL),
        ("try:\n    from tvm.contrib import msc\nexcept Exception:\n    msc = None\n", Verdict.OPTIONAL),
        ("try:\n    from tvm.contrib import msc\nexcept:\n    msc = None\n", Verdict.OPTIONAL),
        ("_ERRS = (ImportError, OSError)\ntry:\n    from tvm.contrib import msc\nexcept _ERRS:\n    msc = None\n",
         Verdict.OPTIONAL),
        ("from contextlib import suppress as quiet\nwith quiet(ImportError):\n    from tvm.contrib import msc\n",
         Verdict.OPTIONAL),
        ("import contextlib\nwith contextlib.suppress(ModuleNotFoundError):\n    from tvm.contrib import msc\n", Verdict.NONE),
        # handlers that leave on some path
        ("import sys\ntry:\n    from tvm.contrib import msc\nexcept ImportError:\n    sys.exit(1)\n", Verdict.NONE),
        ("try:\n    from tvm.contrib import msc\nexcept ImportError as e:\n    if e.name:\n        raise\n", Verdict.NONE),
        ("try:\n    from tvm.contrib import msc\nexcept ImportError:\n    with ctx():\n        raise\n", Verdict.NONE),
        ("try:\n    from tvm.contrib import msc\nexcept ModuleNotFoundError:\n    pass\nexcept ImportError:\n    raise\n",
         Verdict.NONE),
        # the swallowed failure comes back at once
        ("try:\n    from tvm.contrib import msc\nexcept ImportError:\n    msc = None\nNAME = msc.__name__\n", Verdict.NONE),
        ("try:\n    from tvm.contrib import msc\nexcept ImportError:\n    msc = None\nif msc:\n    NAME = msc.__name__\n",
         Verdict.OPTIONAL),
        ("try:\n    from tvm.contrib import msc\nexcept ImportError:\n    msc = fallback\nNAME = msc.__name__\n",
         Verdict.OPTIONAL),
    ],
)
def test_handlers_by_the_exception_deletion_raises(code, expected):
    (found,) = _verdicts(code)
    assert found[2] is expected, code


def test_dynamic_import_spellings():
    facts = facts_of(
        """\
        import builtins
        import importlib
        import pytest
        import runpy
        load = importlib.import_module
        __import__("contrib", globals(), None, ["core"], 1)
        importlib.import_module(".b", package="tvm.a")
        importlib.import_module(".c", __package__)
        load("tvm.d")
        getattr(importlib, "import_module")("tvm.e")
        importlib.__import__("tvm.f")
        builtins.__import__("tvm.g")
        exec("import tvm.h")
        pytest.importorskip("tvm.i")
        runpy.run_module("tvm.j")
        exec(code)
        eval("1 + 1")
        """,
        module="pkg.mod",
    )
    dynamic = [(s.target, s.line, s.is_optional, s.raises) for s in facts.sites if s.line > 5]
    assert dynamic == [
        ("pkg.contrib", 6, False, ""),
        ("pkg.contrib.core", 6, True, ""),  # a missing fromlist submodule is skipped
        ("tvm.a.b", 7, False, ""),
        ("pkg.c", 8, False, ""),
        ("tvm.d", 9, False, ""),
        ("tvm.e", 10, False, ""),
        ("tvm.f", 11, False, ""),
        ("tvm.g", 12, False, ""),
        ("tvm.h", 13, False, ""),
        ("tvm.i", 14, True, ""),
        ("tvm.j", 15, False, "ImportError"),
    ]
    assert [(u.line, u.prefix, u.reason.value) for u in facts.unresolved] == [(16, "", "target is not a literal")]


def test_functions_that_run_at_import_time_get_an_import_time_copy():
    facts = facts_of(
        """\
        def helper():
            import tvm.a
        def deco(fn):
            helper()
            return fn
        @deco
        def f(x=None) -> None:
            import tvm.b
        def g(x=helper):
            import tvm.c
        class C:
            def __init__(self):
                import tvm.d
        INSTANCE = C()
        if USE_MSC:
            g()
        """
    )
    runs = sorted((s.target, s.execution.value, s.state_required("msc")) for s in facts.sites)
    assert runs == [
        ("tvm.a", "call", None),
        ("tvm.a", "import", None),  # deco(f) calls helper()
        ("tvm.b", "call", None),  # f is decorated, not called
        ("tvm.c", "call", None),
        ("tvm.c", "import", True),  # called under the toggle
        ("tvm.d", "call", None),
        ("tvm.d", "import", None),  # C() runs __init__
    ]


def test_a_modules_own_eval_or_exec_is_no_dynamic_import():
    """TVM v0.16's tests/python/relay/test_adt.py defines `def eval(expr)` and calls it 40 times:
    those calls run the relay evaluator, not Python's eval, so no SG208 - while the builtin exec in
    a file that does not rebind it is still scanned."""
    own = b'def eval(expr):\n    return expr\n\n\nx = eval(f"{1}")\ny = eval(make())\n'
    facts = scan_source(own, path="t.py", module="pkg.t", is_package=False, matcher=ToggleMatcher([]))
    assert (facts.sites, facts.unresolved) == ((), ())
    builtin = b'x = eval(make())\nexec("import pkg.feat")\n'
    facts = scan_source(builtin, path="t.py", module="pkg.t", is_package=False, matcher=ToggleMatcher([]))
    assert [(s.target, s.line) for s in facts.sites] == [("pkg.feat", 2)]
    assert [u.line for u in facts.unresolved] == [1]


def test_walrus_bindings_found_in_the_statements_that_hold_them():
    """The binding pass visits only top-level statements holding `:=` (found with `ast`, paired
    in order, `a; b` being two `ast` statements); the toggle read through a walrus target is
    still followed, in a function and at module level."""
    from scopeguard.facts.bindings import _statements_with_walrus

    source = b"x = 1; y = 2\nif (on := USE_A):\n    import m\n\ndef f():\n    if (g := USE_A):\n        import n\n"
    tree = libcst_parse(source)
    assert [type(s).__name__ for s in _statements_with_walrus(tree, ast.parse(source))] == ["If", "FunctionDef"]
    facts = scan_source(source + b"if on:\n    import k\n", path="w.py", module="pkg.w", is_package=False,
                        matcher=ToggleMatcher([Toggle("a", ("USE_A",), ())]))
    assert {s.target: s.state_required("a") for s in facts.sites} == {"m": True, "n": True, "k": True}


def libcst_parse(source: bytes):
    import libcst

    return libcst.parse_module(source)


@pytest.mark.parametrize("target,prefix", [
    ('"sqlalchemy.dialects.%s" % (name,)', "sqlalchemy.dialects."),  # SQLAlchemy's dialect loader
    ('"pkg.plugins.{}".format(name)', "pkg.plugins."),
    ('"100%% pkg.%s" % name', "100% pkg."),
    ('"pkg.x" % name', ""),  # no placeholder: nothing known
])
def test_a_template_filled_at_run_time_keeps_its_literal_start(target, prefix):
    """A %- or str.format template's text before its first placeholder is a known prefix: SG206
    (may name a scope) where it could, nothing where it cannot, SG208 only when nothing is known."""
    source = f"import importlib\n\n\ndef load(name):\n    return importlib.import_module({target})\n".encode()
    facts = scan_source(source, path="l.py", module="pkg.l", is_package=False, matcher=ToggleMatcher([]))
    assert [(u.line, u.prefix) for u in facts.unresolved] == [(5, prefix)]
    assert [d.term[0] for d in facts.dynamic] == ([("lit", prefix)] if prefix else [("any", "")])


def test_evaluation_past_its_nesting_bound_is_unknown_not_a_crash(monkeypatch):
    """Attribute bindings start new chains of evaluation; on torch 2.13's
    _dynamo/bytecode_transformation.py they nested past Python's stack and the whole file was
    lost (SG001). All evaluations of a file now share one bound: past it a value is unknown, so
    the import is not guarded (never the other way round), and the file is analysed."""
    from scopeguard.facts import toggle_eval

    source = b"from pkg.config import USE_A\n\nif USE_A:\n    import m\n"
    matcher = ToggleMatcher([Toggle("a", ("USE_A",), ())])
    facts = scan_source(source, path="p.py", module="pkg.p", is_package=False, matcher=matcher)
    assert [s.state_required("a") for s in facts.sites if s.target == "m"] == [True]
    monkeypatch.setattr(toggle_eval, "_MAX_NESTING", -1)
    facts = scan_source(source, path="p.py", module="pkg.p", is_package=False, matcher=matcher)
    assert facts.error is None
    assert [s.state_required("a") for s in facts.sites if s.target == "m"] == [None]
