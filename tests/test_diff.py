"""`check --diff BASE` on throwaway git repositories: only what the change introduces (renames and
deletions included), the change rules SG501/SG502, a detached checkout, clear errors, no writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scopeguard.rules import CATALOGUE, CHANGE_RULES, RULES_BY_CODE
from scopeguard.rules.base import EXAMPLE_FILES, EXAMPLE_PYPROJECT

from .conftest import FIXTURES
from .inprocess import run_main

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="`git` is not on PATH; --diff needs it")

# GIT_DIR, GIT_INDEX_FILE... are set when the suite runs from a git hook and would point git at the
# wrong repository.
GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_AUTHOR_NAME": "scopeguard tests", "GIT_AUTHOR_EMAIL": "tests@scopeguard.invalid",
    "GIT_COMMITTER_NAME": "scopeguard tests", "GIT_COMMITTER_EMAIL": "tests@scopeguard.invalid",
    "GIT_CONFIG_NOSYSTEM": "1", "HOME": os.devnull,
}


@pytest.fixture(autouse=True)
def clean_git_environment(monkeypatch):
    """scopeguard runs git in this process too: give it the same clean environment."""
    for key in list(os.environ):
        if key.startswith("GIT_"):
            monkeypatch.delenv(key)
    for key, value in GIT_ENV.items():
        if key.startswith("GIT_") or key == "HOME":
            monkeypatch.setenv(key, value)


PRINTER = "python/tvm/ir/printer.py"
BUILD, BUILDER = "python/tvm/driver/build.py", "python/tvm/driver/builder.py"
TEST_IR = "tests/python/ir/test_ir.py"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def init_repo(repo: Path, files: dict[str, str] | None = None) -> None:
    """A repository on branch main with one commit holding `files` (or tvm_like)."""
    if files is None:
        shutil.copytree(FIXTURES / "tvm_like", repo, ignore=shutil.ignore_patterns(".scopeguard_cache"))
    else:
        write(repo, files)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")


def write(repo: Path, files: dict[str, str | None]) -> None:
    for path, text in files.items():
        target = repo / path
        if text is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def append(repo: Path, path: str, text: str) -> int:
    """Append `text` to a file; the number of the first line appended."""
    old = (repo / path).read_text()
    (repo / path).write_text(old + text)
    return len(old.splitlines()) + 1


def json_check(run_main, repo: Path, *args: str):
    code, out, err = run_main("check", ".", "--no-cache", "--format", "json", *args, cwd=repo)
    assert code in (0, 1), err
    data = json.loads(out)
    found = [(v["path"], v["line"], v["column"], v["code"], v["importer"], v["imported"]) for v in data["violations"]]
    return code, found, data


@pytest.fixture
def changed(tmp_path):
    """tvm_like committed on main, then on a feature branch, checked out detached as CI does:
    printer.py gains an unguarded import of relax; build.py is renamed to builder.py and gains one;
    a test outside the scopes is deleted; a file of scope tvm.relax is edited."""
    repo = tmp_path / "repo"
    init_repo(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    printer_line = append(repo, PRINTER, "from tvm.relax import expr\n")
    git(repo, "mv", BUILD, BUILDER)
    builder_line = append(repo, BUILDER, "import tvm.relax\n")
    git(repo, "rm", "-q", TEST_IR)
    append(repo, "python/tvm/relax/__init__.py", "VERSION = 1\n")
    git(repo, "commit", "-q", "-am", "feature")
    git(repo, "checkout", "-q", "--detach")
    return repo, printer_line, builder_line


def test_diff_reports_only_new_import_sites_across_a_rename_and_a_deletion(changed):
    repo, printer_line, builder_line = changed
    _, everything, _ = json_check(run_main, repo)
    code, found, data = json_check(run_main, repo, "--diff", "main", "--ignore", "SG5")
    assert code == 1
    assert found == [
        (BUILDER, builder_line, 8, "SG201", "tvm.driver.builder", "tvm.relax"),
        (PRINTER, printer_line, 23, "SG201", "tvm.ir.printer", "tvm.relax.expr"),
    ]
    # Everything else is already at BASE: the renamed file's old findings, under their new name, too.
    assert data["diff"] == {"base": "main", "commit": git(repo, "rev-parse", "main").strip(), "preexisting": len(everything) - 2}
    assert any(path == BUILDER for path, *_ in everything)


def test_change_rules_list_both_sides_and_follow_renames(changed):
    repo, printer_line, builder_line = changed
    code, out, _ = run_main("check", ".", "--no-cache", "--diff", "main", "--select", "SG5", "-q", cwd=repo)
    assert code == 1
    scope_side = "together with scope tvm.relax (python/tvm/relax/__init__.py); land the edit to existing code as a separate change and discuss it there"
    assert out.splitlines() == [
        f"{BUILDER}:{builder_line}:1: SG501 this change renames existing module tvm.driver.build to tvm.driver.builder, outside every scope, {scope_side}",
        f"{PRINTER}:{printer_line}:1: SG501 this change edits existing module tvm.ir.printer, outside every scope, {scope_side}",
        f"{PRINTER}:{printer_line}:23: SG502 this change adds an import of tvm.relax.expr (scope tvm.relax) to tvm.ir.printer, "
        "outside the scope (unguarded); propose the integration point as a separate change, then add tvm.ir.printer to the scope's `allow`",
        f"{TEST_IR}:1:1: SG501 this change deletes existing module tests/python/ir/test_ir.py, outside every scope, {scope_side}",
    ]
    # builder.py's `import tvm.relax` is no new edge: build.py imported tvm.relax at BASE already.


def test_working_tree_changes_and_untracked_files_count_and_nothing_is_written(tmp_path):
    repo = tmp_path / "repo"
    init_repo(repo)
    git_dir = {p: p.read_bytes() for p in (repo / ".git").rglob("*") if p.is_file()}
    code, found, _ = json_check(run_main, repo, "--diff", "HEAD")
    assert (code, found) == (0, [])
    write(repo, {"python/tvm/ir/new.py": "import os\n\n\ndef f():\n    from tvm.contrib import msc\n"})  # untracked
    code, found, _ = json_check(run_main, repo, "--diff", "HEAD")
    assert found == [
        ("python/tvm/ir/new.py", 5, 29, "SG202", "tvm.ir.new", "tvm.contrib.msc"),
        ("python/tvm/ir/new.py", 5, 29, "SG502", "tvm.ir.new", "tvm.contrib.msc"),
    ]
    # A new file outside every scope is not an existing module: no SG501 even with a scope edit.
    append(repo, "python/tvm/relax/expr.py", "X = 1\n")
    _, found, _ = json_check(run_main, repo, "--diff", "HEAD", "--select", "SG501")
    assert found == []
    # Only read-only git commands ran: not one byte under .git changed (not even the index).
    assert {p: p.read_bytes() for p in (repo / ".git").rglob("*") if p.is_file()} == git_dir


def test_change_inside_a_scope_only_is_clean(tmp_path):
    repo = tmp_path / "repo"
    init_repo(repo)
    append(repo, "python/tvm/relax/__init__.py", "from tvm.contrib.msc import core\n")  # SG101: a tree rule
    append(repo, "tests/python/relax/test_expr.py", "X = 1\n")
    code, found, _ = json_check(run_main, repo, "--diff", "HEAD", "--select", "SG1,SG5")
    assert code == 1 and [f[3] for f in found] == ["SG101"]


def test_plain_check_never_runs_the_change_rules(changed):
    repo, *_ = changed
    code, out, _ = run_main("check", ".", "--no-cache", "--select", "SG5", cwd=repo)
    assert (code, out.startswith("No violations;")) == (0, True)


def test_bad_base_and_no_repository_exit_2_with_a_clear_message(tmp_path):
    repo = tmp_path / "repo"
    init_repo(repo)
    code, out, err = run_main("check", ".", "--no-cache", "--diff", "no-such-branch", cwd=repo)
    assert (code, out) == (2, "")
    assert err.startswith(f"scopeguard: error: --diff no-such-branch: no such commit, branch or tag in {repo.resolve()};")
    code, _, err = run_main("check", ".", "--no-cache", "--diff", "--output=x", cwd=repo)
    assert code == 2
    plain = tmp_path / "plain"
    shutil.copytree(FIXTURES / "clean_project", plain)
    code, _, err = run_main("check", str(plain), "--no-cache", "--diff", "main", cwd=tmp_path, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert code == 2 and "--diff needs a git repository" in err


# The change rules document themselves, and their before/after examples run through git.

@pytest.mark.parametrize("rule", CHANGE_RULES, ids=[r.code for r in CHANGE_RULES])
def test_change_rules_document_themselves(rule):
    doc = rule.documentation()
    for section in ("## What it does", "## Why is this bad", "## Fix", "## Example", "## Use instead", "at BASE"):
        assert section in doc
    assert rule in CATALOGUE and RULES_BY_CODE[rule.code] is rule and rule.VALID and rule.INVALID
    code, out, _ = run_main("rule")
    assert code == 0 and any(line.startswith(f"{rule.code}  {rule.name} ") for line in out.splitlines())


CHANGE_EXAMPLES = [(r, k, i) for r in CHANGE_RULES for k in ("VALID", "INVALID") for i in range(len(getattr(r, k)))]


@pytest.mark.parametrize("rule, kind, index", CHANGE_EXAMPLES, ids=[f"{r.code}-{k}-{i}" for r, k, i in CHANGE_EXAMPLES])
def test_change_rule_examples(tmp_path, rule, kind, index):
    from scopeguard.run.changes import check_diff
    from scopeguard.config import load_config

    example = getattr(rule, kind)[index]
    repo = tmp_path / "repo"
    before = {"pyproject.toml": EXAMPLE_PYPROJECT, **example.before_files()}
    init_repo(repo, before)
    after = {**example.files(), "pyproject.toml": example.pyproject or EXAMPLE_PYPROJECT}
    write(repo, {path: after.get(path) for path in {*before, *after}
                 if (repo / path).exists() != (path in after) or (path in after and (repo / path).read_text() != after[path])})
    found = check_diff(load_config(repo / "pyproject.toml"), "HEAD", [rule.code]).violations
    found = [v for v in found if v.code == rule.code]
    if kind == "VALID":
        assert found == []
    else:
        expected_path = "pyproject.toml" if example.pyproject and not example.code else example.path
        assert found and {v.path for v in found} == {expected_path}
        assert example.lines or rule.code.startswith("SG5"), f"{rule.code}: INVALID example {index} does not pin its lines"
        if example.lines:  # the examples that pin where their rule fires
            assert sorted(v.line for v in found) == list(example.lines)


def test_custom_registry_lookup_is_the_same_finding_on_both_sides(tmp_path):
    """Both sides of --diff are scanned with the same settings: a lookup function declared in
    `[tool.scopeguard.registries]` is recorded at BASE too, so a comment-only change to a file with
    an existing SG207 adds nothing (it used to show as "1 new ... 0 already there")."""
    caller = "python/tvm/ir/transform.py"
    repo = tmp_path / "repo"
    init_repo(repo, {
        **EXAMPLE_FILES,
        "pyproject.toml": EXAMPLE_PYPROJECT + '\n[tool.scopeguard.registries]\nlookup = ["my_lookup"]\n',
        caller: 'from tvm.support import my_lookup\n\n\ndef legalize(mod):\n    return my_lookup("relax.legalize")(mod)\n',
    })
    code, found, _ = json_check(run_main, repo)
    assert (code, found) == (1, [(caller, 5, 12, "SG207", "tvm.ir.transform", "relax.legalize")])
    append(repo, caller, "# a comment\n")
    code, out, _ = run_main("check", ".", "--no-cache", "--diff", "HEAD", cwd=repo)
    assert code == 0, out
    assert "1 already there" in out
    code, found, data = json_check(run_main, repo, "--diff", "HEAD")
    assert (code, found, data["diff"]["preexisting"]) == (0, [], 1)


def test_packaging_and_cmake_files_are_compared_with_their_base_content(tmp_path):
    """BASE's side is BASE's packaging and CMake files, not the working tree's: a MANIFEST.in line
    naming a scope is new when the change adds it, and a CMake option the change removes leaves
    its toggle without a switch (SG404) as a new finding."""
    repo = tmp_path / "repo"
    init_repo(repo, {
        **EXAMPLE_FILES,
        "pyproject.toml": EXAMPLE_PYPROJECT,
        "python/tvm/support.py": 'import os\n\nUSE_MSC = False\n_RUNTIME_ONLY = os.environ.get("TVM_USE_RUNTIME_LIB") == "1"\n',
        "MANIFEST.in": "include README.md\n",
        "cmake/config.cmake": "set(USE_MSC OFF)\n",
    })
    code, found, data = json_check(run_main, repo, "--diff", "HEAD", "--select", "SG303,SG404")
    assert (code, found, data["diff"]["preexisting"]) == (0, [], 0)
    append(repo, "MANIFEST.in", "recursive-include python/tvm/relax *.py\n")
    write(repo, {"cmake/config.cmake": "set(USE_CUDA OFF)\n"})
    code, found, data = json_check(run_main, repo, "--diff", "HEAD", "--select", "SG303,SG404")
    assert (code, data["diff"]["preexisting"]) == (1, 0)
    assert [(path, line, rule) for path, line, _, rule, *_ in found] == [
        ("MANIFEST.in", 2, "SG303"),
        ("pyproject.toml", 20, "SG404"),  # scope tvm.contrib.msc, toggle msc
    ]
    # Committed, they are BASE's too: a comment-only change adds nothing.
    git(repo, "commit", "-q", "-am", "manifest and cmake")
    append(repo, "MANIFEST.in", "# a comment\n")
    code, found, data = json_check(run_main, repo, "--diff", "HEAD", "--select", "SG303,SG404")
    assert (code, found, data["diff"]["preexisting"]) == (0, [], 2)


# The change is judged with BASE's configuration: a change cannot loosen the checks on itself, and
# each key it edits in [tool.scopeguard] is reported (SG007) at its line.

TRANSFORM = "python/tvm/ir/transform.py"
RELAX_SG201 = (TRANSFORM, 1, 8, "SG201", "tvm.ir.transform", "tvm.relax")


def config_repo(tmp_path: Path) -> Path:
    """The rule examples' project committed on main, with its configuration."""
    repo = tmp_path / "repo"
    init_repo(repo, {**EXAMPLE_FILES, "pyproject.toml": EXAMPLE_PYPROJECT})
    return repo


