"""`delete-plan --verify`, second pass: the copy never links to the tree, SIGTERM leaves nothing
behind, the environment is clean unless asked, timeouts are not breakage, unknown dynamic-import
sites are watched, and `--python NAME` is looked up on PATH.

Every sweep runs real interpreters on tiny fixtures built in tmp_path.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from scopeguard.actions.verify import verify_deletion
from scopeguard.config import load_config

from .conftest import REPO

CONFIG = '[tool.scopeguard]\nsource_roots = ["src"]\n\n[[tool.scopeguard.scopes]]\nname = "pkg.feature"\n'


def _project(tmp_path, files: dict[str, str | bytes]):
    root = tmp_path / "proj"
    (root / "src/pkg/feature").mkdir(parents=True)
    (root / "pyproject.toml").write_text(CONFIG)
    (root / "src/pkg/__init__.py").write_text("")
    (root / "src/pkg/feature/__init__.py").write_text("")
    for name, text in files.items():
        path = root / "src/pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    return root


def _verify(root, modules, **options):
    config = load_config(root / "pyproject.toml")
    return verify_deletion(config, config.scopes[0], modules, [], jobs=2, **options)


# -- 1. the copy: bytes, never links ---------------------------------------------------------------

WRITER = (
    "import os\n"
    "here = os.path.join(os.path.dirname(__file__), 'data.bin')\n"
    "if os.path.lexists(here):\n"
    "    with open(here, 'r+b') as handle:\n"  # what a module writing next to itself does
    "        handle.write(b'written by the sweep')\n"
    "else:\n"
    "    raise ImportError('data.bin is not in the copy')\n"
)


def test_large_files_are_copied_never_linked(tmp_path):
    # 5 MB: above the size at which the old code symlinked files to the originals.
    data = b"\0" * (5 * 1024 * 1024)
    root = _project(tmp_path, {"writer.py": WRITER, "data.bin": data})
    result = _verify(root, ["pkg.writer"], workdir=str(tmp_path))
    assert result.failing_anyway == {} and result.broken == {}  # it found its file, and wrote it
    assert (root / "src/pkg/data.bin").read_bytes() == data  # ... in the copy, not in the tree
    assert result.left_out == ()
    assert [p.name for p in tmp_path.iterdir()] == ["proj"]  # the copy is gone


def test_files_over_the_budget_are_left_out_and_listed(tmp_path):
    root = _project(tmp_path, {"writer.py": WRITER, "data.bin": b"x" * 4096, "small.txt": b"ok"})
    result = _verify(root, ["pkg.writer"], copy_budget=1024)
    assert result.left_out == (("src/pkg/data.bin", "0.0 MB, over the copy budget of 0 MB for non-Python files"),)
    assert result.failing_anyway == {"pkg.writer": "ImportError: data.bin is not in the copy"}
    assert (root / "src/pkg/data.bin").read_bytes() == b"x" * 4096


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_the_tree_is_left_out_without_blocking(tmp_path):
    root = _project(tmp_path, {"other.py": ""})
    os.mkfifo(root / "src/pkg/libfake.so")
    started = time.monotonic()
    result = _verify(root, ["pkg.other"])
    assert time.monotonic() - started < 30
    assert result.left_out == (("src/pkg/libfake.so", "not a regular file"),)
    assert result.failing_anyway == {}


# -- 1. SIGTERM: nothing survives ------------------------------------------------------------------

SLEEPER = (
    "import os, subprocess, sys, time\n"
    "PIDS = {pids!r}\n"
    "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
    "for pid in (os.getpid(), os.getppid(), grandchild.pid):\n"
    "    open(os.path.join(PIDS, str(pid)), 'w').close()\n"
    "open(os.path.join(PIDS, 'ready'), 'w').close()\n"
    "time.sleep(120)\n"
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, awaiting its reaper
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_stops_every_process_of_the_sweep_and_removes_the_copy(tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    temp = tmp_path / "tmp"
    temp.mkdir()
    root = _project(tmp_path, {"slow.py": SLEEPER.format(pids=str(pids))})
    env = {**os.environ, "TMPDIR": str(temp)}
    process = subprocess.Popen([sys.executable, "-m", "scopeguard", "delete-plan", "pkg.feature", str(root),
                                "--no-cache", "--verify", "--timeout", "100"],
                               cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (pids / "ready").exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (pids / "ready").exists(), process.communicate(timeout=5)
        assert any(temp.iterdir())  # the copy exists while the sweep runs
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "terminated; the import sweep was stopped and the temporary copy removed" in err
    started = sorted(int(p.name) for p in pids.iterdir() if p.name.isdigit())
    assert len(started) == 3
    deadline = time.monotonic() + 5  # SIGKILL is delivered at once; the kernel may take a moment
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in started if _alive(pid)] == []
    assert list(temp.iterdir()) == []


def test_the_previous_signal_handlers_are_restored(tmp_path):
    root = _project(tmp_path, {"other.py": ""})
    mine = lambda signum, frame: None  # noqa: E731
    old = signal.signal(signal.SIGTERM, mine)
    try:
        _verify(root, ["pkg.other"])
        assert signal.getsignal(signal.SIGTERM) is mine
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, old)


# -- 2. the environment ----------------------------------------------------------------------------

PROBE = (
    "import os\n"
    "raise ImportError('secret=%s home_in_copy=%s tmp_in_copy=%s path=%s given=%s' % (\n"
    "    'SG_TEST_SECRET' in os.environ, 'scopeguard-verify-' in os.environ.get('HOME', ''),\n"
    "    'scopeguard-verify-' in os.environ.get('TMPDIR', ''), bool(os.environ.get('PATH')),\n"
    "    os.environ.get('SG_GIVEN')))\n"
)


def test_the_environment_is_clean_by_default_and_inherited_on_request(tmp_path, monkeypatch):
    monkeypatch.setenv("SG_TEST_SECRET", "hunter2")
    root = _project(tmp_path, {"probe.py": PROBE})
    clean = _verify(root, ["pkg.probe"], env={"SG_GIVEN": "yes"})
    assert clean.failing_anyway == {
        "pkg.probe": "ImportError: secret=False home_in_copy=True tmp_in_copy=True path=True given=yes"}
    inherited = _verify(root, ["pkg.probe"], env_mode="inherit")
    assert inherited.failing_anyway["pkg.probe"].startswith("ImportError: secret=True home_in_copy=False")


def test_verify_env_on_the_command_line(run_cli, tmp_path):
    root = _project(tmp_path, {"probe.py": PROBE})
    env = {"SG_TEST_SECRET": "hunter2"}
    code, out, err = run_cli("delete-plan", "pkg.feature", str(root), "--no-cache", "--verify", "--format", "json",
                             env=env)
    assert code == 0, err
    assert json.loads(out)["verify"]["failing_anyway"]["pkg.probe"].startswith("ImportError: secret=False ")
    code, out, err = run_cli("delete-plan", "pkg.feature", str(root), "--no-cache", "--verify", "--format", "json",
                             "--verify-env", "inherit", env=env)
    assert json.loads(out)["verify"]["failing_anyway"]["pkg.probe"].startswith("ImportError: secret=True ")
    code, out, err = run_cli("delete-plan", "pkg.feature", str(root), "--verify-env", "all")
    assert code == 2 and "invalid choice: 'all'" in err


# -- 3. timeouts are not breakage ------------------------------------------------------------------

ONCE_SLOW = (
    "import os, time\n"
    "MARK = {mark!r}\n"
    "if not os.path.exists(MARK):\n"
    "    open(MARK, 'w').close()\n"
    "    time.sleep(60)\n"
)


def test_a_timed_out_module_is_retried_alone_and_never_broken(tmp_path):
    root = _project(tmp_path, {
        "hangs.py": "import time\ntime.sleep(60)\n",
        "once.py": ONCE_SLOW.format(mark=str(tmp_path / "mark")),  # slow the first time only
        "fine.py": "",
    })
    result = _verify(root, ["pkg.fine", "pkg.hangs", "pkg.once"], timeout=1.0)
    assert result.timed_out.keys() == {"pkg.hangs"}
    seconds, sweep = result.timed_out["pkg.hangs"]
    assert 1.0 <= seconds < 10 and sweep == "after"
    assert result.broken == {} and result.failing_anyway == {}
    assert result.ok == ["pkg.fine", "pkg.once"]  # the retry found it fine
    hangs = {o.module: o for o in result.after.outcomes}["pkg.hangs"]
    assert hangs.timed_out and not hangs.ok and hangs.error.startswith("timed out after ")
    assert hangs.error.endswith("s (twice; the second time alone)")


def test_a_top_level_package_that_times_out_leaves_its_modules_timed_out(tmp_path):
    root = _project(tmp_path, {"other.py": ""})
    (root / "src/pkg/__init__.py").write_text("import time\ntime.sleep(60)\n")
    result = _verify(root, ["pkg", "pkg.other"], timeout=0.5)
    assert result.timed_out.keys() == {"pkg", "pkg.other"}
    assert result.broken == {} and result.failing_anyway == {}
    assert {o.module: o.error.split(" after ")[0] for o in result.after.outcomes} == {
        "pkg": "`import pkg` timed out", "pkg.other": "`import pkg` timed out"}


def test_timeouts_in_the_report(run_cli, tmp_path):
    root = _project(tmp_path, {"hangs.py": "import time\ntime.sleep(60)\n", "fine.py": ""})
    code, out, err = run_cli("delete-plan", "pkg.feature", str(root), "--no-cache", "--verify", "--timeout", "1",
                             "--format", "json")
    assert code == 0, err  # nothing broken: a timeout is not a breakage
    verify = json.loads(out)["verify"]
    assert [t["module"] for t in verify["timed_out"]] == ["pkg.hangs"]
    assert verify["timed_out"][0]["sweep"] == "after" and verify["timed_out"][0]["seconds"] >= 1.0
    assert verify["broken"] == {} and verify["ok"] == 2  # pkg and pkg.fine
    code, out, err = run_cli("delete-plan", "pkg.feature", str(root), "--no-cache", "--verify", "--timeout", "1")
    assert code == 0, err
    lines = out.splitlines()
    assert "  ok after the deletion: 2" in lines
    assert "  broken by the deletion: 0" in lines
    assert "  timed out (not checked, never counted as broken; retried once alone): 1" in lines
    assert any(line.startswith("    timed out: pkg.hangs (after the deletion, after ") for line in lines)
    assert lines[-1].startswith("Sweep: 0 broken by the deletion, 1 timed out (not checked), 2 ok after the deletion")


# -- 4. unknown dynamic-import sites, watched ------------------------------------------------------

LOADER = (
    "import importlib\n"
    "\n"
    "NAMES = ['pkg', '.feature.impl']\n"
    "try:\n"
    "    importlib.import_module(''.join(NAMES))\n"  # line 5: loads the scope
    "except ImportError:\n"
    "    pass\n"
    "other = __import__(''.join(['pkg', '.other']))\n"  # line 8: loads pkg.other
    "\n"
    "\n"
    "def later(name):\n"
    "    return importlib.import_module(name)\n"  # line 12: never called
)


def test_unknown_sites_are_shown_with_what_they_loaded(run_cli, tmp_path):
    root = _project(tmp_path, {"loader.py": LOADER, "other.py": "import json\n",
                               "runner.py": "CODE = 'import pkg.' + 'other'\nexec(CODE)\n",
                               "feature/impl.py": ""})
    code, out, err = run_cli("delete-plan", "pkg.feature", str(root), "--no-cache", "--verify")
    assert code == 1, err
    lines = out.splitlines()

    def verify_line(site: str) -> str:
        """The `--verify` line under an unknown site (after its `why unknown` and `when` lines)."""
        at = lines.index(f"  {site}")
        return next(line for line in lines[at + 1:at + 5] if line.startswith("      --verify: "))

    assert verify_line("src/pkg/loader.py:5: importlib.import_module(''.join(NAMES))") == (
        "      --verify: loaded pkg.feature, pkg.feature.impl; INSIDE THE DELETED SCOPE: pkg.feature, pkg.feature.impl")
    # not json, which pkg.other itself imports
    assert verify_line("src/pkg/loader.py:8: __import__(''.join(['pkg', '.other']))") == "      --verify: loaded pkg.other"
    assert verify_line("src/pkg/loader.py:12: importlib.import_module(name)") == (
        "      --verify: loaded nothing during the sweep")
    # through the exec'd string
    assert verify_line("src/pkg/runner.py:2: exec(CODE)") == "      --verify: loaded pkg.other"
    # loader.py:5 cannot fail for the scope's absence (its handler catches it): listed apart, watched too
    assert lines[-1].endswith("; 1 of 4 watched dynamic-import site(s) loaded the scope during the sweep.")
    code, out, err = run_cli("delete-plan", "pkg.feature", str(root), "--no-cache", "--verify", "--format", "json")
    sites = {(s["path"], s["line"]): s["loaded"] for s in json.loads(out)["verify"]["unknown_sites"]}
    assert sites[("src/pkg/loader.py", 5)] == [
        {"module": "pkg.feature", "ok": True, "in_scope": True, "sweep": "before"},
        {"module": "pkg.feature.impl", "ok": True, "in_scope": True, "sweep": "before"}]
    assert sites[("src/pkg/loader.py", 12)] == []


def test_a_site_that_fails_after_the_deletion_is_shown_failed(tmp_path):
    root = _project(tmp_path, {"loader.py": LOADER, "other.py": ""})  # no pkg.feature.impl at all
    config = load_config(root / "pyproject.toml")
    result = verify_deletion(config, config.scopes[0], ["pkg.loader"], [], jobs=1,
                             sites=[("src/pkg/loader.py", 5), ("src/pkg/loader.py", 12)])
    loads = result.site_loads[("src/pkg/loader.py", 5)]
    assert [(x.module, x.ok, x.in_scope) for x in loads] == [("pkg.feature", True, True),
                                                             ("pkg.feature.impl", False, True)]
    assert result.site_loads[("src/pkg/loader.py", 12)] == ()


# -- 5. --python NAME ------------------------------------------------------------------------------

def test_python_by_name_is_looked_up_on_path(run_cli, tmp_path):
    root = _project(tmp_path, {"other.py": ""})
    folder = tmp_path / "bin"
    folder.mkdir()
    os.symlink(sys.executable, folder / "mypython")
    env = {"PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}
    code, out, err = run_cli("delete-plan", "pkg.feature", str(root), "--no-cache", "--verify",
                             "--python", "mypython", env=env)
    assert code == 0, err
    assert "  ok after the deletion: 2" in out.splitlines()
    code, out, err = run_cli("delete-plan", "pkg.feature", str(root), "--verify", "--python", "no-such-python-sg")
    assert code == 2 and out == ""
    assert err.strip() == ("scopeguard: error: --python no-such-python-sg: no executable of that name on PATH; "
                           "give a path (e.g. --python .venv/bin/python)")
    code, out, err = run_cli("delete-plan", "pkg.feature", str(root), "--verify", "--python", str(root / "pyproject.toml"))
    assert code == 2 and err.strip() == f"scopeguard: error: --python {root / 'pyproject.toml'}: not an executable file"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_fresh_interpreters_where_the_parent_cannot_import_the_package(tmp_path):
    # `import pkg` works in a process started by the sweep, not in the sweep itself: every module
    # gets a fresh interpreter (the `child` mode of the sweep script), watched like a forked one.
    init = ("import os\n"
            "if b'sweep.py\\x00main' not in open('/proc/%d/cmdline' % os.getppid(), 'rb').read():\n"
            "    raise ImportError('not under the sweep')\n")
    root = _project(tmp_path, {"loader.py": LOADER, "other.py": "", "hangs.py": "import time\ntime.sleep(60)\n",
                               "feature/impl.py": ""})
    (root / "src/pkg/__init__.py").write_text(init)
    config = load_config(root / "pyproject.toml")
    result = verify_deletion(config, config.scopes[0], ["pkg.hangs", "pkg.loader", "pkg.other"], [], jobs=2,
                             timeout=1.5, sites=[("src/pkg/loader.py", 5), ("src/pkg/loader.py", 8)])
    assert not result.before.forked and not result.after.forked
    assert result.ok == ["pkg.loader", "pkg.other"] and result.broken == {} and result.failing_anyway == {}
    assert result.timed_out.keys() == {"pkg.hangs"}
    assert [x.module for x in result.site_loads[("src/pkg/loader.py", 5)]] == ["pkg.feature", "pkg.feature.impl"]
    assert [x.module for x in result.site_loads[("src/pkg/loader.py", 8)]] == ["pkg.other"]


def test_modules_of_a_package_that_timed_out_again_are_not_retried(tmp_path):
    root = _project(tmp_path, {"slow/__init__.py": "import time\ntime.sleep(60)\n", "slow/a.py": "", "slow/b.py": ""})
    result = _verify(root, ["pkg.slow", "pkg.slow.a", "pkg.slow.b"], timeout=1.0)
    assert result.timed_out.keys() == {"pkg.slow", "pkg.slow.a", "pkg.slow.b"}
    errors = {o.module: o.error for o in result.after.outcomes}
    assert errors["pkg.slow.a"].startswith("its package pkg.slow timed out after ")
    assert errors["pkg.slow.a"].endswith("s (twice; not retried)")
    assert errors["pkg.slow"].endswith("s (twice; the second time alone)")
