"""Issue 25, class 5: the limits the analysed tree sets for itself. The tree's `[tool.scopeguard]`
may only lower the user's ceilings (command line, environment, built-in defaults); a limit that
makes a file unanalysable is an SG001 that says which limit and where it was set; `check --diff`
parses both sides within the user's ceilings; hostile numbers, globs and baselines end in exit 2
with a message, never a traceback or a hang."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scopeguard.config import ConfigError, load_config, user_ceilings


CONFIG = """\
[tool.scopeguard]
source_roots = ["src"]
{extra}
[tool.scopeguard.toggles.feat]
on_when_true = ["USE_FEAT"]

[[tool.scopeguard.scopes]]
name = "app.feat"
toggle = "feat"
"""
LEAK = "import app.feat\n"


def make_project(root: Path, extra: str = "", files: dict[str, str] | None = None) -> Path:
    (root / "pyproject.toml").write_text(CONFIG.format(extra=extra))
    for name, text in {"src/app/__init__.py": "", "src/app/feat/__init__.py": "", "src/app/core.py": LEAK,
                       **(files or {})}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def scopeguard(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "scopeguard", *args], capture_output=True, text=True,
                         timeout=timeout, env={**os.environ, **(env or {})}, cwd=cwd)
    assert "Traceback" not in run.stderr, run.stderr
    return run


# -- the tree may only lower the user's ceilings ---------------------------------------------------


def test_the_tree_cannot_raise_a_ceiling(tmp_path, monkeypatch):
    for variable in ("SCOPEGUARD_PARSE_TIMEOUT", "SCOPEGUARD_PARSE_MEMORY_MB", "SCOPEGUARD_MAX_FILE_MB"):
        monkeypatch.delenv(variable, raising=False)
    root = make_project(tmp_path, "parse_timeout = 1000000\nparse_memory_mb = 1000000\nmax_file_mb = 4096\n")
    limits = load_config(root / "pyproject.toml").limits
    assert (limits.timeout, limits.memory_mb, limits.max_file_mb) == (60.0, 2048, 8)
    assert (limits.timeout_from, limits.memory_from, limits.max_file_from) == ("", "", "")
    # The user raises the ceilings; the tree still cannot go above them.
    limits = load_config(root / "pyproject.toml", ceilings=user_ceilings(120, 4096, 16)).limits
    assert (limits.timeout, limits.memory_mb, limits.max_file_mb) == (120, 4096, 16)
    assert limits.max_file_from == "--max-file-mb"
    monkeypatch.setenv("SCOPEGUARD_MAX_FILE_MB", "32")
    assert load_config(root / "pyproject.toml").limits.max_file_mb == 32
    assert load_config(root / "pyproject.toml").limits.max_file_from == "SCOPEGUARD_MAX_FILE_MB"
    # The command line beats the environment.
    assert user_ceilings(max_file_mb=3).max_file_mb == 3


def test_the_tree_may_lower_a_ceiling_and_says_so(tmp_path):
    root = make_project(tmp_path, "parse_timeout = 5\nmax_file_mb = 1\n")
    limits = load_config(root / "pyproject.toml", ceilings=user_ceilings(environ={})).limits
    assert (limits.timeout, limits.max_file_mb, limits.memory_mb) == (5, 1, 2048)
    assert limits.timeout_from == "parse_timeout = 5 in pyproject.toml:3"
    assert limits.max_file_from == "max_file_mb = 1 in pyproject.toml:4"


def test_a_huge_max_file_mb_no_longer_makes_every_file_unanalysable(tmp_path):
    """Before: `max_file_mb = 4096` made each worker ask os.read for 4 GB at once, over its memory
    ceiling: every file SG001, no SG201."""
    root = make_project(tmp_path, "max_file_mb = 4096\n")
    run = scopeguard("check", str(root), "--no-cache", "--select", "SG0,SG2", cwd=root)
    assert run.returncode == 1
    assert run.stdout.splitlines()[0].startswith("src/app/core.py:1:8: SG201 app.core imports app.feat")
    assert "SG001" not in run.stdout


def test_a_file_over_a_limit_the_tree_lowered_names_the_setting(tmp_path):
    big = "import os\n" + "X = 1\n" * 200_000  # 1.2 MB
    root = make_project(tmp_path, "max_file_mb = 1\n", {"src/app/big.py": big})
    run = scopeguard("check", str(root), "--no-cache", "--select", "SG0", cwd=root, env={"SCOPEGUARD_MAX_FILE_MB": ""})
    assert run.returncode == 1
    assert run.stdout.splitlines()[0] == (
        "src/app/big.py:0:0: SG001 cannot analyse src/app/big.py: too large to analyse (1.1 MB; the limit is 1 MB, "
        "set by max_file_mb = 1 in pyproject.toml:3, which lowers scopeguard's limit for this tree); exclude it if "
        "it is generated")
    # The user's own ceiling is named as such.
    (tmp_path / "two").mkdir()
    root2 = make_project(tmp_path / "two", "", {"src/app/big.py": big})
    run = scopeguard("check", str(root2), "--no-cache", "--select", "SG0", "--max-file-mb", "1", cwd=root2)
    assert run.returncode == 1
    assert "the limit is 1 MB, set by --max-file-mb); exclude it" in run.stdout.splitlines()[0]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--max-file-mb", "0"], {}, "--max-file-mb: command line: 0 is out of range; give 1 to 1000000 MB"),
        (["--parse-timeout", "nan"], {}, "--parse-timeout: command line: nan is out of range; give 1 to 1000000 seconds"),
        ([], {"SCOPEGUARD_PARSE_MEMORY_MB": "lots"},
         "SCOPEGUARD_PARSE_MEMORY_MB: environment: expected a whole number of MB, got 'lots'"),
        ([], {"SCOPEGUARD_PARSE_TIMEOUT": "1e400"}, "SCOPEGUARD_PARSE_TIMEOUT: environment: inf is out of range"),
    ],
)
def test_bad_user_limits_are_usage_errors(tmp_path, args, env, message):
    root = make_project(tmp_path)
    run = scopeguard("check", str(root), "--no-cache", *args, env=env)
    assert run.returncode == 2
    assert message in run.stderr


# -- hostile numbers in pyproject.toml --------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "graph", "delete-plan", "init"])
def test_an_integer_of_5000_digits_is_a_config_error(tmp_path, command):
    root = make_project(tmp_path, f"parse_timeout = {'9' * 5000}\n")
    args = {"delete-plan": ["delete-plan", "app.feat", str(root)], "init": ["init", str(root), "--dry-run"]}
    run = scopeguard(*args.get(command, [command, str(root), "--no-cache"]))
    assert run.returncode == 2
    assert "invalid TOML: a value cannot be read (Exceeds the limit (4300 digits) for integer string conversion" in run.stderr


def test_huge_numbers_within_toml_are_out_of_range(tmp_path):
    root = make_project(tmp_path, f"parse_memory_mb = {'9' * 4000}\n")
    with pytest.raises(ConfigError) as error:
        load_config(root / "pyproject.toml")
    assert str(error.value).endswith("parse_memory_mb: a huge number is out of range; give 256 to 1000000 MB; "
                                     "the default is 2048")


# -- --diff: the pull request's config cannot hide its own files -----------------------------------

GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid", "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t.invalid", "GIT_CONFIG_NOSYSTEM": "1", "HOME": os.devnull,
}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, capture_output=True, check=True)


def diff_repo(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    root = make_project(tmp_path, "", {"src/app/core.py": "import os\n", **(files or {})})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def check_diff(root: Path, *args: str) -> subprocess.CompletedProcess:
    return scopeguard("check", str(root), "--no-cache", "--diff", "main", "--select", "SG0,SG2", *args,
                      env={k: v for k, v in GIT_ENV.items() if k != "HOME"}, cwd=root)


@pytest.mark.skipif(shutil.which("git") is None, reason="--diff needs git")
@pytest.mark.parametrize("setting", ["max_file_mb = 4096", "max_file_mb = 1", "parse_memory_mb = 256"])
def test_the_pull_requests_limits_do_not_hide_its_violation(tmp_path, setting):
    """The PR adds an unguarded import of the scope and a limit in its own config that would make
    its files unanalysable (on both sides, so "already there"): the import is still reported."""
    padding = "# " + "x" * 78 + "\n"
    root = diff_repo(tmp_path, {"src/app/big.py": "import os\n" + padding * 14_000})  # 1.1 MB
    (root / "pyproject.toml").write_text(CONFIG.format(extra=setting + "\n"))
    (root / "src/app/big.py").write_text(LEAK + padding * 14_000)
    run = check_diff(root)
    assert run.returncode == 1, run.stdout + run.stderr
    # The change's own setting is not applied (BASE's configuration judges it) and is reported (SG007).
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"pyproject.toml:3:1: SG007 configuration changed in this diff: tool.scopeguard.{setting.split()[0]} (added)")
    assert lines[1].startswith("src/app/big.py:1:8: SG201 app.big imports app.feat")
    assert "SG001" not in run.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="--diff needs git")
def test_a_changed_file_unanalysable_on_both_sides_is_new(tmp_path):
    """Under the user's own ceiling the file is too large on both sides: what the change put into
    it is unknown, so its SG001 is reported as new, not hidden as "already there"."""
    padding = "# " + "x" * 78 + "\n"
    root = diff_repo(tmp_path, {"src/app/big.py": "import os\n" + padding * 14_000})
    (root / "src/app/big.py").write_text(LEAK + padding * 14_000)
    run = check_diff(root, "--max-file-mb", "1")
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines()[0].startswith(
        "src/app/big.py:0:0: SG001 cannot analyse src/app/big.py: too large to analyse (1.1 MB; the limit is 1 MB, "
        "set by --max-file-mb)")
    # An untouched file unanalysable on both sides stays "already there".
    git(root, "checkout", "-q", "--", "src/app/big.py")
    (root / "src/app/core.py").write_text("import os\nimport sys\n")
    run = check_diff(root, "--max-file-mb", "1")
    assert run.returncode == 0, run.stdout + run.stderr


# -- a hostile committed baseline ------------------------------------------------------------------

ENTRY = '{"code": "SG201", "path": "a", "importer": "a", "imported": "b", "scope": "b", "count": %s}'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "the baseline nests arrays or objects too deeply to read"),
        ('{"scopeguard_baseline": 1, "entries": [%s]}' % (ENTRY % ("9" * 5000)),
         "the baseline holds a number too large to read"),
        ('{"scopeguard_baseline": 1, "entries": [%s]}' % (ENTRY % ("9" * 4000)),
         "entry 1: count must be a whole number from 1 to 1000000000, not 999999999999999999"),
        ('{"scopeguard_baseline": %s, "entries": []}' % ("[" * 900 + "]" * 900),
         "baseline format [[[[...]]]] is not supported"),
    ],
)
def test_a_hostile_committed_baseline_is_a_usage_error(tmp_path, text, message):
    root = make_project(tmp_path)
    (root / "scopeguard-baseline.json").write_text(text)
    run = scopeguard("check", str(root), "--no-cache")
    assert run.returncode == 2
    assert message in run.stderr
    assert len(run.stderr) < 1000


# -- globs from the tree: validated, matched in linear time ---------------------------------------

BACKTRACKING = "*a*a*a*a*a*a*a*a*b"


def test_a_backtracking_glob_against_a_4000_character_name_is_fast():
    """With `re`, pathspec's regex for this pattern takes seconds on 400 characters and hours on
    4,000; the linear matcher answers at once (run in a subprocess under a time bound)."""
    code = (
        "from scopeguard.base.globs import linear_spec\n"
        f"spec = linear_spec([{BACKTRACKING!r}, '**/a*a*a*a*/**/b'])\n"
        "name = 'a' * 4000\n"
        "assert not spec.match_file(name) and not spec.match_file('a/' * 2000)\n"
        "assert spec.match_file('a' * 4000 + 'b')\n"
        f"assert not __import__('scopeguard.base.globs', fromlist=['x']).linear_spec([{BACKTRACKING!r}], "
        "gitignore=False).match_file(name)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=20)


def test_a_backtracking_exclude_and_per_file_ignore_on_long_names_end_to_end(tmp_path):
    folder = "src/app/" + "/".join(["a" * 200] * 18)  # a 3,600-character path
    name = folder + "/" + "a" * 200 + ".py"
    root = make_project(tmp_path, f'exclude = ["{BACKTRACKING}"]\nper_file_ignores = {{ "{BACKTRACKING}" = ["SG2"] }}\n',
                        {name: LEAK, folder.rsplit("/", 1)[0] + "/__init__.py": ""})
    run = scopeguard("check", str(root), "--no-cache", "--select", "SG2", cwd=root, timeout=60)
    assert run.returncode == 1  # neither the exclude nor the ignore matches: both findings stay
    assert len([line for line in run.stdout.splitlines() if ": SG201 " in line]) == 2


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('exclude = ["foo\\\\"]', "tool.scopeguard.exclude[0]: 'foo\\\\': not a gitignore pattern"),
        ('per_file_ignores = { "foo\\\\" = ["SG2"] }', "per_file_ignores"),
        ('per_file_ignores = { "!" = ["SG2"] }', "'!': not a gitignore pattern"),
        (f'exclude = ["{"*a" * 600}"]', "longer than 1024 characters"),
    ],
)
def test_bad_globs_from_the_tree_are_usage_errors(tmp_path, setting, message):
    root = make_project(tmp_path, setting + "\n")
    run = scopeguard("check", str(root), "--no-cache")
    assert run.returncode == 2, run.stdout
    assert message in run.stderr
