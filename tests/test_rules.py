"""Every rule documents itself, and the examples in its documentation are run here."""

from __future__ import annotations

import pytest

from scopeguard.config import load_config
from scopeguard.run.pipeline import analyse
from scopeguard.rules import ALL_RULES, RULES_BY_CODE, selected, unknown_prefixes
from scopeguard.rules.base import EXAMPLE_PYPROJECT

EXAMPLES = [(rule, kind, i) for rule in ALL_RULES for kind in ("VALID", "INVALID") for i in range(len(getattr(rule, kind)))]


def _run_example(tmp_path, rule, example):
    for path, code in example.files().items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code)
    (tmp_path / "pyproject.toml").write_text(example.pyproject or EXAMPLE_PYPROJECT)
    config = load_config(tmp_path / "pyproject.toml")
    return [v for v in analyse(config, select=[rule.code]).violations if v.code == rule.code]


@pytest.mark.parametrize("rule, kind, index", EXAMPLES, ids=[f"{r.code}-{k}-{i}" for r, k, i in EXAMPLES])
def test_rule_examples(tmp_path, rule, kind, index):
    example = getattr(rule, kind)[index]
    found = _run_example(tmp_path, rule, example)
    if kind == "VALID":
        assert found == []
    else:
        expected_path = "pyproject.toml" if example.pyproject and not example.code else example.path
        assert found, f"{rule.code} did not fire on its INVALID example"
        assert {v.path for v in found} == {expected_path}
        # each INVALID example pins where its rule fires (as Fixit's Invalid(range=...)): a rule
        # that fires on the wrong line, or on one line too many, fails here
        assert example.lines, f"{rule.code}: INVALID example {index} does not pin its lines"
        assert sorted(v.line for v in found) == list(example.lines)


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.code for r in ALL_RULES])
def test_every_rule_documents_itself(rule):
    doc = rule.documentation()
    assert doc.startswith(f"{rule.code} {rule.name} ")
    for section in ("## What it does", "## Why is this bad", "## Fix", "## Example", "## Use instead"):
        assert section in doc, f"{rule.code} lacks {section}"
    assert rule.VALID and rule.INVALID
    assert rule.name == rule.name.lower() and " " not in rule.name and "_" not in rule.name


def test_codes_are_unique_and_well_formed():
    codes = [rule.code for rule in ALL_RULES]
    assert len(codes) == len(set(codes))
    assert all(len(code) == 5 and code.startswith("SG") and code[2:].isdigit() for code in codes)
    assert len({rule.name for rule in ALL_RULES}) == len(ALL_RULES)


def test_selection_by_prefix():
    assert [r.code for r in selected(["SG2"], ["SG203", "SG206"])] == ["SG201", "SG202", "SG204", "SG205", "SG207", "SG208"]
    assert [r.code for r in selected(["sg4"])] == ["SG401", "SG402", "SG403", "SG404", "SG405"]
    assert unknown_prefixes(["SG2", "SG9", "XX"]) == ["SG9", "XX"]
    assert RULES_BY_CODE["SG201"].name == "unguarded-import"


def test_rule_command_prints_documentation(run_cli):
    code, out, _ = run_cli("rule", "SG201")
    assert code == 0
    assert out.startswith("SG201 unguarded-import (error)\n")
    assert "## Use instead" in out and "if USE_MSC:" in out
    code, out, _ = run_cli("rule", "unguarded-lazy-import")
    assert code == 0 and out.startswith("SG202 ")
    code, out, _ = run_cli("rule")
    from scopeguard.rules import CATALOGUE  # the tree rules and the change rules (SG5xx)

    assert code == 0 and len(out.splitlines()) == len(CATALOGUE)
    code, _, err = run_cli("rule", "SG210")
    assert code == 2 and "unknown rule 'SG210'; did you mean" in err


SG403_CONFIG = """\
[tool.scopeguard]
source_roots = ["src"]

[tool.scopeguard.toggles.feature]
on_when_true = ["USE_FEATURE"]

[tool.scopeguard.toggles.other]
on_when_true = ["USE_OTHER"]

[tool.scopeguard.toggles.loose]
on_when_true = ["USE_LOOSE"]

[[tool.scopeguard.scopes]]
name = "app.feature"
toggle = "feature"

[[tool.scopeguard.scopes]]
name = "app.other"
toggle = "other"
"""


