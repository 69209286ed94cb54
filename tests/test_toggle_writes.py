"""Issue 24, namespace writes: a toggle that code turns on at import time does not keep its scope out
(analysis/toggle_writes.py). Each case is judged against CPython: with the toggle off (its default
here), every module is imported on its own in a fresh interpreter, with the scope present and
deleted (tests/reach/runtime.py); a module that then breaks must be reported (at its own line or
through the module it imports), and where nothing breaks, the guard is still trusted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .inprocess import run_main
from .reach.runtime import runtime_truth
from .trees import check_violations, write_tree

PYPROJECT = """\
[tool.scopeguard]
source_roots = ["src"]

[tool.scopeguard.toggles.feat]
on_when_true = ["USE_FEAT"]

[[tool.scopeguard.scopes]]
name = "tw.feat"
toggle = "feat"
"""

BASE = {
    "src/tw/__init__.py": "",
    "src/tw/feat/__init__.py": "VALUE = 1\n",
    "src/tw/config.py": "USE_FEAT = False\n",
    # the guard that trusts the toggle
    "src/tw/m0.py": "from tw.config import USE_FEAT\n\nif USE_FEAT:\n    from tw import feat\n",
}


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_tree(tmp_path / "proj", {**BASE, **files}, PYPROJECT)


def check(root: Path) -> list[dict]:
    return [v for v in check_violations(root) if v["code"].startswith(("SG2", "SG4"))]


def plan(root: Path) -> dict:
    _, out, _ = run_main("delete-plan", "tw.feat", str(root), "--no-cache", "--format", "json")
    return json.loads(out)


def broken(root: Path) -> set[str]:
    return set(runtime_truth(root, ["src"], "tw.feat", {}).broken)


WRITERS = {
    "setattr": 'from tw import config\n\nsetattr(config, "USE_FEAT", True)\nfrom tw import m0\n',
    "attribute": "import tw.config\n\ntw.config.USE_FEAT = 1\nfrom tw import m0\n",
    "computed-setattr": 'from tw import config\n\nsetattr(config, "USE" + "_FEAT", True)\nfrom tw import m0\n',
    "function-called": ("from tw import config\n\n\ndef _enable():\n    config.USE_FEAT = True\n\n\n"
                        "_enable()\nfrom tw import m0\n"),
    "function-of-another-module": "from tw import switch\n\nswitch.enable()\nfrom tw import m0\n",
}
SWITCH = "from tw import config\n\n\ndef enable():\n    config.USE_FEAT = True\n"
WRITE_LINE = {"setattr": 3, "attribute": 3, "computed-setattr": 3, "function-called": 5,
              "function-of-another-module": None}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_toggle_turned_on_at_import_time_does_not_guard_its_scope(tmp_path, writer):
    files = {"src/tw/m1.py": WRITERS[writer]}
    if writer == "function-of-another-module":
        files["src/tw/switch.py"] = SWITCH
    root = project(tmp_path, files)
    assert broken(root) == {"tw.m1"}  # CPython: m0 alone keeps the scope out; through m1 it loads it
    found = check(root)
    assert [(v["code"], v["path"], v["line"]) for v in found] == [("SG201", "src/tw/m0.py", 4)]
    where = (f"src/tw/m1.py:{WRITE_LINE[writer]}" if WRITE_LINE[writer] else "src/tw/switch.py:5")
    assert f"toggle feat is turned on at import time at {where}" in found[0]["message"]
    assert f"remove the import-time write of toggle feat ({where})" in found[0]["message"]
    deletion = plan(root)
    assert not deletion["clean"] and {"tw.m0", "tw.m1"} <= {b["module"] for b in deletion["broken"]}
    notes = [r["message"] for r in found[0].get("related", ()) if r.get("code") == "SG301"]
    assert notes and all(f"remove the import-time write of toggle feat ({where})" in n for n in notes)


def test_an_attribute_write_on_a_class_turns_on_a_toggle_tested_as_that_attribute(tmp_path):
    root = project(tmp_path, {
        "src/tw/config.py": "USE_FEAT = False\n\n\nclass Flags:\n    USE_FEAT = False\n",
        "src/tw/m0.py": "from tw.config import Flags\n\nif Flags.USE_FEAT:\n    from tw import feat\n",
        "src/tw/m1.py": ("from tw.config import Flags\n\nfor _k in ['USE_FEAT']:\n    setattr(Flags, _k, True)\n"
                         "from tw import m0\n"),
    })
    assert broken(root) == {"tw.m1"}
    assert [(v["code"], v["path"], v["line"]) for v in check(root)] == [("SG201", "src/tw/m0.py", 4)]


def test_an_attribute_write_on_a_class_leaves_a_module_global_toggle_alone(tmp_path):
    # TVM 0.27's tirx/buffer.py copies methods onto tvm.ir.Var with setattr(Var, name, f) at import
    # time; its toggle `_RUNTIME_ONLY` is a module global: no class attribute write reaches it.
    root = project(tmp_path, {
        "src/tw/config.py": "USE_FEAT = False\n\n\nclass Flags:\n    pass\n",
        "src/tw/m1.py": ("from tw.config import Flags\n\nfor _k in ['USE_FEAT', 'other']:\n    setattr(Flags, _k, True)\n"
                         "from tw import m0\n"),
    })
    assert broken(root) == set()
    assert check(root) == []


def test_following_the_advice_makes_the_guard_hold_again(tmp_path):
    root = project(tmp_path, {"src/tw/m1.py": "from tw import m0\n"})  # the write removed
    assert broken(root) == set()
    assert check(root) == []
    assert plan(root)["clean"]


@pytest.mark.parametrize("writer", [
    # a function no import-time code calls: whoever calls it turns the feature on on purpose
    "from tw import config\n\n\ndef enable():\n    config.USE_FEAT = True\n\n\nfrom tw import m0\n",
    # the write runs only while the toggle is on (a function of another module, called under the toggle)
    "from tw import switch\nfrom tw.config import USE_FEAT\n\nif USE_FEAT:\n    switch.enable()\nfrom tw import m0\n",
    # deleting the toggle turns nothing on (m0 then fails on its own import of the name, scope or not)
    "import os\n\nfrom tw import config\n\nif os.environ.get('NEVER_SET'):\n    del config.USE_FEAT\nfrom tw import m0\n",
    # an attribute of the same name on something outside the project
    "import types\n\n_ns = types.SimpleNamespace()\n_ns.USE_FEAT = True\nfrom tw import m0\n",
])
def test_writes_that_cannot_turn_the_toggle_on_before_a_guard_keep_it_trusted(tmp_path, writer):
    root = project(tmp_path, {"src/tw/m1.py": writer, "src/tw/switch.py": SWITCH})
    assert broken(root) == set()
    assert check(root) == []
    assert plan(root)["clean"]


def test_the_readme_quotes_what_check_prints(tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    quoted = next(line for line in readme.splitlines() if line.startswith("src/tw/m0.py:4:20: SG201"))
    assert quoted.endswith(", ...")
    root = project(tmp_path, {"src/tw/m1.py": WRITERS["setattr"]})
    _, out, _ = run_main("check", str(root), "--no-cache", cwd=root)
    assert any(line.startswith(quoted[: -len(", ...")]) for line in out.splitlines())
