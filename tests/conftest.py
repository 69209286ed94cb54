from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


@pytest.fixture
def run_cli():
    """Run `python -m scopeguard ARGS` in a directory; return (exit code, stdout, stderr)."""

    def run(*args: str, cwd: Path | str = REPO, env: dict | None = None):
        full_env = {**os.environ, **(env or {})}
        done = subprocess.run(
            [sys.executable, "-m", "scopeguard", *args], cwd=cwd, capture_output=True, text=True, env=full_env
        )
        return done.returncode, done.stdout, done.stderr

    return run


@pytest.fixture(autouse=True, scope="session")
def _private_user_cache(tmp_path_factory):
    """Every run (in process or in a child) keeps its cache and MAC key in a folder of the test
    session, never in the user's real ~/.cache."""
    folder = tmp_path_factory.mktemp("xdg-cache")
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


# End-to-end modules that install packages, run pre-commit, sweep imports in fresh interpreters or
# ask CPython in every OFF state: most of the suite's time. `pytest -m "not slow"` leaves them out
# for a quick loop; CI (and the README's test command) runs everything.
SLOW_MODULES = frozenset({"test_precommit", "test_readme_snippets", "test_verify_sweep", "test_verify",
                          "test_guard_oracle", "test_differential", "test_incremental", "test_containment",
                          "test_server"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module is not None and item.module.__name__.rpartition(".")[2] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
