"""Deletion verdicts by when things break (issue 26): import time and call time, each Clean / Not
clean / Unknown with its evidence; every unknown dynamic import says why it is unknown and when it
may run; declarations (`[[tool.scopeguard.dynamic_imports]]`) replace "unknown"; entry-point
listings import nothing; SG208 in `check` only where it can matter (issue 27.2).

Every "Clean" claimed here is checked against CPython (tests/reach/runtime.py: the scope deleted in
a copy, every module imported in a fresh interpreter, in the default environment and with the
toggle's variable at each OFF value): no verdict is Clean where Python shows a module broken.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from .inprocess import run_main
from .reach.runtime import runtime_truth

OFF_VALUES = ("0", "", "OFF", "false")

PYPROJECT = """\
[project]
name = "dp"
version = "0"

[tool.scopeguard]
source_roots = ["src"]

[tool.scopeguard.toggles.plug]
on_when_true = ["USE_PLUG"]

[[tool.scopeguard.scopes]]
name = "dp.plug"
toggle = "plug"
"""

BASE = {
    "src/dp/__init__.py": "",
    "src/dp/plug/__init__.py": "VALUE = 1\n",
    "src/dp/plug/core.py": "from dp.plug import VALUE\n",
}


def project(tmp_path: Path, files: dict[str, str], pyproject: str = PYPROJECT) -> Path:
    root = tmp_path / "proj"
    for path, text in {**BASE, **files}.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    (root / "pyproject.toml").write_text(pyproject)
    return root


def plan(root: Path) -> dict:
    code, out, err = run_main("delete-plan", "dp.plug", str(root), "--no-cache", "--format", "json")
    assert code in (0, 1), err
    return json.loads(out)


def findings(root: Path, *codes: str) -> list[tuple[str, str, int]]:
    _, out, err = run_main("check", str(root), "--no-cache", "--format", "json")
    data = json.loads(out)
    return sorted((v["code"], v["path"], v["line"]) for v in data["violations"] if v["code"] in codes)


def assert_python_agrees_import_time_clean(root: Path) -> None:
    """CPython: no module that imported before the deletion fails after it, in any OFF state."""
    for env in [{}, *({"USE_PLUG": value} for value in OFF_VALUES)]:
        truth = runtime_truth(root, ["src"], "dp.plug", env)
        assert truth.broken == {}, (env, truth.broken)


CALL_TIME_LOADER = """\
import importlib


def load(name):
    return importlib.import_module(name)
