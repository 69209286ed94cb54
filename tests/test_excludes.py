"""Excludes follow git's own gitignore semantics (issue 12): pathspec's wildmatch, not a hand-made
regex. Each row is what `git check-ignore` answers for the same pattern and path."""

from __future__ import annotations

import pytest

from scopeguard.cli import main
from scopeguard.collect.discover import ExcludeMatcher

GIT = [
    # pattern(s), path, excluded
    (["a**z.py"], "a/b/z.py", False),  # `**` not a whole path part is a `*`: stays in one part
    (["a**z.py"], "abcz.py", True),
    (["a/**/z.py"], "a/b/c/z.py", True),
    (["a/**/z.py"], "a/z.py", True),
    ([r"\#notes.py"], "#notes.py", True),  # `\` escapes a leading #
    ([r"\!important.py"], "!important.py", True),  # ... and a leading !
    ([r"f\*.py"], "f*.py", True),  # ... and a wildcard
    ([r"f\*.py"], "fo.py", False),
    (["gen_*.py", "!gen_keep.py"], "pkg/gen_a.py", True),  # negation re-includes
    (["gen_*.py", "!gen_keep.py"], "pkg/gen_keep.py", False),
    (["!gen_keep.py", "gen_*.py"], "pkg/gen_keep.py", True),  # the last matching pattern wins
    (["build/", "!build/keep.py"], "build/keep.py", True),  # no re-include inside an excluded folder
    (["build/*", "!build/keep.py"], "build/keep.py", False),  # ... but the folder itself was not excluded
    (["**/_build/**"], "python/_build/x.py", True),
    (["_build"], "python/tvm/_build/x.py", True),
    (["/setup.py"], "pkg/setup.py", False),
    (["./docs/**"], "docs/conf.py", True),  # scopeguard's one addition: a leading ./ is dropped
]


@pytest.mark.parametrize(("patterns", "path", "excluded"), GIT, ids=[f"{'|'.join(r[0])}~{r[1]}" for r in GIT])
def test_gitignore_semantics(patterns, path, excluded):
    assert ExcludeMatcher(patterns)(path) is excluded


def test_negation_works_end_to_end(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.scopeguard]\nsource_roots = ["src"]\nexclude = ["gen_*.py", "!gen_keep.py"]\n'
        '[[tool.scopeguard.scopes]]\nname = "app.feature"\n')
    for name, text in {"src/app/__init__.py": "", "src/app/feature/__init__.py": "",
                       "src/app/gen_drop.py": "from app import feature\n",
                       "src/app/gen_keep.py": "from app import feature\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    code = main(["check", str(tmp_path), "--no-cache", "--select", "SG201"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert [line.split(":")[0].rsplit("/", 3)[-3:] for line in out[:-1]] == [["src", "app", "gen_keep.py"]]
    assert out[-1].endswith("; 3 file(s) analysed.")


@pytest.mark.parametrize(("pattern", "problem"), [
    ("!", "not a gitignore pattern"),
    ("trailing\\", "not a gitignore pattern"),
    ("#comment.py", "a pattern starting with '#' is a comment in gitignore"),
])
def test_patterns_git_cannot_use_are_rejected(tmp_path, capsys, pattern, problem):
    (tmp_path / "src" / "app").mkdir(parents=True)
    (tmp_path / "src" / "app" / "__init__.py").write_text("")
    escaped = pattern.replace("\\", "\\\\")
    (tmp_path / "pyproject.toml").write_text(f'[tool.scopeguard]\nsource_roots = ["src"]\nexclude = ["{escaped}"]\n')
    code = main(["check", str(tmp_path), "--no-cache"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith(f"scopeguard: error: {tmp_path / 'pyproject.toml'}:3: tool.scopeguard.exclude[0]: ")
    assert problem in err
