"""Safety: scopeguard reads the analysed code and never runs it (outside `delete-plan --verify`, which
imports a temporary copy); it writes only into its cache directory and the files the user names.

The project is the TVM-like fixture plus traps: modules whose import writes a marker file and
prints, both inside the source tree and at the project root, where they would shadow the modules
scopeguard itself imports (json, pickle, libcst, tomllib, sitecustomize) if the working
directory ever came first on sys.path. Every command runs as the console script, from the project
root, and the whole temporary tree is compared byte for byte before and after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES

SCRIPT = Path(sys.executable).with_name("scopeguard")
pytestmark = pytest.mark.skipif(not SCRIPT.is_file(), reason="the scopeguard console script is not installed")

TRAP = """\
import os as _os, sys as _sys
with open(_os.path.join({markers!r}, {name!r}), "w") as _marker:
    _marker.write("executed")
print("TRAP EXECUTED: {name}")
_sys.stderr.write("TRAP EXECUTED: {name}\\n")
"""
# Shadows of what scopeguard imports, at the project root (the working directory of every run).
ROOT_TRAPS = ("json.py", "pickle.py", "libcst.py", "tomllib.py", "sitecustomize.py",
              "usercustomize.py", "hashlib.py", "scopeguard.py")
# Modules of the analysed tree that run code at import time.
TREE_TRAPS = ("python/tvm/trap.py", "python/tvm/contrib/msc/trap.py", "python/tvm/__main__.py",
              "tests/python/conftest_trap.py")


@pytest.fixture
def setup(tmp_path):
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "tvm_like", project, ignore=shutil.ignore_patterns(".scopeguard_cache"))
    markers = tmp_path / "markers"
    markers.mkdir()
    for name in ROOT_TRAPS + TREE_TRAPS:
        (project / name).write_text(TRAP.format(markers=str(markers), name=name))
    # A package whose __init__ runs the trap when imported.
    init = project / "python/tvm/contrib/msc/__init__.py"
    init.write_text(init.read_text() + f"\nexec(open({str(project / 'python/tvm/trap.py')!r}).read())\n")
    return tmp_path, project, markers


def snapshot(top: Path) -> dict[str, tuple]:
    """Every entry below `top`: files by content and mode, links by target, folders by mode."""
    state = {}
    for folder, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = Path(folder) / name
            key = str(path.relative_to(top))
            info = path.lstat()
            if path.is_symlink():
                state[key] = ("link", os.readlink(path))
            elif path.is_dir():
                state[key] = ("dir", info.st_mode)
            else:
                state[key] = ("file", info.st_mode, path.read_bytes())
    return state


def changed(before: dict, after: dict) -> set[str]:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    env["XDG_CACHE_HOME"] = str(project.parent / "xdg")
    return subprocess.run([str(SCRIPT), *args], cwd=project, capture_output=True, text=True, env=env, timeout=300,
                          check=False)


# (arguments, exit codes accepted, paths below the temporary folder the run may create or change)
# "xdg" is the user's cache folder ($XDG_CACHE_HOME): the default cache and the MAC key live there.
RUNS = [
    (("check", "--no-cache"), (1,), ()),
    (("check",), (1,), ("xdg",)),
    (("check", "--cache-dir", "{tmp}/outside-cache"), (1,), ("outside-cache", "xdg")),
    (("check", "--no-cache", "--format", "json", "-o", "{tmp}/report.json"), (1,), ("report.json",)),
    (("graph", "--cache-dir", "{tmp}/outside-cache", "-o", "{tmp}/graph.html"), (0,),
     ("outside-cache", "graph.html", "xdg")),
    (("delete-plan", "tvm.contrib.msc", "--format", "json"), (0, 1), ("xdg",)),
]


@pytest.mark.parametrize(("args", "codes", "allowed"), RUNS, ids=[" ".join(r[0]).replace("{tmp}/", "") for r in RUNS])
def test_reads_only_runs_nothing_and_writes_only_where_told(setup, args, codes, allowed):
    tmp, project, markers = setup
    before = snapshot(tmp)
    done = run(project, *(a.replace("{tmp}", str(tmp)) for a in args))
    assert done.returncode in codes, done.stderr
    assert "TRAP EXECUTED" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert list(markers.iterdir()) == [], "analysed code was executed"
    differences = changed(before, snapshot(tmp))
    outside = {key for key in differences if not any(key == a or key.startswith(a + "/") for a in allowed)}
    assert outside == set(), f"written outside the cache and the named outputs: {sorted(outside)}"
    for name in allowed:  # the allowed outputs were really written (the test can fail)
        assert (tmp / name).exists(), name


def test_a_second_cached_run_changes_nothing_at_all(setup):
    # Once the cache is warm, a run that finds nothing new writes nothing, not even the cache.
    tmp, project, _markers = setup
    # The cache's stat short-cut does not remember a file changed (by ctime, which no test can set
    # back) in the last two seconds: wait until the copy is that old, or the second run would
    # rightly remember what the first could not yet.
    import time

    newest = max(p.stat().st_ctime_ns for p in project.rglob("*"))
    time.sleep(max(0.0, (newest + 2_100_000_000 - time.time_ns()) / 1e9))
    assert run(project, "check").returncode == 1
    before = snapshot(tmp)
    assert run(project, "check").returncode == 1
    assert changed(before, snapshot(tmp)) == set()


def test_verify_imports_a_copy_and_leaves_the_tree_as_it_was(setup):
    # --verify runs the code by design, in a temporary copy: the traps may fire (their markers sit
    # outside the project), the project itself must stay byte-identical.
    _tmp, project, _markers = setup
    before = snapshot(project)
    done = run(project, "delete-plan", "tvm.contrib.msc", "--no-cache", "--verify", "--timeout", "30")
    assert done.returncode in (0, 1), done.stderr
    assert changed(before, snapshot(project)) == set()


def test_python_dash_m_does_not_import_project_files_from_the_working_directory(setup):
    # Regression: `python -m` puts the working directory first on sys.path, and scopeguard's own
    # `import json` then ran the project's json.py. __main__ drops that entry first.
    _tmp, project, markers = setup
    # A scopeguard.py in the working directory is what `python -m scopeguard` itself runs, before any
    # line of scopeguard: nothing but the console script (or `python -P -m`) can avoid that one.
    (project / "scopeguard.py").unlink()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONSAFEPATH")}
    for args in (("check", "--no-cache", "--format", "json"), ("graph", "--no-cache"),
                 ("delete-plan", "tvm.contrib.msc", "--no-cache")):
        done = subprocess.run([sys.executable, "-m", "scopeguard", *args], cwd=project, capture_output=True,
                              text=True, env=env, timeout=300, check=False)
        assert done.returncode in (0, 1), done.stderr
        assert "TRAP EXECUTED" not in done.stdout + done.stderr
    assert list(markers.iterdir()) == []


# -- issue 13, attack 2: deleting outside the project ---------------------------------------------------


def test_verify_refuses_to_delete_outside_its_copy_and_the_canary_survives(tmp_path):
    # The config check stops `extra_paths = ["../.."]` (tests/test_config_errors.py); verify must not rely
    # on it: a Config built without that check still cannot make it delete outside its temporary copy.
    import dataclasses

    from scopeguard.config import load_config
    from scopeguard.actions.verify import verify_deletion

    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "tvm_like", project, ignore=shutil.ignore_patterns(".scopeguard_cache"))
    workdir = tmp_path / "work"
    workdir.mkdir()
    canary = workdir / "canary.txt"  # beside the temporary folder: what `copy/../..` reaches
    canary.write_text("alive")
    config = load_config(project / "pyproject.toml")
    msc = next(s for s in config.scopes if s.name == "tvm.contrib.msc")
    for escape in ("../..", "../work", "python/../../.."):  # each exists, seen from the project
        hostile = dataclasses.replace(msc, extra_paths=(escape,))
        hostile_config = dataclasses.replace(config, scopes=(config.scopes[0], hostile))
        with pytest.raises(RuntimeError, match="refusing to delete"):
            verify_deletion(hostile_config, hostile, ["tvm"], [], workdir=str(workdir), timeout=30)
        assert canary.read_text() == "alive"
        assert [p.name for p in workdir.iterdir()] == ["canary.txt"]  # the copy was cleaned up too


def test_verify_with_an_escaping_extra_path_exits_2_and_deletes_nothing(setup):
    tmp, project, _markers = setup
    config = project / "pyproject.toml"
    config.write_text(config.read_text().replace('extra_paths = ["tests/python/contrib/test_msc"]',
                                                 'extra_paths = ["../.."]'))
    temp = tmp / "tmpdir"
    temp.mkdir()
    (temp / "canary.txt").write_text("alive")
    before = snapshot(tmp)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    env.update(TMPDIR=str(temp), XDG_CACHE_HOME=str(tmp / "xdg"))
    done = subprocess.run([str(SCRIPT), "delete-plan", "tvm.contrib.msc", "--verify", "--no-cache"], cwd=project,
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 2 and "extra_paths[0]: '../..' is outside the project" in done.stderr
    assert changed(before, snapshot(tmp)) == set()