"""


def test_a_dynamic_import_only_a_call_runs_leaves_import_time_clean_and_call_time_unknown(tmp_path):
    root = project(tmp_path, {"src/dp/loader.py": CALL_TIME_LOADER})
    data = plan(root)
    assert (data["import_time"], data["call_time"], data["verdict"]) == ("clean", "unknown", "unknown")
    [unknown] = data["unknown"]
    assert (unknown["path"], unknown["line"], unknown["at_import"]) == ("src/dp/loader.py", 5, False)
    assert "parameter `name` of load()" in unknown["why"]
    assert unknown["when"].startswith("only when called: inside load()")
    assert_python_agrees_import_time_clean(root)


def test_a_dynamic_import_run_on_import_through_another_module_makes_import_time_unknown(tmp_path):
    root = project(tmp_path, {
        "src/dp/boot.py": """\
            import importlib


            def boot(name):
                return importlib.import_module(name)
            """,
        "src/dp/__init__.py": """\
            import os

            from dp.boot import boot

            boot(os.environ.get("DP_EXTRA", "json"))
            """,
    })
    data = plan(root)
    assert data["import_time"] == "unknown"
    [unknown] = data["unknown"]
    assert (unknown["path"], unknown["line"], unknown["at_import"]) == ("src/dp/boot.py", 5, True)
    assert "reached from src/dp/__init__.py:5" in unknown["when"]
    # ... and Python agrees that it can load the scope at import time: DP_EXTRA=dp.plug.core.
    truth = runtime_truth(root, ["src"], "dp.plug", {"DP_EXTRA": "dp.plug.core"})
    assert "dp" in truth.broken


def test_module_level_exec_of_computed_code_is_import_time_unknown(tmp_path):
    root = project(tmp_path, {"src/dp/__init__.py": "import os\n\nexec(os.environ.get('DP_CODE', ''))\n"})
    data = plan(root)
    assert data["import_time"] == "unknown"
    [unknown] = data["unknown"]
    assert unknown["at_import"] and unknown["why"].startswith("exec of code built at run time")


def test_a_prefix_that_cannot_name_the_scope_does_not_count(tmp_path):
    root = project(tmp_path, {"src/dp/codecs.py": """\
        import importlib


        def codec(name):
            return importlib.import_module(f"encodings.{name}")
        """})
    data = plan(root)
    assert (data["import_time"], data["call_time"], data["verdict"]) == ("clean", "clean", "clean")
    assert data["unknown"] == [] and data["references"] == []
    assert_python_agrees_import_time_clean(root)


def test_a_prefix_that_can_name_the_scope_is_an_edit_and_call_time_not_clean(tmp_path):
    root = project(tmp_path, {"src/dp/loader.py": """\
        import importlib


        def load(name):
            return importlib.import_module(f"dp.{name}")
        """})
    data = plan(root)
    assert (data["import_time"], data["call_time"]) == ("clean", "not clean")
    assert [(r["path"], r["line"]) for r in data["references"]] == [("src/dp/loader.py", 5)]
    assert "'dp.'" in data["references"][0]["why"]
    assert_python_agrees_import_time_clean(root)


def test_a_prefix_that_can_name_the_scope_at_import_time_leaves_import_time_unknown(tmp_path):
    root = project(tmp_path, {"src/dp/__init__.py": """\
        import importlib
        import os

        importlib.import_module("dp." + os.environ.get("DP_PART", "base"))
        """, "src/dp/base.py": ""})
    data = plan(root)
    assert data["import_time"] == "unknown"
    truth = runtime_truth(root, ["src"], "dp.plug", {"DP_PART": "plug"})
    assert "dp" in truth.broken  # Python agrees: it may fail at import time


DECLARED = PYPROJECT + """
[[tool.scopeguard.dynamic_imports]]
path = "src/dp/loader.py"
function = "load"
call = "importlib.import_module(name)"
loads = ["json", "dp.base"]
reason = "load() is given codec names only"
"""


def test_a_declared_site_loads_what_it_declares_instead_of_unknown(tmp_path):
    root = project(tmp_path, {"src/dp/loader.py": CALL_TIME_LOADER, "src/dp/base.py": ""}, DECLARED)
    data = plan(root)
    assert (data["import_time"], data["call_time"], data["verdict"]) == ("clean", "clean", "clean")
    assert data["unknown"] == []
    assert findings(root, "SG006", "SG208") == []
    assert_python_agrees_import_time_clean(root)


def test_a_declared_site_that_loads_the_scope_breaks_where_it_runs(tmp_path):
    declared = DECLARED.replace('loads = ["json", "dp.base"]', 'loads = ["dp.plug.*"]')
    root = project(tmp_path, {"src/dp/loader.py": CALL_TIME_LOADER}, declared)
    data = plan(root)
    assert data["call_time"] == "not clean"
    assert [(x["path"], x["line"], x["imported"]) for x in data["lazy"]] == [
        ("src/dp/loader.py", 5, "dp.plug.core")]  # every module under dp.plug (which loads dp.plug first)


def test_a_declaration_that_matches_no_site_is_stale(tmp_path):
    root = project(tmp_path, {"src/dp/loader.py": CALL_TIME_LOADER.replace("name", "module")}, DECLARED)
    # the call is now `importlib.import_module(module)`: the declaration names the old text
    assert findings(root, "SG006") == [("SG006", "pyproject.toml", 18)]  # its `call`
    assert plan(root)["call_time"] == "unknown"  # and the site is unknown again


def test_a_declaration_without_a_reason_is_a_config_error(tmp_path):
    root = project(tmp_path, {"src/dp/loader.py": CALL_TIME_LOADER},
                   DECLARED.replace('reason = "load() is given codec names only"\n', ""))
    code, _, err = run_main("check", str(root), "--no-cache")
    assert code == 2 and "dynamic_imports[0].reason: 'reason' is required" in err


ENTRY_POINTS = """\
from importlib.metadata import entry_points

