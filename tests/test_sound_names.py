"""Issue 24 (closed world for names and handlers) and issue 27.1 (toggle kinds).

- a toggle (or `__all__`) written other than by a plain binding is unknown: not a guard;
- a handler makes an import optional only when it provably completes (handlers.completes);
- a toggle spelling written `name()` is a predicate: only a call reads it, and a bare read of a
  function (configured with `()`, defined or called in the file) is the function object, always
  true — the repro of issue 27.1 reports SG201, and the guard the message suggests, applied,
  silences check and keeps CPython from loading the scope.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from scopeguard.base.model import Toggle
from scopeguard.facts import ToggleMatcher, scan_source
from scopeguard.facts.file_context import WalkContext
from scopeguard.facts.handlers import completes
from tests.inprocess import run_main

FEAT = Toggle("feat", on_when_true=("USE_FEAT",))


def sites(source: str, toggles=(FEAT,), module: str = "pkg.user"):
    facts = scan_source(textwrap.dedent(source).encode(), path="pkg/user.py", module=module, is_package=False,
                        matcher=ToggleMatcher(toggles))
    assert facts.error is None
    return [s for s in facts.sites if s.target.startswith("pkg.feat") or s.dotted.startswith("pkg.feat")]


def guarded(source: str, toggles=(FEAT,)) -> bool:
    found = sites(source, toggles)
    assert len(found) == 1, found
    return found[0].state_required("feat") is True


def optional(source: str) -> bool:
    found = sites(source)
    assert len(found) == 1, found
    return found[0].is_optional  # an OPTIONAL guard catches the failure, no handler between converts it


# -- namespace writes ------------------------------------------------------------------------------

@pytest.mark.parametrize("write", [
    'globals().update(USE_FEAT=True)',
    'globals().update({"USE_FEAT": True})',
    'globals().update(_table)',
    'globals()[_key] = True',
    'globals().setdefault("USE_FEAT", True)',
    'globals().__setitem__("USE_FEAT", True)',
    'vars()["USE_FEAT"] = True',
    'exec("USE_FEAT = True")',
    'exec("USE_FEAT = True", globals())',
    'exec(_code)',
    'eval("(USE_FEAT := 1)")',
    'setattr(sys.modules[__name__], "USE_FEAT", True)',
    'setattr(sys.modules[__name__], _name, True)',
    'USE_FEAT += 1',
    'del USE_FEAT',
    'for USE_FEAT in (1,): pass',
    'import os as USE_FEAT',
])
def test_a_toggle_written_other_than_plainly_is_no_guard(write):
    source = f"""
    import sys
    from pkg.config import USE_FEAT
    {write}
    if USE_FEAT:
        from pkg import feat
    """
    assert not guarded(source)


@pytest.mark.parametrize("write", [
    'exec("x = 1", {})',  # its own namespace
    'exec("OTHER = True")',  # another name
    'globals()["OTHER"] = True',
    'globals().update(OTHER=True)',
    'print(globals())',
])
def test_writes_of_other_names_keep_the_guard(write):
    source = f"""
    from pkg.config import USE_FEAT
    {write}
    if USE_FEAT:
        from pkg import feat
    """
    assert guarded(source)


def test_a_plain_read_is_still_a_guard():
    assert guarded("from pkg.config import USE_FEAT\nif USE_FEAT:\n    from pkg import feat\n")


@pytest.mark.parametrize("mutation, expected", [
    ('__all__ = ["a"]', ("a",)),
    ('__all__ = ["a"]\n__all__ += ["feat"]', ("a", "feat")),
    ('__all__ = ["a"]\n__all__.append("feat")', ("a", "feat")),
    ('__all__ = ["a"]\n__all__.extend(["feat", "b"])', ("a", "feat", "b")),
    ('__all__ = ["a"]\n__all__.append(_name)', ("*",)),
    ('__all__ = ["a"]\n__all__ += _more', ("*",)),
    ('__all__ = ["a"]\nglobals().update(_table)', ("*",)),
    ('__all__ = ["a"]\nglobals()["__all__"] = _names', ("*",)),
    ('__all__ = ["a"]\ndef f():\n    __all__.append("feat")', ("*",)),
    ('__all__ = _compute()', ("*",)),
    ('x = 1', None),
])
def test_dunder_all_mutations(mutation, expected):
    facts = scan_source(mutation.encode() + b"\n", path="pkg/__init__.py", module="pkg", is_package=True,
                        matcher=ToggleMatcher(()))
    assert facts.dunder_all == expected


# -- handlers --------------------------------------------------------------------------------------

CONTEXT = WalkContext(logger_names=frozenset({"logging", "logger"}))


def body(text: str):
    return cst.parse_module(textwrap.dedent(text)).body


@pytest.mark.parametrize("text, done", [
    ("pass", True),
    ("feat = None", True),
    ("HAS_FEAT = False\nfeat = None", True),
    ("self.feat = None", True),
    ('logger.warning("no feat: %s", error)', True),
    ('logging.info(f"no feat {error}")', True),
    ('print("no feat", file=sys.stderr)', True),
    ("from pkg import fallback as feat", True),
    ("def feat():\n    raise RuntimeError('x')", True),
    ("class feat:\n    pass", True),
    ("if X:\n    feat = None\nelse:\n    feat = 1", True),
    ('message = "no feat: " + str(error)', True),
    ("total = count + 1", False),
    ("items.append(x)", False),
    ('warnings.warn("feat is missing")', False),  # raises under an "error" filter
    ("_fail()", False),  # a project function
    ("raise", False),
    ('raise RuntimeError("need feat") from error', False),
    ("assert False", False),
    ("sys.exit(1)", False),
    ("feat = make()", False),
    ("feat = table[key]", False),
    ("n += 1", False),
    ("with lock:\n    pass", False),
    ("for x in y:\n    pass", False),
    ('logger.warning("x")\nraise', False),
    ("@decorate\ndef feat():\n    pass", False),
    ("class feat(Base):\n    pass", False),
    ("class feat(metaclass=Meta):\n    pass", False),
    ("if check():\n    pass", False),
    ("other.warning('x')", False),  # not a logger this file binds
])
def test_completes(text, done):
    assert completes(body(text), CONTEXT) is done


@pytest.mark.parametrize("handler, is_optional", [
    ("    pass", True),
    ('    logger.warning("feat is missing")', True),
    ('    warnings.warn("feat is missing")', False),
    ("    _fail()", False),
    ("    assert False", False),
])
def test_optional_only_when_the_handler_completes(handler, is_optional):
    source = f"""
    import logging
    import warnings
    logger = logging.getLogger(__name__)
    try:
        from pkg import feat
    except ImportError:
    {handler}
    """
    assert optional(source) is is_optional


def test_a_finally_that_may_raise_undoes_the_handler():
    source = """
    try:
        from pkg import feat
    except ImportError:
        feat = None
    finally:
        _cleanup()
    """
    assert not optional(source)
    assert optional(source.replace("_cleanup()", "pass"))


def test_a_print_rebound_by_the_file_is_not_the_builtin():
    source = """
    def print(*args):
        raise RuntimeError("no")
    try:
        from pkg import feat
    except ImportError:
        print("missing")
    """
    assert not optional(source)


# -- toggle kinds (issue 27.1) ---------------------------------------------------------------------

PRED = Toggle("feat", on_when_true=("is_feat_available()",))
BARE = Toggle("feat", on_when_true=("is_feat_available",))


@pytest.mark.parametrize("toggle, source, is_guard", [
    (PRED, "from pkg.utils import is_feat_available\nif is_feat_available():\n    from pkg import feat\n", True),
    (PRED, "from pkg.utils import is_feat_available\nif is_feat_available:\n    from pkg import feat\n", False),
    (PRED, "from pkg import utils\nif utils.is_feat_available:\n    from pkg import feat\n", False),
    (BARE, "from pkg.utils import is_feat_available\nif is_feat_available():\n    from pkg import feat\n", True),
    # a bare read where the file calls it elsewhere, defines it, or binds a lambda: the function
    (BARE, "from pkg.utils import is_feat_available\nOK = is_feat_available()\n"
           "if is_feat_available:\n    from pkg import feat\n", False),
    (BARE, "def is_feat_available():\n    return False\nif is_feat_available:\n    from pkg import feat\n", False),
    (BARE, "is_feat_available = lambda: False\nif is_feat_available:\n    from pkg import feat\n", False),
    # a bare read of a value spelling stays a value read
    (BARE, "from pkg.utils import is_feat_available\nif is_feat_available:\n    from pkg import feat\n", True),
])
def test_a_spelling_kind_decides_what_reads_it(toggle, source, is_guard):
    assert guarded(source, (toggle,)) is is_guard


def test_not_of_a_function_object_never_runs():
    # constant false: the branch needs every toggle on (the walk's reading of `if False:`)
    assert guarded("from pkg.utils import is_feat_available\nif not is_feat_available:\n    from pkg import feat\n",
                   (PRED,))


@pytest.mark.parametrize("spelling", ["is_feat(1)", "is_feat(", "a b()", "(x)"])
def test_config_rejects_a_spelling_that_is_no_name_or_predicate(tmp_path, spelling):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [tool.scopeguard]
        source_roots = ["."]
        [[tool.scopeguard.scopes]]
        name = "pkg.feat"
        toggle = "feat"
        [tool.scopeguard.toggles.feat]
        on_when_true = [{json.dumps(spelling)}]
        """))
    code, out, err = run_main("check", cwd=tmp_path)
    assert code == 2
    assert "is not a toggle spelling" in err


