"""Every malformed configuration ends the command line with exit 2 and one line naming the file, the
line, the key, the problem and a hint; never a traceback, never output on stdout.

tests/test_config.py checks `load_config` itself, row by row (MALFORMED: exact key, line and near
miss). Here the same rows go through the command line, and a second table adds the rest of the
matrix: a wrong type for every key, empty names and entries, spellings and toggles, missing
packages (checked only after discovery), TOML that is not UTF-8 or starts with a byte-order mark.

The first section tests the error type itself, config/errors.py: ConfigError and ConfigErrors.
"""

from __future__ import annotations

import os
import pickle
import textwrap
from pathlib import Path

import pytest

from scopeguard.cli import main
from scopeguard.config import load_config
from scopeguard.config.errors import ConfigError, ConfigErrors

from .test_config import MALFORMED, write

TREE = ("src/app/__init__.py", "src/app/core/__init__.py", "src/app/feature/__init__.py", "tests/feature/test_x.py")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def project(root: Path, text: str | bytes) -> Path:
    for name in TREE:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("", encoding="utf-8")
    path = root / "pyproject.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def assert_config_error(code: int, out: str, err: str, path: Path, line: int, key: str, hint: str | None) -> None:
    assert (code, out) == (2, ""), err
    location = f"{path}:{line}" if line else f"{path}"
    assert err.startswith(f"scopeguard: error: {location}: {key}: "), err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    if hint is not None:
        assert err.rstrip("\n").endswith(f"; {hint}"), err


# -- config/errors.py: ConfigError and ConfigErrors -------------------------------------------------


def test_error_text_with_line_and_hint():
    err = ConfigError("pyproject.toml", 7, "tool.scopeguard.scopes[1].toggle", "toggle 'mcs' is not defined",
                      "did you mean 'msc'?")
    assert str(err) == (
        "pyproject.toml:7: tool.scopeguard.scopes[1].toggle: toggle 'mcs' is not defined; did you mean 'msc'?"
    )


def test_error_text_without_line_or_hint():
    err = ConfigError("pyproject.toml", 0, "tool.scopeguard", "no [tool.scopeguard] table")
    assert str(err) == "pyproject.toml: tool.scopeguard: no [tool.scopeguard] table"


def test_error_survives_pickling():
    err = ConfigError("p.toml", 3, "tool.scopeguard.exclude", "bad", "fix it")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.path, copy.line, copy.key, copy.problem, copy.hint) == (
        "p.toml", 3, "tool.scopeguard.exclude", "bad", "fix it"
    )
    assert str(copy) == str(err)


def test_errors_report_every_mistake_one_line_each_fields_from_the_first():
    first = ConfigError("p.toml", 2, "tool.scopeguard.colour", "unknown key 'colour'", "expected one of: ...")
    second = ConfigError("p.toml", 0, "tool.scopeguard.fail_on", "expected one of error, warning, never, got 'x'")
    errors = ConfigErrors([first, second])
    assert isinstance(errors, ConfigError)
    assert errors.errors == (first, second)
    assert (errors.path, errors.line, errors.key, errors.problem, errors.hint) == (
        "p.toml", 2, "tool.scopeguard.colour", "unknown key 'colour'", "expected one of: ...")
    assert str(errors) == (
        "p.toml:2: tool.scopeguard.colour: unknown key 'colour'; expected one of: ...\n"
        "p.toml: tool.scopeguard.fail_on: expected one of error, warning, never, got 'x'"
    )


def test_errors_survive_pickling_with_every_error():
    errors = ConfigErrors([ConfigError("p.toml", 1, "k1", "bad"), ConfigError("p.toml", 5, "k2", "worse", "fix")])
    copy = pickle.loads(pickle.dumps(errors))
    assert type(copy) is ConfigErrors
    assert [(e.path, e.line, e.key, e.problem, e.hint) for e in copy.errors] == [
        ("p.toml", 1, "k1", "bad", ""), ("p.toml", 5, "k2", "worse", "fix")]
    assert str(copy) == str(errors)


def test_independent_mistakes_come_back_together_as_config_errors(tmp_path):
    path = write(tmp_path, '[tool.scopeguard]\ncolour = 1\nfail_on = "sometimes"\n')
    try:
        load_config(path)
    except ConfigErrors as raised:
        errors = raised
    else:
        raise AssertionError("no ConfigErrors")
    assert [(e.key, e.line) for e in errors.errors] == [("tool.scopeguard.colour", 2), ("tool.scopeguard.fail_on", 3)]
    assert str(errors).count("\n") == 1


