"""Files the running Python's `ast` cannot parse but libcst can (Python 3.12 syntax under 3.11).

Their facts must be those a newer interpreter gives (scan/lowering.py builds the `ast` view from
libcst's tree), or a finding that says the file was not analysed - never a silent loss.
The expectations below are the facts scopeguard gives for SOURCE under Python 3.12.1, where `ast`
parses it natively.
"""

from __future__ import annotations

import ast
import sys

import libcst as cst
import pytest

from scopeguard import facts as scan
from scopeguard.base.model import Registries, Toggle
from scopeguard.facts import ToggleMatcher, scan_source
from scopeguard.facts import lowering
from scopeguard.facts.lowering import lower

from .conftest import FIXTURES

MATCHER = ToggleMatcher(
    [Toggle("msc", on_when_true=("USE_MSC",))],
    Registries(lookup=("get_global_func",), register=("register_global_func",)),
)

SOURCE = '"""Python 3.12 syntax throughout."""\nimport importlib\nimport os\nfrom importlib import import_module as load\nfrom tvm_ffi import get_global_func, register_global_func\nfrom tvm.support import USE_MSC\nimport tvm\n\ntype Vector[T: "tvm.relax.Expr"] = list[T]\ntype Pair = tuple["tvm.ir.Op", int]\n\n_PREFIX = "tvm.relax."\nwidth = 4\n\n\nclass Pass[T, *Ts, **P](tvm.ir.Base, metaclass=type):\n    name = f"{_PREFIX + "transform"}"\n\n    def run[S: (int, str)](self, x: S = "tvm.tir.x") -> S:\n        import tvm.relax.transform\n        return get_global_func(f"{_PREFIX}{"build"}")\n\n\ndef g[T](items: list[T]) -> str:\n    return f"{"\\n".join(str(i) for i in items)!r:>{width}}"\n\n\nif USE_MSC:\n    from tvm.contrib import msc\n    mod = importlib.import_module(f"{"tvm.contrib"}.msc")\nelse:\n    mod = load("tvm.relax.backend")\n\ntry:\n    import tvm.relax.frontend.onnx\nexcept ImportError:\n    pass\n\n@register_global_func("tvm.relax.my_func")\ndef my_func[T](x: T) -> T:\n    return x\n\nlookup = get_global_func(_PREFIX + "analysis." + f\'{\'well_formed\'}\', allow_missing=True)\nos.environ.get("TVM_HOME")\ntvm.ir.Op.fuse = None\nsetattr(tvm.relax, "hook", 1)\ns = f"{\n    "tvm.relax.multiline"  # a comment inside an f-string\n}"\n'


def _guards(guards):
    return tuple((g.kind.value, g.line) for g in guards)


def _newer_syntax(source: bytes):
    raise SyntaxError("as if the running Python were older than the file")


def _facts(source: bytes):
    return scan_source(source, path="x.py", module="tvm.x", is_package=False, matcher=MATCHER)


def test_newer_syntax_gives_the_facts_python_3_12_gives():
    facts = _facts(SOURCE.encode())
    assert facts.error is None
    assert [(s.target, s.name, s.line, s.column, s.kind.value, _guards(s.guards)) for s in facts.sites] == [
        ("importlib", None, 2, 8, "import", ()),
        ("os", None, 3, 8, "import", ()),
        ("importlib", "import_module", 4, 23, "from", ()),
        ("tvm_ffi", "get_global_func", 5, 21, "from", ()),
        ("tvm_ffi", "register_global_func", 5, 38, "from", ()),
        ("tvm.support", "USE_MSC", 6, 25, "from", ()),
        ("tvm", None, 7, 8, "import", ()),
        ("tvm.relax.transform", None, 20, 16, "import", (("function", 19),)),
        ("tvm.contrib", "msc", 29, 29, "from", (("condition", 28),)),
        ("tvm.contrib.msc", None, 30, 11, "dynamic", (("condition", 28),)),
        ("tvm.relax.backend", None, 32, 11, "dynamic", (("condition", 28),)),
        ("tvm.relax.frontend.onnx", None, 35, 12, "import", (("optional", 34),)),
    ]
    assert facts.unresolved == ()
    assert [(r.text, r.line, r.column, r.kind.value, r.is_prefix, _guards(r.guards)) for r in facts.references] == [
        ("tvm.relax.Expr", 9, 16, "literal", False, ()),
        ("tvm.ir.Op", 10, 19, "literal", False, ()),
        ("tvm.relax.", 12, 11, "literal", True, ()),
        ("tvm.relax.transform", 17, 12, "literal", False, ()),
        ("tvm.tir.x", 19, 41, "literal", False, ()),
        ("tvm.relax.build", 21, 16, "lookup", False, (("function", 19),)),
        ("tvm.contrib", 30, 38, "literal", False, (("condition", 28),)),
        ("tvm.relax.my_func", 39, 2, "register", False, ()),
        ("tvm.relax.analysis.well_formed", 43, 10, "lookup", False, (("optional", 43),)),
        ("analysis.", 43, 36, "literal", True, ()),
        ("TVM_HOME", 44, 1, "environment", False, ()),
        ("tvm.relax.multiline", 47, 5, "literal", False, ()),
        ("tvm.relax.multiline", 48, 5, "literal", False, ()),
    ]
    assert [(p.dotted, p.line, p.column, p.how) for p in facts.patches] == [
        ("tvm.ir.Op.fuse", 45, 1, "assign"),
        ("tvm.relax.hook", 46, 1, "setattr"),
    ]


