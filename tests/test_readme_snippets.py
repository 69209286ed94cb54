"""The README's install line and pre-commit configuration, run as written.

Both name the repository's URL and a release tag (`v` + scopeguard's version). Offline, the URL is
pointed at a throwaway clone of this working tree that carries that tag; everything else — the pip
requirement, the `rev:`, the hook id — is taken from the README verbatim. So a wrong distribution
name, a tag scheme that does not match the version, or a broken hook id fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scopeguard import __version__
from scopeguard.output.links import REPOSITORY, release_tag

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
TIMEOUT = 600

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="`git` is not on PATH")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT", "_PRE_COMMIT")) and k != "SKIP"}
    env.update(
        PRE_COMMIT_HOME=str(home / "store"), PIP_CACHE_DIR=str(home / "pip-cache"),
        VIRTUALENV_OVERRIDE_APP_DATA=str(home / "virtualenv-app-data"),
        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@scopeguard.invalid",
        GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@scopeguard.invalid",
    )
    return env


def _git(*args: str, cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def tagged_clone(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """This working tree (what git would track) as a repository tagged v<version>."""
    home = tmp_path_factory.mktemp("readme")
    env = _env(home)
    target = home / "scopeguard"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, env=_env(home)).stdout
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    _git("init", "-q", cwd=target, env=env)
    _git("add", "--all", "--force", cwd=target, env=env)
    _git("-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "snapshot", cwd=target, env=env)
    _git("tag", release_tag(), cwd=target, env=env)
    return target, env


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def test_the_readme_names_the_distribution_and_the_tag_scheme():
    assert release_tag() == f"v{__version__}"
    installs = [line for block in _blocks("(?:sh|yaml)") for line in block.splitlines() if "pip install" in line]
    assert installs, "the README has install lines"
    for line in installs:
        assert "pip install scopeguard " not in line + " ", line  # the index's `scopeguard` is another tool
    pinned = [line for line in installs if "git+" in line]
    assert pinned and all(f"scopeguard-s0 @ git+{REPOSITORY}@{release_tag()}" in line for line in pinned), pinned
    hooks = [b for b in _blocks("yaml") if "repos:" in b]
    assert hooks and f"repo: {REPOSITORY}" in hooks[0] and f"rev: {release_tag()}" in hooks[0]


def test_readme_pip_install_line_installs_scopeguard(tagged_clone, tmp_path):
    clone, env = tagged_clone
    line = next(line for b in _blocks("yaml") for line in b.splitlines() if "pip install" in line and "git+" in line)
    # file://localhost/...: the requirement parser of older pips rejects a URL with an empty host.
    url = "file://localhost" + clone.as_posix()
    requirement = re.search(r'pip install "([^"]+)"', line).group(1).replace(REPOSITORY, url)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=TIMEOUT)
    python = venv / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", requirement], env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([str(venv / "bin" / "scopeguard"), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith(f"scopeguard {__version__} from "), done.stdout
    shown = subprocess.run([str(python), "-m", "pip", "show", "scopeguard-s0"], capture_output=True, text=True)
    assert "Name: scopeguard-s0" in shown.stdout


def test_readme_pre_commit_config_runs_the_hook(tagged_clone, tmp_path):
    clone, env = tagged_clone
    config = next(b for b in _blocks("yaml") if "repos:" in b).replace(REPOSITORY, clone.as_uri())
    project = tmp_path / "project"
    shutil.copytree(REPO / "fixtures" / "tvm_like", project, ignore=shutil.ignore_patterns("__pycache__", ".scopeguard_cache"))
    (project / ".pre-commit-config.yaml").write_text(config)
    _git("init", "-q", cwd=project, env=env)
    _git("add", "--all", cwd=project, env=env)
    _git("-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "fixture", cwd=project, env=env)
    exe = Path(sys.executable).parent / "pre-commit"
    command = [str(exe)] if exe.is_file() else [sys.executable, "-m", "pre_commit"]
    done = subprocess.run([*command, "run", "--all-files", "--color=never"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert re.search(r"^scopeguard\.+Failed$", output, re.MULTILINE), output
    assert "- exit code: 1\n" in output, output  # findings, not a configuration error
    assert "python/tvm/driver/build.py:26:11: SG205 " in output


def test_the_quick_start_prints_what_the_readme_quotes():
    """The quick start's first command, run as written (from the repository root): every line the
    README quotes is printed verbatim, the count in the sentence above it is the count printed, and
    the exit code is 1."""
    block = re.search(r"What the first prints \(shortened\):\n\n```\n(.*?)```", README, re.S).group(1)
    command = re.search(r"&& \.venv/bin/scopeguard (check [^\n]+)\n", README).group(1).split()
    done = subprocess.run([sys.executable, "-m", "scopeguard", *command, "--no-cache"], cwd=REPO,
                          capture_output=True, text=True, timeout=TIMEOUT, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 1, done.stderr
    printed = done.stdout.splitlines()
    quoted = [line for line in block.splitlines() if line != "..."]
    assert len(quoted) >= 4 and [line for line in quoted if line not in printed] == []
    found = re.search(r"Found (\d+) violation", done.stdout).group(1)
    assert f"it finds {found} leaks there and exits 1" in README
