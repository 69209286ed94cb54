"""Issue 25, class 6: names that are the same to Python. The tokenizer NFKC-normalises identifiers
(`import pkg.ｆｅａｔ` loads `pkg.feat`); string literals stay as written (`import_module("pkg.ｆｅａｔ")`
finds nothing). CPython is the oracle: each case is run, and scopeguard must agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scopeguard.config import ConfigError, load_config
from scopeguard.facts.syntax import nfkc_identifiers

from .inprocess import run_main

FEAT = "\uff46\uff45\uff41\uff54"  # ｆｅａｔ
USE_FEAT = "\uff35\uff33\uff25\uff3f\uff26\uff25\uff21\uff34"  # ＵＳＥ＿ＦＥＡＴ (＿ is U+FF3F)

CONFIG = """\
[tool.scopeguard]
source_roots = ["src"]

[tool.scopeguard.toggles.feat]
on_when_true = ["USE_FEAT"]

[[tool.scopeguard.scopes]]
name = "pkg.feat"
toggle = "feat"
"""


def make_project(root: Path, module: str) -> Path:
    (root / "pyproject.toml").write_text(CONFIG)
    for name, text in {"src/pkg/__init__.py": "", "src/pkg/feat/__init__.py": "", "src/pkg/mod.py": module}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def loads_feat(root: Path) -> bool:
    """CPython's answer: importing pkg.mod loads pkg.feat."""
    run = subprocess.run([sys.executable, "-c", "import sys, pkg.mod; print('pkg.feat' in sys.modules)"],
                         cwd=root / "src", capture_output=True, text=True, timeout=60)
    return run.stdout.strip() == "True"


def check(capsys, root: Path, *args: str) -> tuple[int, list[str]]:
    code, out, _err = run_main("check", str(root), "--no-cache", *args, cwd=root)
    return code, out.splitlines()


def test_a_fullwidth_import_of_the_scope_is_reported(tmp_path, capsys):
    root = make_project(tmp_path, f"import pkg.{FEAT}\n")
    assert loads_feat(root)
    code, lines = check(capsys, root)
    assert code == 1
    assert lines[0].endswith("src/pkg/mod.py:1:8: SG201 pkg.mod imports pkg.feat (scope pkg.feat) at import time "
                             "without a guard; guard it with `if USE_FEAT:`, move it into pkg.feat, or add pkg.mod "
                             "to the scope's `allow`")
    code, out, _err = run_main("delete-plan", "pkg.feat", str(root), "--no-cache", cwd=root)
    assert "src/pkg/mod.py:1: pkg.mod -> pkg.feat (deleted)" in out
    assert "Not clean: 1 broken at import time" in out


def test_a_fullwidth_redefinition_of_the_toggle_is_seen(tmp_path, capsys):
    """`ＵＳＥ＿ＦＥＡＴ = True` binds USE_FEAT: the `if USE_FEAT:` below is always true, no guard."""
    root = make_project(tmp_path, f"{USE_FEAT} = True\nif USE_FEAT:\n    import pkg.feat\n")
    assert loads_feat(root)
    code, lines = check(capsys, root)
    assert code == 1
    assert lines[0].split(": SG201 ")[0].endswith("src/pkg/mod.py:3:12")
    assert lines[0].split(": SG201 ")[1].startswith("pkg.mod imports pkg.feat (scope pkg.feat) at import time without")


def test_a_fullwidth_from_import_and_attribute_are_normalised(tmp_path, capsys):
    root = make_project(tmp_path, f"from pkg import {FEAT}\n")
    assert loads_feat(root)
    code, lines = check(capsys, root)
    assert code == 1 and ": SG201 pkg.mod imports pkg.feat" in lines[0]


def test_string_literals_are_not_normalised(tmp_path, capsys):
    """import_module("pkg.ｆｅａｔ") looks for a module of that very name: it loads nothing here."""
    root = make_project(tmp_path, f"import importlib\ntry:\n    importlib.import_module('pkg.{FEAT}')\n"
                                  "except ImportError:\n    pass\n")
    assert not loads_feat(root)
    assert nfkc_identifiers(f"x = 'pkg.{FEAT}'  # {FEAT}\n".encode()) == f"x = 'pkg.{FEAT}'  # {FEAT}\n".encode()
    code, lines = check(capsys, root, "--select", "SG201")
    assert code == 0, lines


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (f"import pkg.{FEAT}\n", "import pkg.feat\n"),
        (f"{USE_FEAT} = 1  # {USE_FEAT}\n", f"USE_FEAT = 1  # {USE_FEAT}\n"),
        ("\ufb01le = f'\ufb01'\n", "file = f'\ufb01'\n"),  # the ligature ﬁ: two letters to Python
        ("caf\u00e9 = 1\n", "caf\u00e9 = 1\n"),  # already NFKC: unchanged
        ("x = 1\n", "x = 1\n"),
    ],
)
def test_identifiers_are_normalised_as_cpython_does(source, expected):
    import ast

    assert nfkc_identifiers(source.encode()) == expected.encode()
    if not source.startswith("import"):  # CPython binds the normalised names
        scope: dict = {}
        exec(compile(source, "<case>", "exec"), {}, scope)  # noqa: S102 - the test's own literals
        assert set(scope) == {n.id for n in ast.walk(ast.parse(expected)) if isinstance(n, ast.Name)}


def test_a_long_ascii_word_is_scanned_in_linear_time():
    source = ("x" * 2_000_000 + " = 'ｆ'\n").encode()
    import time

    start = time.monotonic()
    assert nfkc_identifiers(source) == source
    assert time.monotonic() - start < 5


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (f'name = "pkg.{FEAT}"', f"'pkg.{FEAT}' is not written as Python reads it; write 'pkg.feat'"),
        (f'on_when_true = ["{USE_FEAT}"]', f"'{USE_FEAT}' is not written as Python reads it; write 'USE_FEAT'"),
    ],
)
def test_config_names_must_be_nfkc(tmp_path, setting, message):
    text = CONFIG.replace('name = "pkg.feat"', setting) if setting.startswith("name") else \
        CONFIG.replace('on_when_true = ["USE_FEAT"]', setting)
    root = make_project(tmp_path, "")
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(root / "pyproject.toml")
    assert message in str(error.value)
