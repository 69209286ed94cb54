"""Static deletion simulation: the exact modules that break, with their chains, per scope."""

from __future__ import annotations

import json

import pytest

from scopeguard.config import load_config
from scopeguard.analysis import simulate_deletion
from scopeguard.analysis.graph import ImportGraph
from scopeguard.run.pipeline import collect_facts

from .conftest import FIXTURES


def _plan(fixture: str, scope: str, **kwargs):
    config = load_config(FIXTURES / fixture / "pyproject.toml")
    graph = ImportGraph(collect_facts(config))
    return simulate_deletion(graph, next(s for s in config.scopes if s.name == scope), **kwargs)


def _broken(plan):
    return {b.module: (b.line, b.chain) for b in plan.broken}


RELAX_ROOT_CHAIN = ("tvm", "tvm.script", "tvm.script.parser", "tvm.script.parser.relax", "tvm.relax")


def test_tvm_like_msc_breaks_its_direct_importers_only():
    plan = _plan("tvm_like", "tvm.contrib.msc")
    assert plan.deleted_modules == ("tvm.contrib.msc", "tvm.contrib.msc.core")
    assert plan.deleted_paths == (
        "python/tvm/contrib/msc/__init__.py",
        "python/tvm/contrib/msc/core.py",
        "tests/python/contrib/test_msc/test_core.py",
    )
    assert _broken(plan) == {
        # Line 18 (relax's toggle guarding msc) runs before line 21: that is where it fails.
        "tvm.driver.build": (18, ("tvm.driver.build", "tvm.contrib.msc.core")),
        "tvm.relax.frontend.onnx": (2, ("tvm.relax.frontend.onnx", "tvm.contrib.msc.core")),
        "tests/python/ir/test_ir.py": (4, ("tests/python/ir/test_ir.py", "tvm.contrib.msc.core")),
    }
    assert [(x.importer, x.line, x.chain) for x in plan.lazy] == [
        ("tvm.contrib.cutlass.build", 9, ("tvm.contrib.msc.core",))
    ]
    # try/except ImportError (cutlass.build:3), the scope's toggle and TYPE_CHECKING survive.
    assert {(r.path, r.line) for r in plan.guarded} == {
        ("python/tvm/__init__.py", 15),
        ("python/tvm/contrib/cutlass/build.py", 3),
        ("python/tvm/driver/build.py", 11),
        ("python/tvm/driver/build.py", 14),
        ("python/tvm/driver/build.py", 34),
        ("python/tvm/driver/build.py", 45),
        ("tests/python/ir/test_ir.py", 9),
    }
    assert [(r.path, r.line) for r in plan.references] == [("python/tvm/driver/build.py", 40)]  # f"tvm.contrib.{name}"
    assert not plan.clean


def test_tvm_like_relax_breaks_everything_through_the_parser():
    plan = _plan("tvm_like", "tvm.relax")
    broken = _broken(plan)
    assert broken["tvm"] == (9, RELAX_ROOT_CHAIN)
    assert broken["tvm.script.parser.relax"] == (2, ("tvm.script.parser.relax", "tvm.relax"))
    # Modules that never name relax fail because their package (tvm) fails: line 0.
    assert broken["tvm.ir.transform"] == (0, ("tvm.ir.transform", "tvm.ir", *RELAX_ROOT_CHAIN))
    assert broken["tvm.contrib.msc"] == (2, ("tvm.contrib.msc", "tvm.contrib.msc.core", "tvm.relax"))
    assert set(broken) == {
        "tvm", "tvm.contrib", "tvm.contrib.cutlass", "tvm.contrib.cutlass.build", "tvm.contrib.msc",
        "tvm.contrib.msc.core", "tvm.driver", "tvm.driver.build", "tvm.ir", "tvm.ir.printer", "tvm.ir.transform",
        "tvm.runtime", "tvm.runtime.module", "tvm.script", "tvm.script.parser", "tvm.script.parser.relax",
        "tvm.support", "tvm.testing",
        "tests/python/contrib/test_msc/test_core.py", "tests/python/ir/test_ir.py",
    }
    assert "tests/python/relax/test_expr.py" in plan.deleted_paths  # the scope's extra path
    assert {(r.path, r.line) for r in plan.guarded} == {
        ("python/tvm/__init__.py", 12), ("python/tvm/driver/build.py", 17), ("python/tvm/ir/printer.py", 5)
    }


def test_guarded_scope_deletes_cleanly():
    plan = _plan("deletable", "app.gpu")
    assert plan.broken == () and plan.lazy == () and plan.references == ()
    assert plan.clean
    assert plan.deleted_paths == ("src/app/gpu/__init__.py", "src/app/gpu/kernels.py", "tests/gpu/test_kernels.py")
    assert {(r.path, r.line) for r in plan.guarded} == {
        ("src/app/__init__.py", 5), ("src/app/backend.py", 7), ("src/app/backend.py", 10), ("src/app/backend.py", 16)
    }


