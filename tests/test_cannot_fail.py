"""Dynamic imports that may load a scope but cannot fail because it is gone (issue 26).

`pkgutil.walk_packages` lists and imports only packages that exist (a deleted one is not listed),
and a computed import inside a handler catching ModuleNotFoundError falls back: with nothing else
broken, neither makes the import-time verdict unknown; the plan lists them apart, with why. A
handler for another exception does not count. The fixture `reach_cannotfail` is checked against
CPython (`tests/reach/runtime.py`): scope present, every module imports; deleted, exactly the
modules the tests name break.
"""

from __future__ import annotations

import functools
import json

import pytest

from .conftest import FIXTURES
from .inprocess import run_main
from .reach.runtime import runtime_truth

FIXTURE = FIXTURES / "reach_cannotfail"


@functools.cache
def _plan(scope: str, *extra: str):
    code, out, err = run_main("delete-plan", scope, ".", "--no-cache", "--format", "json", *extra, cwd=FIXTURE)
    assert code == 1, err
    return json.loads(out)


@functools.cache
def _truth(scope: str, tmp):
    return runtime_truth(FIXTURE, ["src"], scope, {}, workdir=tmp)


def test_an_enumerator_and_a_handled_import_cannot_fail_and_python_agrees(tmp_path_factory):
    truth = _truth("cf.plugins.extra", tmp_path_factory.getbasetemp())
    assert not truth.failing_anyway and truth.broken == {}
    plan = _plan("cf.plugins.extra")
    assert [(c["path"], c["line"], c["at_import"]) for c in plan["cannot_fail"]] == [
        ("src/cf/lister.py", 5, True), ("src/cf/styles.py", 8, True)]
    assert "a deleted one is not listed" in plan["cannot_fail"][0]["why"]
    assert "catching the ModuleNotFoundError" in plan["cannot_fail"][1]["why"]
    # cf.strict's handler catches ValueError only: it stays unknown (and may load the scope)
    assert [(u["path"], u["line"]) for u in plan["unknown"]] == [("src/cf/strict.py", 7)]
    assert plan["import_time"] == "unknown"
    # without that one, nothing stands between the plan and Clean at import time, as Python agrees
    alone = _plan("cf.plugins.extra", "--exclude", "src/cf/strict.py")
    assert alone["unknown"] == [] and alone["broken"] == []
    assert alone["import_time"] == "clean"


def test_a_handler_for_another_exception_is_no_protection(tmp_path_factory):
    truth = _truth("cf.plugins.strict_target", tmp_path_factory.getbasetemp())
    assert set(truth.broken) == {"cf.strict"}
    assert "ModuleNotFoundError" in truth.broken["cf.strict"]
    plan = _plan("cf.plugins.strict_target")
    assert plan["import_time"] != "clean"
    assert ("src/cf/strict.py", 7, True) in [(u["path"], u["line"], u["at_import"]) for u in plan["unknown"]]