def with_top_keys(text: str) -> str:
    """EXAMPLE_PYPROJECT with `text` added to [tool.scopeguard] as its line 4 on."""
    line = 'extra_roots = ["tests/python"]\n'
    return EXAMPLE_PYPROJECT.replace(line, line + text)


def sg007(line: int, key: str):
    return ("pyproject.toml", line, 1, "SG007", "pyproject.toml", key)


def test_a_change_that_excludes_everything_still_gets_its_sg201(tmp_path):
    repo = config_repo(tmp_path)
    write(repo, {"pyproject.toml": with_top_keys('exclude = ["**"]\n'), TRANSFORM: "import tvm.relax\n"})
    code, found, data = json_check(run_main, repo, "--diff", "main", "--ignore", "SG5")
    assert code == 1
    assert found == [sg007(4, "tool.scopeguard.exclude"), RELAX_SG201]
    assert data["summary"]["files_analysed"] == len(EXAMPLE_FILES)  # every file, as BASE excludes none
    # The one-line summary counts it; SARIF carries it with its rule.
    code, out, _ = run_main("check", ".", "--no-cache", "--diff", "main", "--ignore", "SG5", cwd=repo)
    assert code == 1 and out.splitlines()[-1].startswith("Found 2 new violation(s) in 2 file(s) (SG007 x1, SG201 x1);")
    code, out, _ = run_main("check", ".", "--no-cache", "--diff", "main", "--ignore", "SG5", "--format", "sarif", cwd=repo)
    run = json.loads(out)["runs"][0]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]] == [
        ("SG007", 4), ("SG201", 1)]
    assert "SG007" in {rule["id"] for rule in run["tool"]["driver"]["rules"]}


