"""Names a scope attaches elsewhere (issue 26, item 5).

A scope that, when it loads, writes a name into a module outside it — a plain attribute
(`sk.util.dsp_scale = f`, SG103's fact) or a name handed to a namespace writer
(`builder.register_namespace(name, ns)` doing `globals()[name] = ns` and `setattr` on the modules
its body names) — takes that name with it when it is deleted. The fixture `reach_attached` models
both (in the shape of TVM's backends registering `T.metal`), with a reader run at import time
through a decorator that calls the function it decorates (as TVMScript's `@T.prim_func` parses
one), a reader run only when called, and one under `except AttributeError`. Every claim about what
breaks is checked against CPython (`tests/reach/runtime.py`: the scope's folder deleted in a copy,
every module imported in a fresh interpreter; with the scope present everything imports).
"""

from __future__ import annotations

import functools
import json
import shutil
import textwrap

import pytest

from scopeguard.base.model import AttachFact, FileFacts
from scopeguard.collect.codec import decoder, encoder
from scopeguard.facts import ToggleMatcher, scan_source

from .conftest import FIXTURES
from .inprocess import run_main
from .reach.runtime import runtime_truth

FIXTURE = FIXTURES / "reach_attached"


def _scan(text: str, module: str = "pkg.mod"):
    return scan_source(textwrap.dedent(text).encode(), path="src/pkg/mod.py", module=module, is_package=False,
                       matcher=ToggleMatcher(()))


def test_a_namespace_writer_and_a_loop_over_a_functions_dict_keys_are_facts():
    facts = _scan('''
        import sys
        from pkg import builder

        def register(name, value, *, flag=False):
            globals()[name] = value
            for module_name in ["pkg.api", "pkg.api.sub"]:
                setattr(sys.modules.get(module_name), name, value)

        def not_a_writer(name, value):
            globals()["fixed"] = value
            setattr(value, "x", name)

        def table():
            if sys.platform == "x":
                return {"a": 1}
            return {"b": 2}

        def install():
            for key, ns in table().items():
                builder.register(key, ns)
            for other in ("c", "d"):
                builder.register(other, None)
            for changed in ("e",):
                changed = changed.upper()
                builder.register(changed, None)
        ''')
    assert facts.attaches == (
        AttachFact("writer", "register", "name", 6, 1, 0, ("pkg.mod", "pkg.api", "pkg.api.sub")),
        AttachFact("argument", "install", "pkg.builder.register", 21, 9, 0, ("a", "b")),
        AttachFact("argument", "install", "pkg.builder.register", 23, 9, 0, ("c", "d")),
    )
    # the new field round-trips through the fact store's codec
    text = json.dumps(encoder(FileFacts)(facts))
    assert decoder(FileFacts)(json.loads(text)).attaches == facts.attaches


# --- against CPython -----------------------------------------------------------------------

@functools.cache
def _plan(scope: str, fmt: str = "json"):
    code, out, err = run_main("delete-plan", scope, ".", "--no-cache", "--format", fmt, cwd=FIXTURE)
    assert code == 1, err
    return json.loads(out) if fmt == "json" else out


@functools.cache
def _truth(scope: str, tmp):
    return runtime_truth(FIXTURE, ["src"], scope, {}, workdir=tmp)


TRUTH = {
    # `S.gpu.fill` inside `body`, which `@S.parse` calls while gpu_kernels is imported (line 13:
    # `KERNEL = make(4)` starts it); uses_user imports gpu_kernels.
    "sk.backends.gpu": {
        "sk.kernels.gpu_kernels": ("src/sk/kernels/gpu_kernels.py", 13),
        "sk.kernels.uses_user": ("src/sk/kernels/uses_user.py", 1),
    },
    # `sk.util.dsp_scale(2)` at module level: an attribute the scope sets on sk.util.
    "sk.backends.dsp": {"sk.kernels.dsp_user": ("src/sk/kernels/dsp_user.py", 4)},
}


