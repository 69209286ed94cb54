"""`fixtures/tvm_like` holds every TVM toggle pattern of DESIGN.md, guarded right and wrong.

The tests state the exact set of findings (code, importer, line) and, as importantly, the lines
that must stay silent.
"""

from __future__ import annotations

from scopeguard.config import load_config
from scopeguard.run.pipeline import analyse

from .conftest import FIXTURES

TVM_LIKE = FIXTURES / "tvm_like"

EXPECTED = {
    ("SG204", "tvm.contrib.cutlass.build", 3),  # try/except ImportError is no toggle; and so `import tvm`
    # loads msc with USE_MSC off: that SG402 is a related note of this finding (issue 16, one decision)
    ("SG202", "tvm.contrib.cutlass.build", 9),  # lazy, unguarded
    ("SG403", "tvm.driver.build", 18),  # relax's toggle guarding msc
    ("SG201", "tvm.driver.build", 21),  # `if not USE_MSC:` runs it only when msc is off
    ("SG201", "tvm.driver.build", 24),  # `USE_MSC or FORCE`: FORCE alone runs it
    ("SG205", "tvm.driver.build", 26),  # importlib.import_module("tvm.contrib.msc")
    ("SG206", "tvm.driver.build", 40),  # importlib.import_module(f"tvm.contrib.{name}")
    ("SG203", "tvm.ir.printer", 5),  # TYPE_CHECKING only
    ("SG101", "tvm.relax.frontend.onnx", 2),  # relax uses msc without declaring it
    ("SG402", "tvm.script.parser.relax", 2),  # tvm -> script -> parser -> parser.relax -> relax
    ("SG201", "tests/python/ir/test_ir.py", 4),  # a core test that dies with msc
    ("SG301", "tvm", 9),  # deleting relax breaks `import tvm` via script -> parser -> parser.relax
}

# Lines that look like leaks but are guarded, allowed, declared or not imports at all.
MUST_STAY_SILENT = {
    ("python/tvm/__init__.py", 13),  # if not _RUNTIME_ONLY: from . import relax
    ("python/tvm/__init__.py", 16),  # _RUNTIME_ONLY and libinfo().get("USE_MSC") == "ON"
    ("python/tvm/driver/build.py", 11),  # libinfo().get("USE_MSC", "OFF") == "ON"
    ("python/tvm/driver/build.py", 14),  # os.environ.get("TVM_USE_MSC", "0").lower() in ("1", "on", "true")
    ("python/tvm/driver/build.py", 17),  # relax under relax's own toggle
    ("python/tvm/driver/build.py", 28),  # suppressed inline with a reason
    ("python/tvm/driver/build.py", 34),  # after `if not USE_MSC: raise`
    ("python/tvm/driver/build.py", 45),  # support.libinfo().get("USE_MSC", "OFF") == "ON"
    ("python/tvm/runtime/module.py", 12),  # runtime.Module.import_module: a method
    ("python/tvm/contrib/msc/core.py", 1),  # msc declares `uses = ["tvm.relax"]`
    ("python/tvm/script/parser/relax/__init__.py", 3),  # the allowed integration point
    ("tests/python/ir/test_ir.py", 10),  # inside @tvm.testing.requires_msc
    ("tests/python/relax/test_expr.py", 2),  # relax's own tests (extra_paths)
    ("tests/python/contrib/test_msc/test_core.py", 1),  # msc's own tests
}


def _analysis(**kwargs):
    return analyse(load_config(TVM_LIKE / "pyproject.toml"), **kwargs)


def test_exact_findings():
    found = {(v.code, v.importer, v.line) for v in _analysis().violations}
    assert found == EXPECTED


def test_guarded_allowed_and_declared_lines_stay_silent():
    flagged = {(v.path, v.line) for v in _analysis().violations}
    assert flagged & MUST_STAY_SILENT == set()


def test_root_import_chains_are_reported():
    violations = _analysis().violations
    chains = {v.scope: v.chain for v in violations if v.code == "SG402"}
    # an SG402 whose last link has a finding of its own is a related note of that finding (issue 16)
    chains.update({v.scope: n.chain for v in violations for n in v.related if n.code == "SG402"})
    assert [(v.code, v.line, [n.code for n in v.related]) for v in violations if v.importer == "tvm.contrib.cutlass.build"
            and v.line == 3] == [("SG204", 3, ["SG402"])]
    assert chains == {
        "tvm.contrib.msc": ("tvm", "tvm.contrib", "tvm.contrib.cutlass", "tvm.contrib.cutlass.build", "tvm.contrib.msc"),
        "tvm.relax": ("tvm", "tvm.script", "tvm.script.parser", "tvm.script.parser.relax", "tvm.relax"),
    }


def test_select_and_ignore_by_prefix():
    assert {v.code for v in _analysis(select=["SG2"]).violations} == {"SG201", "SG202", "SG203", "SG204", "SG205", "SG206"}
    assert {v.code for v in _analysis(select=["SG2"], ignore=["SG20"]).violations} == set()
    assert {v.code for v in _analysis(ignore=["SG2", "SG4"]).violations} == {"SG101", "SG301"}


def test_cli_prints_findings_and_summary_and_exits_1(run_cli):
    code, out, err = run_cli("check", "fixtures/tvm_like")
    assert code == 1, err
    lines = out.splitlines()
    assert "fixtures/tvm_like/python/tvm/driver/build.py:26:11: SG205 tvm.driver.build imports tvm.contrib.msc" in out
    assert lines[-1].startswith("Found 12 violation(s) in 7 file(s) (SG101 x1, SG201 x3,")
    assert lines[-1].endswith("26 file(s) analysed.")
    # Every finding names importer, imported module and scope, and offers ways out.
    sg201 = next(line for line in lines if ":21:" in line and "SG201" in line)
    assert "tvm.driver.build imports tvm.contrib.msc (scope tvm.contrib.msc)" in sg201
    assert "`if not USE_MSC` runs it only while toggle msc is OFF" in sg201
    assert "guard it with `if USE_MSC:`" in sg201 and "`allow`" in sg201


def test_cli_paths_are_relative_to_the_working_directory(run_cli):
    code, out, _ = run_cli("check", cwd=TVM_LIKE)
    assert code == 1
    assert out.startswith("python/tvm/__init__.py:9:37: SG301 ")
