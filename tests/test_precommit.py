"""The pre-commit hook (.pre-commit-hooks.yaml), proved with the real `pre-commit try-repo`.

Each test copies a fixture into a fresh git repository and runs
`pre-commit try-repo <scopeguard> scopeguard --all-files` in it, exactly as
a hook author would.  try-repo clones the repository it is given, so it would
see only committed, staged and modified tracked files; the tests therefore give
it a snapshot of this working tree (tracked and untracked files that git does
not ignore, committed into a throwaway repository), so what is tested is what
is on disk, committed or not.

try-repo always builds the hook environment in a temporary store of its own
(it ignores PRE_COMMIT_HOME for that), so every case pays one virtualenv +
`pip install` of scopeguard.  The session-scoped environment below keeps
everything pre-commit, pip and virtualenv write (store, logs, caches, temporary
directories) under pytest's tmp directory, and shares the pip cache and the
virtualenv seed data between the cases so the second install is cheaper.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
HOOK_ID = "scopeguard"
TIMEOUT = 600  # seconds; a cold hook-env install downloads libcst

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="`git` is not on PATH; pre-commit needs it")


def _pre_commit_cmd() -> list[str]:
    """pre-commit from the interpreter running the tests: its console script, else `-m pre_commit`."""
    exe = Path(sys.executable).parent / ("pre-commit.exe" if os.name == "nt" else "pre-commit")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "pre_commit"]


def _clean_env(**extra: str) -> dict[str, str]:
    # GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE... are set when the suite itself runs from a git hook and
    # would point every git command below at the wrong repository; SKIP=scopeguard would skip the hook.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT", "_PRE_COMMIT")) and k != "SKIP"
    }
    env.update(extra)
    return env


def _git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"git {' '.join(args)} failed in {cwd}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def precommit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for pre-commit: nothing goes to the user's home; caches shared by both cases."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    tmp = home / "tmp"
    tmp.mkdir()
    env = _clean_env(
        PRE_COMMIT_HOME=str(home / "store"),
        PIP_CACHE_DIR=str(home / "pip-cache"),
        VIRTUALENV_OVERRIDE_APP_DATA=str(home / "virtualenv-app-data"),
        TMPDIR=str(tmp),  # try-repo's temporary store and shadow repository
        GIT_AUTHOR_NAME="scopeguard tests",
        GIT_AUTHOR_EMAIL="tests@scopeguard.invalid",
        GIT_COMMITTER_NAME="scopeguard tests",
        GIT_COMMITTER_EMAIL="tests@scopeguard.invalid",
    )
    env["_SG_SNAPSHOT"] = str(_snapshot(home / "scopeguard", env))
    return env


def _snapshot(target: Path, env: dict[str, str]) -> Path:
    """This working tree as a one-commit repository: what git would track, as it is on disk now."""
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO, env=_clean_env())
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is simply not there
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    _git("init", "-q", cwd=target, env=env)
    _git("add", "--all", "--force", cwd=target, env=env)
    _git("-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "snapshot", cwd=target, env=env)
    return target


def _try_repo(
    fixture: str, tmp_path: Path, env: dict[str, str], extra: dict[str, str] | None = None, files: list[str] | None = None
) -> tuple[int, str]:
    """Copy FIXTURE (plus `extra` files) into a new git repository, commit it, and run the hook
    there through try-repo: on all files, or as if only `files` were staged."""
    project = tmp_path / fixture
    shutil.copytree(
        FIXTURES / fixture, project, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".scopeguard_cache")
    )
    for name, text in (extra or {}).items():
        (project / name).write_text(text)
    _git("init", "-q", cwd=project, env=env)
    _git("add", "--all", "--force", cwd=project, env=env)
    _git("-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "fixture", cwd=project, env=env)

    selection = ["--files", *files] if files is not None else ["--all-files"]
    done = subprocess.run(
        [*_pre_commit_cmd(), "try-repo", "--color=never", env["_SG_SNAPSHOT"], HOOK_ID, *selection],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return done.returncode, done.stdout + done.stderr


def _status_line(output: str) -> str:
    match = re.search(rf"^{HOOK_ID}\.+(Passed|Failed|Skipped.*)$", output, re.MULTILINE)
    assert match, f"no status line for hook {HOOK_ID!r} in try-repo output:\n{output}"
    return match.group(1)


def test_hook_fails_on_tvm_like(tmp_path: Path, precommit_env: dict[str, str]) -> None:
    code, output = _try_repo("tvm_like", tmp_path, precommit_env)

    assert code != 0, output
    assert _status_line(output) == "Failed", output
    assert "- exit code: 1\n" in output, output  # violations, not a usage/config error (2) or a crash
    lines = output.splitlines()
    assert any(line.startswith("python/tvm/driver/build.py:26:11: SG205 ") for line in lines), output
    assert any(line.startswith("tests/python/ir/test_ir.py:4:29: SG201 ") for line in lines), output


def test_hook_passes_on_clean_project(tmp_path: Path, precommit_env: dict[str, str]) -> None:
    code, output = _try_repo("clean_project", tmp_path, precommit_env)

    assert code == 0, output
    assert _status_line(output) == "Passed", output


def test_hook_runs_when_only_a_packaging_file_changes_and_not_for_docs(tmp_path: Path, precommit_env: dict[str, str]) -> None:
    # MANIFEST.in has no file type in pre-commit's `identify`, yet SG303 reads it: the manifest's
    # `files` pattern must still select it, and must leave a README-only commit alone.
    extra = {"MANIFEST.in": "recursive-include python/tvm/relax *.py\n", "README.md": "# tvm-like\n"}
    code, output = _try_repo("tvm_like", tmp_path / "manifest", precommit_env, extra, files=["MANIFEST.in"])
    assert code != 0 and _status_line(output) == "Failed", output
    assert any(line.startswith("MANIFEST.in:1:") and " SG303 " in line for line in output.splitlines()), output
    code, output = _try_repo("tvm_like", tmp_path / "readme", precommit_env, extra, files=["README.md"])
    assert code == 0 and re.search(rf"^{HOOK_ID}\.+\(no files to check\)Skipped$", output, re.MULTILINE), output