@pytest.mark.parametrize("scope", sorted(TRUTH))
def test_the_plan_predicts_exactly_what_python_breaks(scope, tmp_path_factory):
    truth = _truth(scope, tmp_path_factory.getbasetemp())
    assert not truth.failing_anyway  # scope present: every module imports
    assert set(truth.broken) == set(TRUTH[scope])
    assert all("AttributeError" in error for error in truth.broken.values())
    plan = _plan(scope)
    assert {b["module"]: (b["path"], b["line"]) for b in plan["broken"]} == TRUTH[scope]
    assert plan["import_time"] == "not clean"


def test_each_read_is_an_edit_with_when_it_runs_and_a_handled_one_is_not():
    plan = _plan("sk.backends.gpu")
    refs = {(r["path"], r["line"]): r["why"] for r in plan["references"]}
    assert set(refs) == {("src/sk/kernels/gpu_kernels.py", 8), ("src/sk/kernels/later.py", 6)}
    assert "`gpu` is attached by the deleted src/sk/backends/gpu/__init__.py:14" in refs[("src/sk/kernels/gpu_kernels.py", 8)]
    assert "read while the module is imported" in refs[("src/sk/kernels/gpu_kernels.py", 8)]
    assert "read when run() runs" in refs[("src/sk/kernels/later.py", 6)]
    assert plan["call_time"] == "not clean"
    (direct,) = [b for b in plan["broken"] if b["module"] == "sk.kernels.gpu_kernels"]
    assert direct["attached"].startswith("sk.script.gpu.fill (src/sk/kernels/gpu_kernels.py:8)")
    assert direct["via"][-1] == "src/sk/kernels/gpu_kernels.py:8 sk.script.gpu.fill"


def test_a_name_computed_at_run_time_leaves_the_verdict_unknown_never_clean(tmp_path_factory):
    truth = _truth("sk.backends.npu", tmp_path_factory.getbasetemp())
    assert set(truth.broken) == {"sk.kernels.npu_user"}
    plan = _plan("sk.backends.npu")
    assert plan["broken"] == []
    assert plan["import_time"] == "unknown"
    (unknown,) = plan["unknown"]
    assert (unknown["path"], unknown["line"], unknown["at_import"]) == ("src/sk/backends/npu/__init__.py", 11, True)
    assert "attaches a name computed at run time to sk.script.builder, sk.script" in unknown["why"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_patch_header_lists_the_reads_for_a_person(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns("__pycache__"))
    code, _, err = run_main("delete-plan", "sk.backends.gpu", ".", "--no-cache", "--apply", "-o", "gpu.patch",
                            cwd=project)
    assert code == 1, err
    header = (project / "gpu.patch").read_text().split("diff --git")[0]
    assert "#   src/sk/kernels/gpu_kernels.py:8: sk.script.gpu.fill -- `gpu` is attached by the deleted" in header
    assert "#   src/sk/kernels/later.py:6: sk.script.gpu.fill" in header
    assert "imports sk.backends.gpu" not in header  # no import names the scope: not worded as one
    assert ("#   src/sk/kernels/gpu_kernels.py:13: sk.kernels.gpu_kernels fails at import time -- it reads "
            "sk.script.gpu.fill, a name only the deleted scope attaches; delete or move this module with the scope "
            "(or add it to the scope's extra_paths)") in header
    assert "#   1 more module(s) fail through those" in header  # sk.kernels.uses_user imports gpu_kernels


def test_an_operator_set_on_a_class_cannot_be_followed_so_the_verdict_is_never_clean(tmp_path_factory):
    # `util.Vec.__add__ = _add`: `Vec(1) + Vec(2)` reads it with no name to match
    truth = _truth("sk.backends.ops", tmp_path_factory.getbasetemp())
    assert set(truth.broken) == {"sk.kernels.ops_user"}
    assert "TypeError" in truth.broken["sk.kernels.ops_user"]
    plan = _plan("sk.backends.ops")
    assert plan["import_time"] == "unknown"
    (unknown,) = plan["unknown"]
    assert (unknown["path"], unknown["line"], unknown["text"]) == ("src/sk/backends/ops/__init__.py", 8,
                                                                   "sets sk.util.Vec.__add__")
    assert "which is not a module: reads through its instances (or operators) cannot be followed" in unknown["why"]