def _write_tree(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_sg403_says_whose_toggle_guards_the_import(tmp_path, run_cli):
    # The toggle in the guard may be another scope's, or a toggle no scope owns: the message says
    # which, instead of calling every wrong toggle "another scope's".
    files = {
        "pyproject.toml": SG403_CONFIG,
        "src/app/__init__.py": "USE_FEATURE = USE_OTHER = USE_LOOSE = False\n",
        "src/app/feature/__init__.py": "", "src/app/other/__init__.py": "",
        "src/app/core.py": "from app import USE_OTHER, USE_LOOSE\nif USE_OTHER:\n    import app.feature\nif USE_LOOSE:\n    import app.feature\n",
    }
    _write_tree(tmp_path, files)
    code, out, _ = run_cli("check", str(tmp_path), "--no-cache", "--select", "SG403", cwd=tmp_path)
    assert code == 1
    lines = [line for line in out.splitlines() if " SG403 " in line]
    assert [line.split(":")[1] for line in lines] == ["3", "5"]
    assert "behind toggle other (scope app.other's toggle), not the scope's toggle feature" in lines[0]
    assert "behind toggle loose (no scope's toggle), not the scope's toggle feature" in lines[1]


def test_one_finding_per_statement_and_scope(tmp_path, run_cli):
    # TVM v0.16's `from tvm.relax.op import builtin, ccl, grad, ...` imports eight submodules of one
    # scope in one statement: one decision, so one finding, the other modules named in it.
    files = {
        "pyproject.toml": SG403_CONFIG,
        "src/app/__init__.py": "", "src/app/feature/__init__.py": "", "src/app/feature/op/__init__.py": "",
        "src/app/feature/op/a.py": "", "src/app/feature/op/b.py": "", "src/app/feature/op/c.py": "",
        "src/app/other/__init__.py": "",
        # (the function first: below the module-level import, its import would load nothing new)
        "src/app/core.py": "def f():\n    from app.feature.op import (a,\n        b)\n\n\nfrom app.feature.op import a, b, c\n",
    }
    _write_tree(tmp_path, files)
    code, out, _ = run_cli("check", str(tmp_path), "--no-cache", "--select", "SG2", cwd=tmp_path)
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith("src/")]
    assert [line.split(": ")[0] + " " + line.split()[1] for line in lines] == [
        "src/app/core.py:2:5 SG202", "src/app/core.py:6:28 SG201"]
    assert "imports app.feature.op.a (scope app.feature)" in lines[1]
    assert lines[1].endswith("[the statement also imports app.feature.op.b, app.feature.op.c]")
    assert lines[0].endswith("[the statement also imports app.feature.op.b]")


def test_check_and_delete_plan_agree_on_the_line_and_a_run_once_import_is_one_finding(tmp_path, run_cli):
    import json

    files = {
        "pyproject.toml": SG403_CONFIG,
        "src/app/__init__.py": "", "src/app/feature/__init__.py": "", "src/app/feature/op/__init__.py": "",
        "src/app/feature/op/a.py": "", "src/app/feature/op/b.py": "", "src/app/other/__init__.py": "",
        # A multi-line statement (its name on line 2), and a lazy import of another module in a
        # function that the module calls while it is imported (so it runs once, at import time:
        # SG201, not SG202 too).
        "src/app/core.py": "from app.feature.op import (\n    b)\n\n\n\ndef f():\n    from app.feature.op import a\n\n\nf()\n",
        "src/app/lazy.py": "def g():\n    from app.feature.op import (\n        b)\n",
    }
    _write_tree(tmp_path, files)
    code, out, _ = run_cli("check", str(tmp_path), "--no-cache", "--select", "SG2", "--format", "json", cwd=tmp_path)
    assert code == 1
    found = sorted((v["code"], v["path"], v["line"]) for v in json.loads(out)["violations"])
    assert found == [("SG201", "src/app/core.py", 1), ("SG201", "src/app/core.py", 7), ("SG202", "src/app/lazy.py", 2)]
    code, out, _ = run_cli("delete-plan", "app.feature", str(tmp_path), "--format", "json", cwd=tmp_path)
    plan = json.loads(out)
    assert [(b["path"], b["line"]) for b in plan["broken"]] == [("src/app/core.py", 1)]
    assert [(x["path"], x["line"]) for x in plan["lazy"]] == [("src/app/lazy.py", 2)]



LOADED_BEFORE = {
    "pyproject.toml": SG403_CONFIG,
    "src/app/__init__.py": "", "src/app/feature/__init__.py": "", "src/app/feature/op/__init__.py": "",
    "src/app/feature/op/a.py": "", "src/app/other/__init__.py": "",
    # transformers' modeling_utils: the scope imported at the top (line 1), and again inside a
    # function (line 5) that other modules call while they are imported.
    "src/app/core.py": "from app.feature.op import a\n\n\ndef init_weights():\n    from app.feature.op import a\n    return a\n",
    "src/app/user.py": "from app.core import init_weights\n\ninit_weights()\n",
    # The same import in a function written above the module's own import of the scope (line 5),
    # or below one that only a try/except guards (line 12): the function's import may be the one
    # that loads it, so each is reported where it runs.
    "src/app/early.py": "def setup():\n    from app.feature.op import a\n\n\nfrom app.feature.op import a\n",
    "src/app/optional.py": ("try:\n    from app.feature.op import a\nexcept ImportError:\n    a = None\n\n\n"
                            "def setup():\n    from app.feature.op import a\n    return a\n\n\nsetup()\n"),
    "src/app/caller.py": "from app.early import setup\n\nsetup()\n",
}