def test_one_type_alias_line_no_longer_drops_the_registry_lookups():
    source = b'from tvm_ffi import get_global_func\ntype X = int\nf = get_global_func("relax.build")\n'
    facts = _facts(source)
    assert facts.error is None
    assert [(r.text, r.line, r.column, r.kind.value) for r in facts.references] == [("relax.build", 3, 5, "lookup")]
    assert [(s.target, s.name, s.line) for s in facts.sites] == [("tvm_ffi", "get_global_func", 1)]


def test_the_view_built_from_libcst_has_python_3_12s_statements():
    """Under 3.11 the facts above come through lowering.py (the running `ast` rejects SOURCE)."""
    if sys.version_info < (3, 12):
        with pytest.raises(SyntaxError):
            ast.parse(SOURCE)
    lowered = lower(cst.parse_module(SOURCE.encode()), SOURCE.encode())
    assert [(type(s).__name__, s.lineno, s.col_offset) for s in lowered.body] == [
        ("Expr", 1, 0), ("Import", 2, 0), ("Import", 3, 0), ("ImportFrom", 4, 0), ("ImportFrom", 5, 0),
        ("ImportFrom", 6, 0), ("Import", 7, 0), ("TypeAlias", 9, 0), ("TypeAlias", 10, 0), ("Assign", 12, 0),
        ("Assign", 13, 0), ("ClassDef", 16, 0), ("FunctionDef", 24, 0), ("If", 28, 0), ("Try", 34, 0),
        ("FunctionDef", 40, 0), ("Assign", 43, 0), ("Expr", 44, 0), ("Assign", 45, 0), ("Expr", 46, 0),
        ("Assign", 47, 0),
    ]
    alias = lowered.body[7]
    assert (alias.name.id, type(alias.name.ctx).__name__, [t.name for t in alias.type_params]) == ("Vector", "Store", ["T"])
    assert (alias.type_params[0].bound.value, alias.type_params[0].bound.col_offset) == ("tvm.relax.Expr", 15)


@pytest.mark.parametrize(
    "path", sorted(p for p in FIXTURES.rglob("*.py") if "latin1_no" not in p.name and "syntax_error" not in p.name),
    ids=lambda p: str(p.relative_to(FIXTURES)),
)
def test_the_view_built_from_libcst_gives_the_facts_of_the_real_ast(path, monkeypatch):
    """The oracle for lowering.py: on files the running `ast` parses, force the libcst-built view."""
    source = path.read_bytes()
    real = _facts(source)

    monkeypatch.setattr(scan, "_parse_ast", _newer_syntax)
    assert _facts(source) == real


def test_python_3_13_type_parameter_defaults_are_read_too():
    facts = _facts(b'def f[T = "tvm.relax.Default"](x: T) -> T:\n    return x\n')
    assert facts.error is None
    assert [(r.text, r.line, r.column) for r in facts.references] == [("tvm.relax.Default", 1, 11)]


def test_a_node_the_lowering_cannot_read_is_reported_not_dropped(monkeypatch):
    """A construct lowering.py does not know (simulated: comparisons) costs the file a finding
    that says so, never its facts silently."""
    monkeypatch.setattr(lowering, "_COMPARE", {})
    monkeypatch.setattr(scan, "_parse_ast", _newer_syntax)
    facts = _facts(b"import tvm.relax\nif 1 < 2:\n    pass\n")
    assert facts.sites == () and facts.error is not None
    assert (facts.error.line, facts.error.column) == (1, 1)
    assert "cannot parse this file" in facts.error.reason and "not analysed" in facts.error.reason
