"""`scopeguard fix --add-suppressions`: every current finding suppressed on its statement; twice = once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .conftest import FIXTURES
from .inprocess import run_main


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and ".scopeguard_cache" not in p.parts}


@pytest.mark.parametrize("fixture", ["tvm_like", "deletable"])
def test_add_suppressions_then_check_is_clean_and_idempotent(fixture, tmp_path):
    project = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, project, ignore=shutil.ignore_patterns("__pycache__"))
    before = _tree(project)
    code, _, _ = run_main("check", str(project), "--no-cache")
    assert code == 1
    code, _, err = run_main("fix", "--add-suppressions", "--reason", "adopted 2026-12", str(project), "--no-cache")
    assert code == 0, err
    once = _tree(project)
    changed = {p for p in once if once[p] != before.get(p)}
    assert changed and all(p.endswith(".py") for p in changed)
    for path in changed:  # only lines with a finding changed: each gained one comment
        old, new = before[path].decode().splitlines(), once[path].decode().splitlines()
        assert len(old) == len(new)
        for a, b in zip(old, new):
            assert a == b or (b.startswith(a.rstrip()) and "# scopeguard: ignore[" in b and "adopted 2026-12" in b)
    code, out, _ = run_main("check", str(project), "--no-cache")
    assert code == 0, out
    code, _, _ = run_main("fix", "--add-suppressions", "--reason", "adopted 2026-12", str(project), "--no-cache")
    assert code == 0
    assert _tree(project) == once


def test_exact_comment_on_the_statement(tmp_path):
    project = tmp_path / "tvm_like"
    shutil.copytree(FIXTURES / "tvm_like", project, ignore=shutil.ignore_patterns("__pycache__"))
    run_main("fix", "--add-suppressions", "--reason", "r", str(project), "--no-cache")
    lines = (project / "python/tvm/contrib/cutlass/build.py").read_text().splitlines()
    # SG402 (`import tvm` loads msc through this line) is a note of the SG204 here: suppressing the
    # primary silences it, so the comment names SG204 only
    assert lines[2] == "    from tvm.contrib import msc  # scopeguard: ignore[SG204] r"
    assert lines[8] == "    from tvm.contrib.msc.core import optimize  # scopeguard: ignore[SG202] r"


def test_never_writes_through_a_symlink_out_of_the_project(tmp_path):
    project = tmp_path / "deletable"
    shutil.copytree(FIXTURES / "deletable", project, ignore=shutil.ignore_patterns("__pycache__"))
    outside = tmp_path / "outside.py"
    engine = project / "src/app/core/engine.py"
    outside.write_text("from app.legacy import formats\n")
    engine.unlink()
    os.symlink(outside, engine)
    run_main("fix", "--add-suppressions", str(project), "--no-cache")
    assert outside.read_text() == "from app.legacy import formats\n"


def test_reason_must_be_one_line(tmp_path):
    code, _, err = run_main("fix", "--add-suppressions", "--reason", "a\nb", str(FIXTURES / "deletable"), "--no-cache")
    assert code == 2
    assert "one line" in err