PLUGINS = [ep.name for ep in entry_points(group="dp.plugins")]
"""


def test_entry_points_list_and_import_nothing_unless_packaging_names_the_scope(tmp_path):
    root = project(tmp_path, {"src/dp/__init__.py": ENTRY_POINTS})
    data = plan(root)
    assert (data["import_time"], data["call_time"], data["unknown"]) == ("clean", "clean", [])
    assert findings(root, "SG208") == []
    assert_python_agrees_import_time_clean(root)


def test_entry_points_may_load_the_scope_when_the_projects_packaging_declares_it(tmp_path):
    pyproject = PYPROJECT.replace('version = "0"\n', 'version = "0"\n\n[project.entry-points."dp.plugins"]\n'
                                  'plug = "dp.plug.core:VALUE"\n')
    root = project(tmp_path, {"src/dp/__init__.py": ENTRY_POINTS}, pyproject)
    data = plan(root)
    [unknown] = data["unknown"]
    assert unknown["at_import"] and "packaging names the scope (pyproject.toml:6)" in unknown["why"]
    assert data["import_time"] == "unknown"
    assert findings(root, "SG208") == [("SG208", "src/dp/__init__.py", 3)]


def test_eval_of_a_repr_and_exec_without_builtins_import_nothing(tmp_path):
    root = project(tmp_path, {"src/dp/values.py": """\
        def roundtrip(box):
            return eval(repr(box), {"Box": dict})


        def run(code):
            exec(code, {"__builtins__": {}})


        def rich(code):
            exec(code, {"__builtins__": {}, **globals()})
        """})
    data = plan(root)
    assert [u["line"] for u in data["unknown"]] == [10]  # `**globals()` may put the builtins back
    assert findings(root, "SG208") == [("SG208", "src/dp/values.py", 10)]


def test_sg208_only_where_it_can_matter(tmp_path):
    root = project(tmp_path, {
        "src/dp/loader.py": CALL_TIME_LOADER,  # library code: callers outside pass anything
        "src/dp/tests/__init__.py": "",
        "src/dp/tests/test_gui.py": """\
            import importlib.util


            def test_binding(deps):
                for dep in deps:
                    importlib.util.find_spec(dep)
            """,
        "src/dp/tests/test_boot.py": """\
            import importlib
            import os

            importlib.import_module(os.environ.get("DP_TEST_MODULE", "json"))
            """,
    })
    assert findings(root, "SG208") == [("SG208", "src/dp/loader.py", 5), ("SG208", "src/dp/tests/test_boot.py", 4)]
    # delete-plan still lists every unknown, the test function's too
    assert {(u["path"], u["line"]) for u in plan(root)["unknown"]} == {
        ("src/dp/loader.py", 5), ("src/dp/tests/test_gui.py", 6), ("src/dp/tests/test_boot.py", 4)}


def test_relative_import_module_is_resolved_against_its_package(tmp_path):
    root = project(tmp_path, {"src/dp/loader.py": """\
        import importlib


        def load():
            return importlib.import_module(".plug.core", "dp")
        """})
    data = plan(root)
    assert data["unknown"] == []
    assert [(x["path"], x["line"], x["imported"]) for x in data["lazy"]] == [("src/dp/loader.py", 5, "dp.plug.core")]


def test_text_output_gives_both_verdicts_with_evidence(tmp_path):
    root = project(tmp_path, {"src/dp/loader.py": CALL_TIME_LOADER})
    code, out, _ = run_main("delete-plan", "dp.plug", str(root), "--no-cache")
    assert code == 1
    assert "Import time: Clean -- " in out and "Call time: Unknown -- 1 dynamic import(s)" in out
    assert "      why unknown: the name is parameter `name` of load()" in out
    assert "      when: only when called: inside load()" in out


def test_relative_import_module_with_a_computed_name_starts_with_its_package(tmp_path):
    """transformers' auto classes: import_module(f".{module_name}", "transformers.models")."""
    root = project(tmp_path, {"src/dp/auto.py": """\
        import importlib


        def model_module(module_name):
            return importlib.import_module(f".{module_name}", "dp")


        def other(module_name):
            return importlib.import_module(f".{module_name}", "json")
        """})
    data = plan(root)
    assert data["unknown"] == []
    assert [(r["path"], r["line"]) for r in data["references"]] == [("src/dp/auto.py", 5)]
    assert "'dp.'" in data["references"][0]["why"]
    assert findings(root, "SG206", "SG208") == [("SG206", "src/dp/auto.py", 5)]