def test_a_single_mistake_is_a_plain_config_error(tmp_path):
    path = write(tmp_path, "[tool.scopeguard]\ncolour = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert type(info.value) is ConfigError


# -- the rows of test_config.MALFORMED, through the command line -----------------------------------

# Rows whose message carries no separate hint: TOML syntax errors, where the parser's own message
# (with its line) is the advice.
NO_HINT = {"invalid-toml", "invalid-toml-at-end"}


@pytest.mark.parametrize("row", MALFORMED, ids=[row[0] for row in MALFORMED])
def test_every_malformed_row_exits_2_through_the_cli(tmp_path, capsys, row):
    name, text, dirs, key, line, hint = row
    path = write(tmp_path, text, dirs=("src", *dirs))
    code, out, err = run(capsys, "check", str(tmp_path))
    if name == "no-table":  # no [tool.scopeguard] table: the search walks past the file
        assert (code, out) == (2, "") and "no pyproject.toml with a [tool.scopeguard] table" in err
        return
    assert_config_error(code, out, err, path, line, key, None)
    if hint is not None:
        assert hint in err
    if name not in NO_HINT:
        assert "; " in err.split(f"{key}: ", 1)[1], f"no hint: {err}"


# -- the rest of the matrix -------------------------------------------------------------------------

SCOPE = '[[tool.scopeguard.scopes]]\nname = "app.feature"\n'
TOGGLE = '[tool.scopeguard.toggles.feature]\non_when_true = ["USE_FEATURE"]\n'

MORE = [
    # id, pyproject text, key, line, the whole hint
    # wrong types
    ("extra-roots-a-string", '[tool.scopeguard]\nextra_roots = "tests"\n',
     "tool.scopeguard.extra_roots", 2, 'write a list: ["tests"]'),
    ("exclude-a-string", '[tool.scopeguard]\nexclude = "build/**"\n',
     "tool.scopeguard.exclude", 2, 'write a list: ["build/**"]'),
    ("exclude-a-table", "[tool.scopeguard.exclude]\nx = 1\n",
     "tool.scopeguard.exclude", 1, 'write a list: ["..."]'),
    ("source-roots-a-boolean", "[tool.scopeguard]\nsource_roots = true\n",
     "tool.scopeguard.source_roots", 2, 'write a list: ["..."]'),
    ("source-root-an-integer", "[tool.scopeguard]\nsource_roots = [1]\n",
     "tool.scopeguard.source_roots[0]", 2, "put every entry in quotes"),
    ("spelling-a-string", '[tool.scopeguard.toggles.feature]\non_when_true = "USE_FEATURE"\n',
     "tool.scopeguard.toggles.feature.on_when_true", 2, 'write a list: ["USE_FEATURE"]'),
    ("spelling-an-integer", "[tool.scopeguard.toggles.feature]\non_when_false = [0]\n",
     "tool.scopeguard.toggles.feature.on_when_false[0]", 2, "put every entry in quotes"),
    ("decorators-a-boolean", "[tool.scopeguard.toggles.feature]\ndecorators = true\n",
     "tool.scopeguard.toggles.feature.decorators", 2, 'write a list: ["..."]'),
    ("scopes-an-integer", "[tool.scopeguard]\nscopes = 3\n",
     "tool.scopeguard.scopes", 2, "write one [[tool.scopeguard.scopes]] table per scope"),
    ("allow-a-string", SCOPE + 'allow = "app.core"\n',
     "tool.scopeguard.scopes[0].allow", 3, 'write a list: ["app.core"]'),
    ("uses-a-string", SCOPE + 'uses = "app.core"\n',
     "tool.scopeguard.scopes[0].uses", 3, 'write a list: ["app.core"]'),
    ("extra-paths-an-integer", SCOPE + "extra_paths = 3\n",
     "tool.scopeguard.scopes[0].extra_paths", 3, 'write a list: ["..."]'),
    ("toggle-an-array", TOGGLE + SCOPE + 'toggle = ["feature"]\n',
     "tool.scopeguard.scopes[0].toggle", 5, 'name one toggle, e.g. toggle = "msc"'),
    # empty names and entries
    ("scope-name-blank", '[[tool.scopeguard.scopes]]\nname = "   "\n',
     "tool.scopeguard.scopes[0].name", 2, "write a dotted module name such as 'pkg.feature'"),
    ("toggle-name-empty", '[tool.scopeguard.toggles.""]\non_when_true = ["X"]\n',
     'tool.scopeguard.toggles.""', 1, "name it, e.g. [tool.scopeguard.toggles.msc]"),
    ("spelling-empty", '[tool.scopeguard.toggles.feature]\non_when_true = [""]\n',
     "tool.scopeguard.toggles.feature.on_when_true[0]", 2, "remove the empty entry"),
    ("uses-empty", SCOPE + 'uses = [""]\n',
     "tool.scopeguard.scopes[0].uses[0]", 3, "remove the empty entry"),
    ("scope-toggle-empty", TOGGLE + SCOPE + 'toggle = ""\n',
     "tool.scopeguard.scopes[0].toggle", 5,
     "name a toggle defined under [tool.scopeguard.toggles], or remove the key"),
    # toggles and scopes referenced but undefined
    ("toggle-undefined", TOGGLE + SCOPE + 'toggle = "featur"\n',
     "tool.scopeguard.scopes[0].toggle", 5, "did you mean 'feature'?"),
    ("uses-undeclared-scope", SCOPE + 'uses = ["zzz.qqq"]\n',
     "tool.scopeguard.scopes[0].uses[0]", 3, "list declared scopes only"),
    # cyclic uses, two scopes
    ("uses-cycle-of-two", SCOPE + 'uses = ["app.core"]\n[[tool.scopeguard.scopes]]\nname = "app.core"\n'
     'uses = ["app.feature"]\n',
     "tool.scopeguard.scopes[0].uses[0]", 3,
     "scopes in a cycle cannot be deleted one at a time; merge them or drop a use"),
    # missing packages and paths: found only after discovery
    ("scope-package-missing", '[[tool.scopeguard.scopes]]\nname = "app.featur"\n',
     "tool.scopeguard.scopes[0].name", 2, "did you mean 'app.feature'?"),
    ("allow-package-missing", SCOPE + 'allow = ["app.cor"]\n',
     "tool.scopeguard.scopes[0].allow[0]", 3, "did you mean 'app.core'?"),
    ("extra-path-missing", SCOPE + 'extra_paths = ["tests/featur"]\n',
     "tool.scopeguard.scopes[0].extra_paths[0]", 3, "did you mean 'tests/feature'?"),
    # encodings
    ("not-utf8", b'[tool.scopeguard]\nexclude = ["caf\xe9"]\n',
     "toml", 2, "save it as UTF-8"),
    ("byte-order-mark", b"\xef\xbb\xbf[tool.scopeguard]\n",
     "toml", 1, "save the file as UTF-8 without a byte-order mark"),
]


@pytest.mark.parametrize(("text", "key", "line", "hint"), [row[1:] for row in MORE], ids=[row[0] for row in MORE])
def test_more_malformed_configs_exit_2_with_file_key_and_hint(tmp_path, capsys, text, key, line, hint):
    path = project(tmp_path, text)
    # --config: the walk-up search passes over files it cannot parse (a BOM, bad bytes).
    code, out, err = run(capsys, "check", str(tmp_path), "--config", str(path))
    assert_config_error(code, out, err, path, line, key, hint)


def test_config_that_is_a_folder_exits_2(tmp_path, capsys):
    (tmp_path / "conf.toml").mkdir()
    code, out, err = run(capsys, "check", str(tmp_path), "--config", str(tmp_path / "conf.toml"))
    assert (code, out, err) == (2, "", f"scopeguard: error: {tmp_path / 'conf.toml'}: no such config file\n")


def test_config_errors_exit_2_in_a_real_process_too(tmp_path, run_cli):
    path = project(tmp_path, SCOPE + 'uses = "app.core"\n')
    code, out, err = run_cli("check", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == (f"scopeguard: error: {path}:3: tool.scopeguard.scopes[0].uses: expected a list of strings, "
                   'got a string; write a list: ["app.core"]\n')


# -- issue 13: configs no parser or path check anticipated -------------------------------------------


def test_a_5000_deep_nested_array_exits_2_naming_the_file(tmp_path, run_cli):
    # tomllib recurses once per level: RecursionError, which used to escape as a traceback, exit 1.
    path = project(tmp_path, '[tool.scopeguard]\nsource_roots = ["src"]\nexclude = ' + "[" * 5000 + "]" * 5000 + "\n")
    for args in (("check", str(tmp_path)), ("check", str(tmp_path), "--config", str(path)), ("graph", str(tmp_path))):
        code, out, err = run_cli(*args)
        assert (code, out) == (2, ""), err
        assert err == (f"scopeguard: error: {path}: toml: invalid TOML: arrays or tables nested too deeply to read; "
                       "a scopeguard configuration needs at most two levels\n")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_pyproject_that_is_a_fifo_or_dev_zero_exits_2_without_hanging(tmp_path, run_cli):
    project(tmp_path, "[tool.scopeguard]\n")
    config = tmp_path / "pyproject.toml"
    config.unlink()
    os.mkfifo(config)
    code, out, err = run_cli("check", str(tmp_path), "--config", str(config))
    assert (code, out) == (2, "") and "Traceback" not in err
    config.unlink()
    config.symlink_to("/dev/zero")
    code, out, err = run_cli("check", str(tmp_path))  # a link out of the project: named, never read
    assert (code, out) == (2, "") and "the file is a symlink to /dev/zero, outside the project folder" in err


OUTSIDE = [
    # (config text, key named, line)
    ('[tool.scopeguard]\nsource_roots = ["src"]\nextra_roots = ["../.."]\n', "tool.scopeguard.extra_roots[0]", 3),
    ('[tool.scopeguard]\nsource_roots = ["../.."]\n', "tool.scopeguard.source_roots[0]", 2),
    ('[tool.scopeguard]\nsource_roots = ["/"]\n', "tool.scopeguard.source_roots[0]", 2),
    ('[tool.scopeguard]\nsource_roots = ["src"]\n[[tool.scopeguard.scopes]]\nname = "app.feature"\n'
     'extra_paths = ["../.."]\n', "tool.scopeguard.scopes[0].extra_paths[0]", 5),
    ('[tool.scopeguard]\nsource_roots = ["src"]\n[[tool.scopeguard.scopes]]\nname = "app.feature"\n'
     'extra_paths = ["tests/../../elsewhere"]\n', "tool.scopeguard.scopes[0].extra_paths[0]", 5),
    ('[tool.scopeguard]\nsource_roots = ["src"]\n[[tool.scopeguard.scopes]]\nname = "app.feature"\n'
     'extra_paths = ["."]\n', "tool.scopeguard.scopes[0].extra_paths[0]", 5),
]


@pytest.mark.parametrize(("text", "key", "line"), OUTSIDE, ids=[row[1] + ":" + row[0][-20:] for row in OUTSIDE])
def test_paths_outside_the_project_exit_2_naming_the_key(tmp_path, capsys, text, key, line):
    root = tmp_path / "a" / "b" / "proj"
    root.mkdir(parents=True)
    path = project(root, text)
    code, out, err = run(capsys, "check", str(root))
    assert (code, out) == (2, ""), err
    assert err.startswith(f"scopeguard: error: {path}:{line}: {key}: "), err
    assert "outside the project" in err or "the whole project" in err


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_root_or_cache_dir_that_is_a_symlink_leaving_the_project_exits_2(tmp_path, capsys):
    root = tmp_path / "proj"
    root.mkdir()
    path = project(root, '[tool.scopeguard]\nsource_roots = ["linked"]\n')
    (root / "linked").symlink_to(tmp_path)  # committed by a pull request: walks everything above
    code, out, err = run(capsys, "check", str(root))
    assert (code, out) == (2, "")
    assert err == (f"scopeguard: error: {path}:2: tool.scopeguard.source_roots[0]: 'linked' is outside the project "
                   f"(it resolves to {tmp_path}); name a path inside the project root {root}\n")
    # A cache folder named inside the project must not lead out of it either.
    project(root, '[tool.scopeguard]\nsource_roots = ["src"]\n')
    (tmp_path / "elsewhere").mkdir()
    (root / ".scopeguard_cache").symlink_to(tmp_path / "elsewhere")
    code, out, err = run(capsys, "check", str(root), "--cache-dir", str(root / ".scopeguard_cache"))
    assert (code, out) == (2, "") and err.startswith("scopeguard: error: --cache-dir: ")
    assert list((tmp_path / "elsewhere").iterdir()) == []