def test_a_change_that_drops_a_scope_registration_is_still_judged_by_it(tmp_path):
    repo = config_repo(tmp_path)
    msc = EXAMPLE_PYPROJECT.index('[[tool.scopeguard.scopes]]\nname = "tvm.contrib.msc"')
    head = EXAMPLE_PYPROJECT[:msc].rstrip("\n") + "\n"
    write(repo, {"pyproject.toml": head, TRANSFORM: "from tvm.contrib.msc import core\n"})
    code, found, _ = json_check(run_main, repo, "--diff", "main", "--ignore", "SG5")
    assert code == 1
    # The registration was removed at the end of the file: its last line stands for it.
    assert found == [
        sg007(len(head.splitlines()), 'tool.scopeguard.scopes["tvm.contrib.msc"]'),
        (TRANSFORM, 1, 29, "SG201", "tvm.ir.transform", "tvm.contrib.msc.core"),
    ]


def test_a_change_cannot_ignore_its_own_findings_or_stop_failing(tmp_path):
    repo = config_repo(tmp_path)
    write(repo, {
        "pyproject.toml": with_top_keys('ignore = ["SG2"]\nfail_on = "never"\nper_file_ignores = { "python/**" = ["SG2"] }\n'),
        TRANSFORM: "import tvm.relax\n",
    })
    code, found, _ = json_check(run_main, repo, "--diff", "main", "--ignore", "SG5")
    assert code == 1
    assert found == [sg007(4, "tool.scopeguard.ignore"), sg007(5, "tool.scopeguard.fail_on"),
                     sg007(6, "tool.scopeguard.per_file_ignores"), RELAX_SG201]
    # A new allow entry, or a guard spelling the change declares itself, does not count either.
    write(repo, {
        "pyproject.toml": EXAMPLE_PYPROJECT.replace('allow = ["tvm.script.parser"]', 'allow = ["tvm.script.parser", "tvm.ir"]')
        .replace('on_when_false = ["_RUNTIME_ONLY", "TVM_USE_RUNTIME_LIB"]', 'on_when_false = ["_RUNTIME_ONLY", "TVM_USE_RUNTIME_LIB", "ANYTHING"]'),
        TRANSFORM: "ANYTHING = False\nif not ANYTHING:\n    import tvm.relax\n",
    })
    code, found, _ = json_check(run_main, repo, "--diff", "main", "--ignore", "SG5")
    assert code == 1
    assert found == [sg007(6, 'tool.scopeguard.toggles.relax.on_when_false'),
                     sg007(15, 'tool.scopeguard.scopes["tvm.relax"].allow'),
                     (TRANSFORM, 3, 12, "SG201", "tvm.ir.transform", "tvm.relax")]