def test_chains_through_packages_and_calls():
    plan = _plan("deletable", "app.legacy")
    core = ("app.core", "app.core.engine", "app.legacy.formats")
    assert _broken(plan) == {
        "app.core": (1, core),
        "app.core.engine": (2, core[1:]),
        "app.core.util": (0, ("app.core.util", *core)),  # its package app.core fails
        "app.report": (1, ("app.report", "app.core.util", *core)),
        "tests/test_report.py": (1, ("tests/test_report.py", "app.report", "app.core.util", *core)),
    }
    assert [(x.importer, x.imported, x.chain) for x in plan.lazy] == [
        ("app.api", "app.legacy.formats", ("app.legacy.formats",)),
        ("app.service", "app.report", ("app.report", "app.core.util", *core)),
    ]
    assert [(r.path, r.line) for r in plan.guarded] == [("src/app/plugins.py", 3)]  # try/except ImportError


def test_another_toggle_assumed_off_protects_its_imports():
    # Line 18 imports msc under relax's toggle: with relax off as well, it no longer runs.
    plan = _plan("tvm_like", "tvm.contrib.msc", toggles_off=["relax"])
    assert _broken(plan)["tvm.driver.build"] == (21, ("tvm.driver.build", "tvm.contrib.msc"))
    assert plan.toggles_off == ("msc", "relax")


def test_literal_string_naming_the_scope_is_an_edit():
    plan = _plan("deletion_disagree", "plug.backends.fast")
    assert [(r.path, r.line, r.text) for r in plan.references] == [
        ("src/plug/registry.py", 4, "plug.backends.fast")
    ]
    assert set(_broken(plan)) == {"plug.core", "plug.compat"}


def test_sg3_rules_in_check():
    from scopeguard.run.pipeline import analyse

    found = analyse(load_config(FIXTURES / "deletable" / "pyproject.toml"), select=["SG3"]).violations
    assert [(v.code, v.importer, v.line, v.chain) for v in found] == [
        ("SG301", "app.core", 1, ("app.core", "app.core.engine", "app.legacy.formats")),
        ("SG301", "app.report", 1, ("app.report", "app.core.util", "app.core", "app.core.engine", "app.legacy.formats")),
        ("SG302", "app.service", 2, ("app.report", "app.core.util", "app.core", "app.core.engine", "app.legacy.formats")),
    ]


def test_cli_text_plan_and_exit_codes(run_cli):
    code, out, err = run_cli("delete-plan", "app.legacy", "fixtures/deletable", "--no-cache")
    assert code == 1, err
    assert "Delete: 3 Python file(s), 4 line(s)" in out
    assert "  src/app/legacy/: 3 file(s), 4 line(s)" in out
    assert "Broken at import time: 4 module(s), 1 extra-root file(s)" in out
    assert "  src/app/core/util.py (its package fails): app.core.util -> app.core -> app.core.engine -> app.legacy.formats (deleted)" in out
    assert "  src/app/api.py:2: app.api imports app.legacy.formats (deleted)" in out
    code, out, err = run_cli("delete-plan", "app.gpu", "fixtures/deletable", "--no-cache")
    assert code == 0, err
    assert "  tests/gpu/ (extra path): 1 file(s), 5 line(s)" in out
    assert out.rstrip().endswith("Clean: deleting src/app/gpu, tests/gpu is all it takes.")


def test_cli_json(run_cli):
    code, out, _ = run_cli("delete-plan", "tvm.contrib.msc", "fixtures/tvm_like", "--no-cache", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["scope"] == "tvm.contrib.msc" and data["clean"] is False
    assert data["delete"]["targets"] == ["python/tvm/contrib/msc", "tests/python/contrib/test_msc"]
    assert {b["module"]: b["chain"] for b in data["broken"]}["tvm.relax.frontend.onnx"] == [
        "tvm.relax.frontend.onnx", "tvm.contrib.msc.core"
    ]
    assert "verify" not in data


@pytest.mark.parametrize(
    "args, message",
    [
        (["tvm.contrib.mcs"], "'tvm.contrib.mcs' is not a configured scope; did you mean 'tvm.contrib.msc'?"),
        (["tvm.relax", "--toggle-off", "nope"], "unknown toggle(s) for --toggle-off: nope"),
        (["tvm.relax", "--env", "NOEQUALS"], "--env 'NOEQUALS': expected NAME=VALUE"),
        (["tvm.relax", "--timeout", "0"], "--timeout must be positive"),
    ],
)
def test_cli_usage_errors(run_cli, args, message):
    code, _, err = run_cli("delete-plan", args[0], "fixtures/tvm_like", "--no-cache", *args[1:])
    assert code == 2
    assert message in err