def test_an_import_in_a_function_below_a_module_level_import_of_the_same_module_is_no_second_finding(tmp_path, run_cli):
    import json

    _write_tree(tmp_path, LOADED_BEFORE)
    code, out, _ = run_cli("check", str(tmp_path), "--no-cache", "--select", "SG2", "--format", "json", cwd=tmp_path)
    assert code == 1
    found = sorted((v["code"], v["path"], v["line"]) for v in json.loads(out)["violations"])
    assert found == [
        ("SG201", "src/app/caller.py", 3),  # through early.setup(), defined above early's own import
        ("SG201", "src/app/core.py", 1),
        ("SG201", "src/app/early.py", 5),
        ("SG201", "src/app/optional.py", 8),  # setup() runs at import time; the try may have failed
        ("SG202", "src/app/early.py", 2),
        ("SG204", "src/app/optional.py", 2),
    ]


def test_the_module_level_import_loads_the_scope_before_the_function_can_run_in_cpython(tmp_path):
    # The ground truth for the rule above: when user.py calls init_weights(), the scope is already
    # in sys.modules, loaded by core.py's line 1, and the function's import loads nothing.
    import subprocess
    import sys

    _write_tree(tmp_path, LOADED_BEFORE)
    probe = (
        "import sys, builtins\n"
        "loads = []\n"
        "real = builtins.__import__\n"
        "def spy(name, globals=None, locals=None, fromlist=(), level=0):\n"
        "    before = 'app.feature.op.a' in sys.modules\n"
        "    module = real(name, globals, locals, fromlist, level)\n"
        "    if not before and 'app.feature.op.a' in sys.modules:\n"
        "        code = sys._getframe(1).f_code\n"
        "        loads.append(code.co_filename.rpartition('/')[2] + ':' + code.co_name)\n"
        "    return module\n"
        "builtins.__import__ = spy\n"
        "import app.user\n"
        "print(loads[0], [n for n in loads if 'init_weights' in n])\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path / "src", capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    # the innermost import that loaded it (the first to return) is core.py's, never init_weights'
    assert result.stdout.strip() == "core.py:<module> []"

def test_a_plain_spelling_that_names_a_function_is_reported_and_its_advice_is_a_real_guard(tmp_path, run_cli):
    # Issue 27's repro: `def is_feat_available()` in one module, `if is_feat_available:` (the
    # function object, always true) around `from pkg import feat` in another, the toggle spelled
    # as a plain name. CPython loads pkg.feat; check must not say "No violations".
    files = {
        "pyproject.toml": '[tool.scopeguard]\nsource_roots = ["src"]\n[tool.scopeguard.toggles.feat]\n'
                          'on_when_true = ["is_feat_available"]\n[[tool.scopeguard.scopes]]\nname = "pkg.feat"\n'
                          'toggle = "feat"\n',
        "src/pkg/__init__.py": "", "src/pkg/feat/__init__.py": "",
        "src/pkg/utils.py": "def is_feat_available():\n    return False\n",
        "src/pkg/core.py": "from pkg.utils import is_feat_available\nif is_feat_available:\n    from pkg import feat\n",
    }
    _write_tree(tmp_path, files)
    code, out, _ = run_cli("check", str(tmp_path), "--no-cache", cwd=tmp_path)
    assert code == 1
    assert out.startswith("src/pkg/utils.py:1:1: SG405 is_feat_available is a function")
    # Following the advice (the spelling as a call): the bare test is now the unguarded import it is,
    # and the advice given for it is a call, which is a real guard.
    config = files["pyproject.toml"].replace('["is_feat_available"]', '["is_feat_available()"]')
    (tmp_path / "pyproject.toml").write_text(config)
    code, out, _ = run_cli("check", str(tmp_path), "--no-cache", cwd=tmp_path)
    assert code == 1 and "SG405" not in out
    assert "src/pkg/core.py:3:21: SG201" in out and "`if is_feat_available():`" in out
    (tmp_path / "src/pkg/core.py").write_text(files["src/pkg/core.py"].replace("if is_feat_available:", "if is_feat_available():"))
    code, out, _ = run_cli("check", str(tmp_path), "--no-cache", cwd=tmp_path)
    assert code == 0, out