def test_a_pure_configuration_change_is_one_sg007_at_its_line_and_no_change_is_nothing(tmp_path):
    repo = config_repo(tmp_path)
    # Formatting and comments are no change.
    write(repo, {"pyproject.toml": "# scopes of TVM\n" + EXAMPLE_PYPROJECT.replace(" = ", "  =  ")})
    code, found, data = json_check(run_main, repo, "--diff", "main")
    assert (code, found, data["diff"]["preexisting"]) == (0, [], 0)
    # One key removed in the middle: located where it was removed (the line now in its place).
    write(repo, {"pyproject.toml": EXAMPLE_PYPROJECT.replace('extra_paths = ["tests/python/relax"]\n', "")})
    code, found, _ = json_check(run_main, repo, "--diff", "main")
    assert (code, found) == (1, [sg007(16, 'tool.scopeguard.scopes["tvm.relax"].extra_paths')])
    assert (repo / "pyproject.toml").read_text().splitlines()[15] == 'ffi_prefixes = ["relax."]'
    # A scope deleted together with its registration: one SG007, no "names no module" error.
    msc = EXAMPLE_PYPROJECT.index('[[tool.scopeguard.scopes]]\nname = "tvm.contrib.msc"')
    write(repo, {"pyproject.toml": EXAMPLE_PYPROJECT[:msc] + "# msc was removed\n"})
    shutil.rmtree(repo / "python/tvm/contrib/msc")
    shutil.rmtree(repo / "tests/python/contrib/test_msc")
    code, found, _ = json_check(run_main, repo, "--diff", "main")
    assert (code, found) == (1, [sg007(19, 'tool.scopeguard.scopes["tvm.contrib.msc"]')])
    # Committed, the configuration is BASE's: nothing new.
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "remove msc")
    code, found, _ = json_check(run_main, repo, "--diff", "HEAD")
    assert (code, found) == (0, [])


