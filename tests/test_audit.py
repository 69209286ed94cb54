"""`scopeguard audit`: the S0 checklist per scope, its verdicts and evidence, the minimal guard plan
(a minimum cut, checked against `check`'s SG402 after guarding the planned lines), the three
formats (JSON against docs/audit-json-schema.json, Markdown against its snapshot in docs/) and the
exit codes; and that `check` never imports networkx."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import jsonschema
import pytest

from tests.inprocess import run_main

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
SCHEMA = json.loads((REPO / "docs" / "audit-json-schema.json").read_text())
SNAPSHOT = REPO / "docs" / "audit-tvm_like.md"

PYPROJECT = """\
[tool.scopeguard]
source_roots = ["src"]

[tool.scopeguard.toggles.plug]
on_when_true = ["USE_PLUG"]

[[tool.scopeguard.scopes]]
name = "pkg.plug"
toggle = "plug"
"""
PLUG = {"src/pkg/plug/__init__.py": "", "src/pkg/plug/core.py": "X = 1\n"}


def project(tmp_path: Path, files: dict[str, str], pyproject: str = PYPROJECT) -> Path:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    for path, text in {**PLUG, **files}.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return tmp_path


def audit_json(where: Path | str, *args: str) -> tuple[int, dict]:
    scopes = [a for a in args if not a.startswith("-")][:1] if args and not args[0].startswith("-") else []
    code, out, err = run_main("audit", *scopes, str(where), "--no-cache", "--format", "json", *args[len(scopes):])
    assert code in (0, 1), err
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    return code, data


def verdicts(scope: dict) -> dict[str, str]:
    return {c["key"]: c["verdict"] for c in scope["criteria"]}


def plan(scope: dict) -> list[str]:
    return [f"{s['path']}:{s['line']}" for s in scope["guard_plan"]]


def items(scope: dict, key: str) -> list[tuple[str, str, int]]:
    criterion = next(c for c in scope["criteria"] if c["key"] == key)
    return [(i["kind"], i["path"], i["line"]) for i in criterion["items"]]


def guard_lines(root: Path, lines: list[str], spelling: str = "USE_PLUG") -> None:
    """Put each planned line behind the toggle, on the same line: `if USE_PLUG: <statement>`, with
    `USE_PLUG = False` first in the file (so that Python runs it too)."""
    by_file: dict[str, list[int]] = {}
    for entry in lines:
        path, line = entry.rsplit(":", 1)
        by_file.setdefault(path, []).append(int(line))
    for path, numbers in by_file.items():
        file = root / path
        text = file.read_text().splitlines()
        for line in numbers:
            text[line - 1] = f"if {spelling}: " + text[line - 1].strip()
        file.write_text(f"{spelling} = False\n" + "\n".join(text) + "\n")


def loads_at_runtime(root: Path, module: str = "pkg", scope: str = "pkg.plug") -> bool:
    """The runtime oracle: does `import pkg` load the scope?"""
    probe = f"import sys, {module}; print(any(m == {scope!r} or m.startswith({scope!r} + '.') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=root,
                          env={**os.environ, "PYTHONPATH": str(root / "src")})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip() == "True"


def sg402(root: Path) -> list[str]:
    code, out, err = run_main("check", str(root), "--no-cache", "--select", "SG402", "--format", "json")
    assert code in (0, 1), err
    return [f"{v['path']}:{v['line']}" for v in json.loads(out)["violations"]]


# ---- the guard plan: fixtures with a known answer ----------------------------------------------

SHARED_LINK = {  # two chains sharing one link -> one statement (not the root's lines)
    "src/pkg/__init__.py": "from . import a\nfrom . import b\n",
    "src/pkg/a.py": "from . import hub\n",
    "src/pkg/b.py": "from . import hub\n",
    "src/pkg/hub.py": "import os\nfrom pkg.plug import core\n",
}
DISJOINT = {  # two disjoint chains -> two
    "src/pkg/__init__.py": "from . import a, b\n",
    "src/pkg/a.py": "from pkg import plug\n",
    "src/pkg/b.py": "import os\nfrom pkg.plug import core\n",
}
THROUGH_INIT = {  # a chain through a package __init__ -> the __init__ line
    "src/pkg/__init__.py": "from . import sub\n",
    "src/pkg/sub/__init__.py": "from . import leaf\nfrom pkg import plug\n",
    "src/pkg/sub/leaf.py": "import os\n",
}
# Three modules import the scope directly; all are reached through one statement of the root. The
# minimum cut (1) is smaller than guarding every direct importer (3), and it guards a line that
# loads other code too: the plan says so.
NARROW = {
    "src/pkg/__init__.py": "import os\nfrom . import mid\n",
    "src/pkg/mid/__init__.py": "from . import x\nfrom . import y\nfrom . import z\n",
    "src/pkg/mid/x.py": "from pkg import plug\n",
    "src/pkg/mid/y.py": "from pkg.plug import core\n",
    "src/pkg/mid/z.py": "import pkg.plug.core\n",
}


@pytest.mark.parametrize(
    ("files", "expected", "chokepoints", "also"),
    [
        (SHARED_LINK, ["src/pkg/hub.py:2"], ["pkg.hub"], []),
        (DISJOINT, ["src/pkg/a.py:1", "src/pkg/b.py:2"], [], []),
        (THROUGH_INIT, ["src/pkg/sub/__init__.py:2"], ["pkg.sub"], []),
        (NARROW, ["src/pkg/__init__.py:2"], ["pkg.mid"], ["pkg.mid", "pkg.mid.x", "pkg.mid.y", "pkg.mid.z"]),
    ],
    ids=["shared-link", "disjoint", "through-init", "narrower-than-direct-importers"],
)
def test_guard_plan_is_the_minimum_cut_and_clears_sg402(tmp_path, files, expected, chokepoints, also):
    root = project(tmp_path, files)
    code, data = audit_json(root)
    scope = data["scopes"][0]
    assert code == 1
    assert plan(scope) == expected
    assert scope["root_loads"] is True
    assert scope["guard"]["verified"] is True
    assert scope["guard"]["chokepoints"] == chokepoints
    assert scope["guard"]["also_unloads"] == also
    assert verdicts(scope)["toggle"] == "fails"
    assert sg402(root)  # today `import pkg` loads the scope
    assert loads_at_runtime(root)
    guard_lines(root, expected)
    assert sg402(root) == []  # what the plan promises: no SG402 once the lines are guarded
    assert not loads_at_runtime(root)  # and Python agrees
    _, after = audit_json(root)
    assert after["scopes"][0]["root_loads"] is False and plan(after["scopes"][0]) == []


def test_narrow_cut_is_smaller_than_guarding_every_direct_importer(tmp_path):
    _, data = audit_json(project(tmp_path, NARROW))
    guard = data["scopes"][0]["guard"]
    assert guard["direct_statements"] == 3
    assert len(data["scopes"][0]["guard_plan"]) == 1
    # importing one of the direct importers on its own still loads the scope: listed, not hidden
    assert [f"{s['path']}:{s['line']}" for s in guard["every_module"]] == [
        "src/pkg/mid/x.py:1", "src/pkg/mid/y.py:1", "src/pkg/mid/z.py:1"]


def test_statement_multiplicity_is_the_capacity(tmp_path):
    # hub imports the scope with two statements; the single link above it is the cheaper cut
    files = {
        "src/pkg/__init__.py": "from . import hub\n",
        "src/pkg/hub.py": "from pkg import plug\nfrom pkg.plug import core\n",
    }
    _, data = audit_json(project(tmp_path, files))
    assert plan(data["scopes"][0]) == ["src/pkg/__init__.py:1"]
    assert data["scopes"][0]["guard"]["also_unloads"] == ["pkg.hub"]


def test_guarded_lazy_and_type_only_imports_are_not_links(tmp_path):
    files = {
        "src/pkg/__init__.py": (
            "from typing import TYPE_CHECKING\n"
            "from .flags import USE_PLUG\n"
            "if USE_PLUG:\n    from . import plug\n"
            "if TYPE_CHECKING:\n    from pkg.plug import core\n"
            "def f():\n    from pkg.plug import core\n"
        ),
        "src/pkg/flags.py": "import os\nUSE_PLUG = os.environ.get('PKG_USE_PLUG') == '1'\n",
    }
    code, data = audit_json(project(tmp_path, files))
    scope = data["scopes"][0]
    assert scope["root_loads"] is False and scope["guard_plan"] == []
    assert scope["guard"]["direct_statements"] == 0
    assert verdicts(scope)["toggle"] == "holds"
    assert scope["switch"]["environment"] == []  # PKG_USE_PLUG is not among the toggle's spellings
    assert code == 1  # the lazy and type-only imports still fail "no disruptive change"
    assert sorted(k for k, _, _ in items(scope, "no_disruption")) == ["lazy", "type-only"]


def test_optional_import_is_a_link_it_runs(tmp_path):
    files = {"src/pkg/__init__.py": "try:\n    from . import plug\nexcept ImportError:\n    plug = None\n"}
    _, data = audit_json(project(tmp_path, files))
    assert plan(data["scopes"][0]) == ["src/pkg/__init__.py:2"]


# ---- the checklist on the fixtures -------------------------------------------------------------

def test_tvm_like_checklist():
    code, data = audit_json(FIXTURES / "tvm_like")
    assert code == 1 and data["holds"] is False and data["diff_base"] is None
    relax, msc = data["scopes"]
    assert relax["scope"] == "tvm.relax" and relax["registered"] is True
    assert verdicts(relax) == {"isolated": "fails", "needed": "not checkable", "no_disruption": "fails",
                               "deprecatable": "fails", "toggle": "fails", "change_isolation": "not run"}
    assert items(relax, "isolated") == [("SG101", "python/tvm/relax/frontend/onnx.py", 2)]
    assert items(relax, "no_disruption") == [("type-only", "python/tvm/ir/printer.py", 5)]
    assert items(relax, "needed") == []
    assert relax["reach_in"] == {"import-time": 0, "lazy": 0, "optional": 0, "type-only": 1, "dynamic": 0,
                                 "registry": 0, "wrong-toggle": 0}
    assert relax["size"] == {"files": 6, "lines": 24}
    assert relax["deletion"]["broken"] == 20 and relax["deletion"]["clean"] is False
    assert relax["root_chain"] == ["tvm", "tvm.script", "tvm.script.parser", "tvm.script.parser.relax", "tvm.relax"]
    assert plan(relax) == ["python/tvm/contrib/msc/core.py:1", "python/tvm/script/parser/__init__.py:3"]
    assert relax["guard_plan"][1]["loads"] == ["tvm.script.parser.relax"]
    assert relax["guard"]["also_unloads"] == ["tvm.script.parser.relax"]  # the approved integration point
    assert [(s["name"], s["path"], s["line"]) for s in relax["switch"]["environment"]] == [
        ("TVM_USE_RUNTIME_LIB", "python/tvm/__init__.py", 7), ("TVM_USE_RUNTIME_LIB", "python/tvm/driver/build.py", 8)]

    assert verdicts(msc) == {"isolated": "holds", "needed": "not checkable", "no_disruption": "fails",
                             "deprecatable": "fails", "toggle": "fails", "change_isolation": "not run"}
    assert msc["reach_in"] == {"import-time": 3, "lazy": 1, "optional": 1, "type-only": 0, "dynamic": 1,
                               "registry": 0, "wrong-toggle": 1}
    assert ("SG206", "python/tvm/driver/build.py", 40) in items(msc, "no_disruption")
    assert plan(msc) == ["python/tvm/contrib/cutlass/build.py:3"]
    assert msc["guard"]["chokepoints"] == ["tvm.contrib", "tvm.contrib.cutlass", "tvm.contrib.cutlass.build"]
    assert msc["guard"]["direct_statements"] == 7


def test_deletable_checklist():
    code, data = audit_json(FIXTURES / "deletable")
    gpu, legacy = data["scopes"]
    assert verdicts(gpu) == {"isolated": "holds", "needed": "not checkable", "no_disruption": "fails",
                             "deprecatable": "holds", "toggle": "holds", "change_isolation": "not run"}
    assert items(gpu, "no_disruption") == [("type-only", "src/app/backend.py", 7)]
    assert items(gpu, "toggle") == [("environment", "src/app/config.py", 3)]
    assert gpu["guarded_imports"] == 3 and gpu["deletion"]["guarded"] == 4  # + the type-only one
    assert verdicts(legacy) == {"isolated": "holds", "needed": "not checkable", "no_disruption": "fails",
                                "deprecatable": "fails", "toggle": "holds", "change_isolation": "not run"}
    assert items(legacy, "no_disruption") == [("lazy", "src/app/api.py", 2), ("import-time", "src/app/core/engine.py", 2),
                                              ("optional", "src/app/plugins.py", 3)]
    assert [k for k, _, _ in items(legacy, "deprecatable")] == ["broken"] * 5 + ["lazy"] * 2
    assert legacy["guard_plan"] == [] and legacy["root_loads"] is False
    assert [f"{s['path']}:{s['line']}" for s in legacy["guard"]["every_module"]] == [
        "src/app/core/engine.py:2", "src/app/plugins.py:3"]
    assert code == 1


def test_a_scope_that_meets_every_checkable_criterion_exits_0(tmp_path):
    files = {
        "src/pkg/__init__.py": "from .flags import USE_PLUG\nif USE_PLUG:\n    from . import plug\n",
        "src/pkg/flags.py": "import os\nUSE_PLUG = os.environ.get('USE_PLUG') == '1'\n",
    }
    root = project(tmp_path, files)
    code, data = audit_json(root)
    scope = data["scopes"][0]
    assert code == 0 and data["holds"] is True and scope["holds"] is True
    assert verdicts(scope) == {"isolated": "holds", "needed": "not checkable", "no_disruption": "holds",
                               "deprecatable": "holds", "toggle": "holds", "change_isolation": "not run"}
    code, out, _ = run_main("audit", str(root), "--no-cache")
    assert code == 0 and out.endswith("Audit: every checkable criterion holds.\n")


def test_dynamic_import_that_may_load_the_scope_is_unknown_not_holds(tmp_path):
    files = {
        "src/pkg/__init__.py": "import importlib, os\nfrom .flags import USE_PLUG\nif USE_PLUG:\n    from . import plug\n"
                               "importlib.import_module(os.environ['WHICH'])\n",
        "src/pkg/flags.py": "import os\nUSE_PLUG = os.environ.get('USE_PLUG') == '1'\n",
    }
    code, data = audit_json(project(tmp_path, files))
    scope = data["scopes"][0]
    assert verdicts(scope)["toggle"] == "unknown"
    assert ("dynamic", "src/pkg/__init__.py", 5) in items(scope, "toggle")
    assert verdicts(scope)["no_disruption"] == "unknown"
    assert code == 1  # unknown is not "holds"


def test_unknown_deletion_verdict_is_never_holds():
    from scopeguard.actions.audit import Verdict, _deprecation

    def fake(**kw):
        base = dict(clean=True, broken=(), lazy=(), references=(), guarded=(), deleted_paths=("a.py",))
        return types.SimpleNamespace(**{**base, **kw})

    assert _deprecation(fake()).verdict is Verdict.HOLDS
    assert _deprecation(fake(verdict="unknown")).verdict is Verdict.UNKNOWN
    assert _deprecation(fake(verdict=types.SimpleNamespace(value="UNKNOWN"))).verdict is Verdict.UNKNOWN
    assert _deprecation(fake(unknown=(types.SimpleNamespace(path="b.py", line=3, text="x"),))).verdict is Verdict.UNKNOWN
    assert _deprecation(fake(verdict="breaks")).verdict is Verdict.FAILS
    assert _deprecation(fake(clean=False)).verdict is Verdict.FAILS


def test_unregistered_package_is_judged_with_toggle(tmp_path):
    root = project(tmp_path, THROUGH_INIT)
    code, data = audit_json(root, "pkg.sub", "--toggle", "plug")
    (scope,) = data["scopes"]
    assert scope["scope"] == "pkg.sub" and scope["registered"] is False and scope["toggle"] == "plug"
    assert plan(scope) == ["src/pkg/__init__.py:1"]
    # pkg.plug stays registered (no overlap): the package judged as a scope imports it undeclared
    assert verdicts(scope)["isolated"] == "fails"
    assert items(scope, "isolated") == [("SG101", "src/pkg/sub/__init__.py", 2)]
    assert code == 1


def test_text_format_names_plan_and_evidence():
    code, out, _ = run_main("audit", "tvm.contrib.msc", str(FIXTURES / "tvm_like"), "--no-cache")
    assert code == 1
    assert "  5. [fails] Can be turned off through a feature toggle: `import tvm` loads the scope" in out
    assert "       python/tvm/contrib/cutlass/build.py:3: from tvm.contrib import msc\n" in out
    assert "  2. [not checkable] Clearly needed by some users" in out
    assert "Audit of tvm.relax" not in out  # only the scope asked for


def test_markdown_snapshot():
    """docs/audit-tvm_like.md is the reviewed Markdown; regenerate it with the command in docs/audit.md."""
    code, out, _ = run_main("audit", str(FIXTURES / "tvm_like"), "--no-cache", "--format", "markdown")
    assert code == 1
    assert out == SNAPSHOT.read_text()


def test_markdown_escapes_text_from_the_tree():
    from scopeguard.commands.audit import _code, _md, _rich

    assert _md("a|b <script> __init__ [x](y)") == "a&#124;b &lt;script&gt; &#95;&#95;init&#95;&#95; &#91;x&#93;(y)"
    assert _rich("guard `if USE_X:` here") == "guard <code>if USE&#95;X:</code> here"
    assert _code("a\nb") == "<code>a b</code>"


def test_change_isolation_with_diff(tmp_path):
    files = {"src/pkg/__init__.py": "", "src/pkg/other.py": "X = 1\n"}
    root = project(tmp_path, files)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "-C", str(root), "add", "."], check=True)
    subprocess.run([*git, "-C", str(root), "commit", "-qm", "base"], check=True)
    code, data = audit_json(root, "--diff", "HEAD")
    assert verdicts(data["scopes"][0])["change_isolation"] == "holds" and data["diff_base"] == "HEAD"
    (root / "src/pkg/plug/core.py").write_text("X = 2\n")
    (root / "src/pkg/other.py").write_text("from pkg.plug import core\nX = core.X\n")
    code, data = audit_json(root, "--diff", "HEAD")
    scope = data["scopes"][0]
    assert verdicts(scope)["change_isolation"] == "fails"
    assert sorted(k for k, _, _ in items(scope, "change_isolation")) == ["SG501", "SG502"]
    assert ("SG502", "src/pkg/other.py", 1) in items(scope, "change_isolation")
    assert code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch.pkg"], "nosuch.pkg"),
        (["tvm.relax", "--toggle", "nosuch"], "--toggle nosuch: no such toggle"),
        (["tvm.relax", "--toggle", "msc"], "registered scope with toggle relax"),
        (["tvm.relax", "--format", "xml"], "invalid choice"),
        (["tvm-relax", "tvm.relax"], "not a dotted package name"),
    ],
)
def test_usage_errors_exit_2(args, message):
    scopes = [a for a in args if not a.startswith("-") and a not in ("nosuch", "msc", "xml")]
    options = args[len(scopes):]
    code, _, err = run_main("audit", *scopes, str(FIXTURES / "tvm_like"), *options, "--no-cache")
    assert code == 2 and message in err


def test_no_scope_registered_and_none_named_is_a_usage_error(tmp_path):
    root = project(tmp_path, {"src/pkg/__init__.py": ""}, pyproject='[tool.scopeguard]\nsource_roots = ["src"]\n')
    code, _, err = run_main("audit", str(root), "--no-cache")
    assert code == 2 and "no scope registered" in err


# ---- networkx stays off check's path -----------------------------------------------------------

PROBE = """\
import json, sys
from scopeguard.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "networkx": any(m == "networkx" or m.startswith("networkx.") for m in sys.modules)}))
"""


def _probe(*args: str, cache: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *args, "--cache-dir", str(cache)], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_check_does_not_import_networkx_cold_or_cached(tmp_path):
    fixture = str(FIXTURES / "tvm_like")
    cold = _probe("check", fixture, "--format", "json", cache=tmp_path / "c")
    cached = _probe("check", fixture, "--format", "json", cache=tmp_path / "c")
    assert (cold["code"], cold["networkx"]) == (1, False)
    assert (cached["code"], cached["networkx"]) == (1, False)
    audit = _probe("audit", fixture, "--format", "json", cache=tmp_path / "c")
    assert audit["networkx"] is True  # the probe can tell


def test_a_planned_name_sharing_its_line_says_split_it(tmp_path):
    files = {"src/pkg/__init__.py": "from . import a, plug\n", "src/pkg/a.py": ""}
    _, data = audit_json(project(tmp_path, files))
    (statement,) = data["scopes"][0]["guard_plan"]
    assert (statement["path"], statement["line"], statement["text"]) == ("src/pkg/__init__.py", 1, "from pkg import plug")
    assert statement["also_on_line"] == ["pkg.a"] and statement["loads"] == ["pkg.plug"]
    assert data["scopes"][0]["guard"]["also_unloads"] == []  # pkg.a is not behind the guard


def test_an_unparsable_outside_file_makes_the_toggle_unknown_with_its_path(tmp_path):
    files = {
        "src/pkg/__init__.py": "from .flags import USE_PLUG\nif USE_PLUG:\n    from . import plug\n",
        "src/pkg/flags.py": "import os\nUSE_PLUG = os.environ.get('USE_PLUG') == '1'\n",
        "src/pkg/broken.py": "def f(:\n",
    }
    code, data = audit_json(project(tmp_path, files))
    scope = data["scopes"][0]
    assert verdicts(scope)["toggle"] == "unknown" and verdicts(scope)["no_disruption"] == "unknown"
    assert ("SG001", "src/pkg/broken.py", 1) in items(scope, "toggle")
    assert code == 1


def test_a_toggle_read_from_inside_the_scope_is_no_switch(tmp_path):
    # The switch lives in the scope it switches: importing it loads the scope, deleting the scope
    # deletes it. `import pkg` does not load the scope here, which used to make the criterion hold.
    root = project(tmp_path, {
        "src/pkg/__init__.py": "",
        "src/pkg/plug/config.py": "USE_PLUG = False\n",
        "src/pkg/app.py": "from pkg.plug.config import USE_PLUG\nif USE_PLUG:\n    from pkg.plug import core\n",
    })
    _, data = audit_json(root, "pkg.plug")
    (scope,) = data["scopes"]
    toggle = next(c for c in scope["criteria"] if c["key"] == "toggle")
    assert toggle["verdict"] == "fails"
    assert toggle["summary"].startswith("toggle plug is read from inside the scope (from pkg.plug.config import USE_PLUG)")
    assert [(i["path"], i["line"]) for i in toggle["items"] if i["kind"] == "toggle-inside"] == [("src/pkg/app.py", 1)]


def test_a_toggle_read_from_outside_the_scope_still_holds(tmp_path):
    root = project(tmp_path, {
        "src/pkg/__init__.py": "", "src/pkg/support.py": "USE_PLUG = False\n",
        "src/pkg/app.py": "from pkg.support import USE_PLUG\nif USE_PLUG:\n    from pkg.plug import core\n",
    })
    _, data = audit_json(root, "pkg.plug")
    assert verdicts(data["scopes"][0])["toggle"] == "holds"