def _repro(root: Path, spelling: str) -> None:
    pkg = root / "pkg"
    (pkg / "feat").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "feat" / "__init__.py").write_text("")
    (pkg / "utils.py").write_text("def is_feat_available():\n    return False\n")
    (pkg / "core.py").write_text(
        "from pkg.utils import is_feat_available\n\nif is_feat_available:\n    from pkg import feat\n")
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [tool.scopeguard]
        source_roots = ["."]
        [[tool.scopeguard.scopes]]
        name = "pkg.feat"
        toggle = "feat"
        [tool.scopeguard.toggles.feat]
        on_when_true = [{json.dumps(spelling)}]
        """))


def _loads_feat(root: Path) -> bool:
    probe = "import sys, pkg.core; print('pkg.feat' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout.strip() == "True"


def test_issue_27_repro_reports_sg201_and_its_advice_is_a_real_guard(tmp_path):
    _repro(tmp_path, "is_feat_available()")
    assert _loads_feat(tmp_path)  # CPython: the function object is true
    code, out, _ = run_main("check", "--format", "json", "--no-cache", cwd=tmp_path)
    assert code == 1
    found = json.loads(out)["violations"]
    assert [(v["code"], v["path"], v["line"]) for v in found] == [("SG201", "pkg/core.py", 4)]
    advice = re.search(r"guard it with `(if [^`]+:)`", found[0]["message"])
    assert advice is not None and advice.group(1) == "if is_feat_available():"
    # the advice, applied in the copy
    core = tmp_path / "pkg" / "core.py"
    core.write_text(core.read_text().replace("if is_feat_available:", advice.group(1)))
    assert not _loads_feat(tmp_path)
    code, out, _ = run_main("check", "--format", "json", "--no-cache", cwd=tmp_path)
    assert (code, json.loads(out)["violations"]) == (0, [])


# -- the rest of the import machinery (issue 24) ---------------------------------------------------

def scanned(source: str):
    return scan_source(textwrap.dedent(source).encode(), path="pkg/user.py", module="pkg.user", is_package=False,
                       matcher=ToggleMatcher(()))


@pytest.mark.parametrize("call, target", [
    ('importlib.resources.files("pkg.feat")', "pkg.feat"),
    ('importlib.resources.read_text("pkg.feat", "x.txt")', "pkg.feat"),
    ('pkgutil.get_data("pkg.feat", "x.txt")', "pkg.feat"),
    ('pkgutil.resolve_name("pkg.feat:thing")', "pkg.feat"),
    ('pkgutil.get_loader("pkg.feat.core")', "pkg.feat"),  # imports the parent
    ('pydoc.locate("pkg.feat")', "pkg.feat"),  # CPython: pydoc.locate imports the module it names
])
def test_machinery_calls_with_a_literal_are_imports(call, target):
    facts = scanned(f"import importlib.resources\nimport pkgutil\nimport pydoc\n{call}\n")
    assert [s.target for s in facts.sites if s.kind.name == "DYNAMIC"] == [target]
    assert facts.unresolved == ()


@pytest.mark.parametrize("call", [
    "importlib.resources.files(name)",
    'runpy.run_path("tools/x.py")',
    'importlib.util.spec_from_file_location("x", path)',
    "spec.loader.exec_module(module)",
    "loader.load_module()",
    'getattr(importlib, name)("pkg.feat")',
    "pkgutil.resolve_name(name)",
    "pydoc.locate(name)",
])
def test_machinery_calls_that_cannot_be_named_are_unresolved(call):
    facts = scanned(f"import importlib\nimport importlib.resources\nimport importlib.util\nimport pkgutil\nimport runpy\n"
                    f"import pydoc\n{call}\n")
    assert [u.line for u in facts.unresolved] == [7]


def test_a_module_object_as_anchor_imports_nothing():
    facts = scanned("import importlib.resources\nimport pkg\nimportlib.resources.files(pkg)\n")
    assert (facts.unresolved, [s for s in facts.sites if s.kind.name == "DYNAMIC"]) == ((), [])


def test_an_inner_handler_that_raises_another_error_escapes_the_outer_one():
    source = """
    import contextlib
    with contextlib.suppress(ImportError):
        try:
            from pkg import feat
        except ImportError as error:
            raise RuntimeError("need feat") from error
    """
    assert not optional(source)
    assert optional(source.replace('raise RuntimeError("need feat") from error', "pass"))


@pytest.mark.parametrize("call, unresolved", [
    ("spec.loader.load_module()", True),
    ('importlib.machinery.SourceFileLoader("x", path).load_module()', True),
    ("tvm.runtime.load_module(path)", False),  # a shared library, not a Python module
    ("session.load_module(path)", False),
])
def test_load_module_is_a_loaders_only(call, unresolved):
    facts = scanned(f"import importlib.machinery\nimport tvm.runtime\n{call}\n")
    assert bool(facts.unresolved) is unresolved


def test_an_inner_bare_reraise_is_still_caught_outside():
    source = """
    import logging
    logger = logging.getLogger(__name__)
    try:
        try:
            from pkg import feat
        except ImportError:
            logger.warning("no feat")
            raise
    except ImportError:
        pass
    """
    assert optional(source)


def test_an_earlier_handler_that_reraises_the_module_not_found_is_not_bypassed():
    source = """
    try:
        import pkg.feat
    except ModuleNotFoundError:
        raise
    except ImportError:
        pass
    """
    assert not optional(source)