def test_a_base_without_a_configuration_exits_2(tmp_path):
    repo = tmp_path / "repo"
    init_repo(repo, {**EXAMPLE_FILES, "pyproject.toml": "[project]\nname = 'tvm'\n"})
    write(repo, {"pyproject.toml": EXAMPLE_PYPROJECT, TRANSFORM: "import tvm.relax\n"})
    code, out, err = run_main("check", ".", "--no-cache", "--diff", "main", cwd=repo)
    assert (code, out) == (2, "")
    commit = git(repo, "rev-parse", "main").strip()[:12]
    assert err.startswith(f"scopeguard: error: --diff main: pyproject.toml at main ({commit}) has no [tool.scopeguard] "
                          "table; --diff judges a change with BASE's configuration")
    git(repo, "rm", "-q", "--cached", "pyproject.toml")
    git(repo, "commit", "-q", "-m", "no pyproject")
    code, _, err = run_main("check", ".", "--no-cache", "--diff", "HEAD", cwd=repo)
    assert code == 2 and "pyproject.toml at HEAD" in err and "does not exist" in err
    # A BASE table that is no valid configuration is reported where it is wrong, at BASE.
    write(repo, {"pyproject.toml": EXAMPLE_PYPROJECT.replace('toggle = "relax"', 'toggle = "relx"')})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "broken")
    write(repo, {"pyproject.toml": EXAMPLE_PYPROJECT})
    code, _, err = run_main("check", ".", "--no-cache", "--diff", "HEAD", cwd=repo)
    assert code == 2 and err.startswith("scopeguard: error: pyproject.toml at HEAD") and ":14: tool.scopeguard.scopes[0].toggle:" in err


def test_the_base_configuration_is_read_bounded_and_never_through_a_link_outside(tmp_path):
    from scopeguard.run.changes import GitError, Repository

    repo = config_repo(tmp_path)
    # A configuration committed as a link inside the project is followed, as the checkout does.
    (repo / "conf").mkdir()
    git(repo, "mv", "pyproject.toml", "conf/scopeguard.toml")
    os.symlink("conf/scopeguard.toml", repo / "pyproject.toml")
    git(repo, "add", "pyproject.toml")
    git(repo, "commit", "-q", "-m", "linked")
    code, found, _ = json_check(run_main, repo, "--diff", "HEAD")
    assert (code, found) == (0, [])
    # One leading outside is never read; a blob above the limit neither.
    os.remove(repo / "pyproject.toml")
    os.symlink("../outside.toml", repo / "pyproject.toml")
    (tmp_path / "outside.toml").write_text(EXAMPLE_PYPROJECT)
    git(repo, "add", "pyproject.toml")
    git(repo, "commit", "-q", "-m", "outside")
    top = Repository.find(str(repo))
    with pytest.raises(GitError, match=r"pyproject.toml at \w+ is a symlink to ../outside.toml, outside the project"):
        top.read_config("HEAD", "pyproject.toml")
    assert top.read_config("HEAD", "conf/scopeguard.toml") == EXAMPLE_PYPROJECT.encode()
    with pytest.raises(GitError, match="above the limit of 100"):
        top.read_config("HEAD", "conf/scopeguard.toml", limit=100)
    assert top.read_config("HEAD", "no/such.toml") is None
