"""Issue 17: from zero to a first report — `init`, rule pages, help, closed pipes, delete-plan for any
package, graph budgets and the narrowed views."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scopeguard.cli import main

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


def _copy_without_config(name: str, tmp_path: Path) -> Path:
    project = tmp_path / name
    shutil.copytree(FIXTURES / name, project, ignore=shutil.ignore_patterns("__pycache__", ".scopeguard_cache"))
    (project / "pyproject.toml").unlink()
    return project


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _config_of(project: Path):
    from scopeguard.config import load_config

    return load_config(project / "pyproject.toml")


# -- init -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["tvm_like", "tvm_ffi", "deletable", "clean_project", "deletion_disagree"])
def test_init_on_fixture_copies_then_check_runs(fixture, tmp_path, capsys):
    project = _copy_without_config(fixture, tmp_path)
    code, _, err = _cli(capsys, "init", str(project), "-j", "1")
    assert code == 0, err
    assert "Wrote [tool.scopeguard]" in err
    code, out, err = _cli(capsys, "check", str(project), "--no-cache", "-j", "1")
    assert code in (0, 1), err  # never a configuration error
    assert "analysed" in out


def test_init_on_tvm_like_finds_the_toggles_with_their_polarity(tmp_path, capsys):
    project = _copy_without_config("tvm_like", tmp_path)
    assert _cli(capsys, "init", str(project), "-j", "1")[0] == 0
    config = _config_of(project)
    assert config.source_roots == ("python",) and config.extra_roots == ("tests",)
    toggles = {t.name: t for t in config.toggles}
    assert toggles["msc"].on_when_true == ("USE_MSC", "TVM_USE_MSC") and toggles["msc"].on_when_false == ()
    assert toggles["not_runtime_only"].on_when_false == ("_RUNTIME_ONLY",)
    assert config.scopes == ()  # candidates are written commented
    text = (project / "pyproject.toml").read_text()
    assert '# name = "tvm.contrib.msc"' in text and '# toggle = "msc"' in text


def test_init_scope_registers_a_candidate_and_check_reports_it(tmp_path, capsys):
    project = _copy_without_config("tvm_like", tmp_path)
    assert _cli(capsys, "init", str(project), "--scope", "tvm.contrib.msc", "-j", "1")[0] == 0
    config = _config_of(project)
    assert [(s.name, s.toggle) for s in config.scopes] == [("tvm.contrib.msc", "msc")]
    code, out, _ = _cli(capsys, "check", str(project), "--no-cache", "-j", "1", "--select", "SG201")
    assert code == 1
    assert ("python/tvm/driver/build.py", 21, "SG201") in _findings(out, project)


SYNTHETIC = {
    "src/app/__init__.py": "from app import core\n",
    "src/app/core.py": "from app import gpu\n",
    "src/app/settings.py": (
        "import os\n"
        "\n"
        "if os.environ.get(\"APP_USE_GPU\", \"0\") == \"1\":\n"
        "    from app.gpu import kernels\n"
    ),
    "src/app/gpu/__init__.py": "",
    "src/app/gpu/kernels.py": "",
    "tests/test_core.py": "import app.core\n",
}


def _synthetic(tmp_path: Path, pyproject: str | None = None) -> Path:
    project = tmp_path / "synthetic"
    for path, text in SYNTHETIC.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text)
    if pyproject is not None:
        (project / "pyproject.toml").write_text(pyproject)
    return project


def test_init_on_a_project_with_an_environment_toggle(tmp_path, capsys):
    project = _synthetic(tmp_path)
    code, _, err = _cli(capsys, "init", str(project), "--scope", "app.gpu", "-j", "1")
    assert code == 0, err
    config = _config_of(project)
    assert config.source_roots == ("src",) and config.extra_roots == ("tests",)
    assert [(t.name, t.on_when_true, t.on_when_false) for t in config.toggles] == [("gpu", ("APP_USE_GPU",), ())]
    assert [(s.name, s.toggle) for s in config.scopes] == [("app.gpu", "gpu")]
    code, out, _ = _cli(capsys, "check", str(project), "--no-cache", "-j", "1")
    assert code == 1
    # one decision, one finding (issue 16): SG301 and SG402 are notes under the SG201 that causes them
    assert _findings(out, project) == [("src/app/core.py", 1, "SG201")]
    assert [line.split(": ")[2].split()[0] for line in out.splitlines() if line.startswith("  = note: ")] == [
        "SG301", "SG402"]


def _findings(out: str, project: Path) -> list[tuple[str, int, str]]:
    found = []
    for line in out.splitlines()[:-1]:
        if line.startswith("  = note: "):
            continue  # a related note under the finding above
        match = re.match(r"^(.*?):(\d+):\d+: (SG\d+) ", line)
        assert match, line
        path = Path(match.group(1)).resolve().relative_to(project.resolve()).as_posix()
        found.append((path, int(match.group(2)), match.group(3)))
    return found


def test_init_twice_refuses_and_keeps_the_file(tmp_path, capsys):
    project = _synthetic(tmp_path, pyproject='[project]\nname = "app"\n')
    assert _cli(capsys, "init", str(project), "-j", "1")[0] == 0
    first = (project / "pyproject.toml").read_text()
    assert first.startswith('[project]\nname = "app"\n\n[tool.scopeguard]\n')
    code, out, err = _cli(capsys, "init", str(project), "-j", "1")
    assert code == 2
    assert "already has a [tool.scopeguard] table" in err and "--force" in err
    assert (project / "pyproject.toml").read_text() == first
    # --force replaces that table only; the rest of the file is kept as it was.
    assert _cli(capsys, "init", str(project), "--force", "--scope", "app.gpu", "-j", "1")[0] == 0
    again = (project / "pyproject.toml").read_text()
    assert again.startswith('[project]\nname = "app"\n\n[tool.scopeguard]\n')
    assert again.count("[tool.scopeguard]") == 1 and '\nname = "app.gpu"\n' in again


def test_init_force_refuses_a_table_written_as_dotted_keys(tmp_path, capsys):
    text = '[tool]\nscopeguard.source_roots = ["src"]\n'
    project = _synthetic(tmp_path, pyproject=text)
    code, _, err = _cli(capsys, "init", str(project), "--force", "-j", "1")
    assert code == 2 and "remove it by hand" in err
    assert (project / "pyproject.toml").read_text() == text


def test_init_dry_run_writes_nothing(tmp_path, capsys):
    project = _synthetic(tmp_path)
    code, out, _ = _cli(capsys, "init", str(project), "--dry-run", "-j", "1")
    assert code == 0 and out.startswith("[tool.scopeguard]\n")
    assert 'on_when_true = ["APP_USE_GPU"]' in out
    assert not (project / "pyproject.toml").exists()


def test_init_scope_must_name_a_package(tmp_path, capsys):
    project = _synthetic(tmp_path)
    code, _, err = _cli(capsys, "init", str(project), "--scope", "app.gpo", "-j", "1")
    assert code == 2 and "did you mean app.gpu?" in err
    assert not (project / "pyproject.toml").exists()


def test_toggle_candidates_skip_locals_and_none_tests(tmp_path):
    from scopeguard.collect.discover import ModuleFile
    from scopeguard.actions.suggest import find_toggle_candidates

    path = tmp_path / "m.py"
    path.write_text(
        "def f(target=None):\n"
        "    if target is None:\n"
        "        import m.json\n"
        "    if verbose:\n"
        "        import m.csv\n"
        "    if not HAS_X:\n"
        "        return\n"
        "    import m.x\n"
    )
    found = find_toggle_candidates([ModuleFile("m.py", str(path), "m", False)], ["m"])
    assert [(c.spelling, c.kind, c.on_when_true, [s.line for s in c.sightings]) for c in found] == [
        ("HAS_X", "name", True, [6]),
    ]


def test_toggle_candidates_switch_project_code_not_dependencies(tmp_path):
    # matplotlib's `if QT_API == ...: import PyQt6` chooses a dependency; a toggle switches the
    # project's own modules (`if USE_GPU: from app import gpu`).
    from scopeguard.collect.discover import ModuleFile
    from scopeguard.actions.suggest import find_toggle_candidates

    path = tmp_path / "m.py"
    path.write_text("if QT_API:\n    import PyQt6\nif USE_GPU:\n    from app import gpu\n")
    found = find_toggle_candidates([ModuleFile("m.py", str(path), "app.m", False)], ["app"])
    assert [(c.spelling, [s.imports for s in c.sightings]) for c in found] == [("USE_GPU", [("app.gpu",)])]


def test_init_does_not_propose_dependency_checks_as_toggles(tmp_path, capsys):
    # transformers' `is_torch_available()` guards imports of its own modelling modules, but its
    # answer is whether torch is installed: a dependency check, not a switch (issue 27). A predicate
    # reading the project's own setting (`use_gpu()`) is proposed; one calling a dependency check
    # (`is_accel_available()` asks `is_torch_available()`) is a dependency check too.
    project = tmp_path / "proj"
    (project / "src" / "app" / "models").mkdir(parents=True)
    (project / "src" / "app" / "gpu").mkdir()
    (project / "src" / "app" / "__init__.py").write_text(
        "from .utils import is_torch_available, is_vision_available, is_accel_available, use_gpu\n"
        "if is_torch_available():\n    from .models import torch_model\n"
        "if is_vision_available():\n    from .models import vision\n"
        "if is_accel_available():\n    from .models import accel\n"
        "if use_gpu():\n    from . import gpu\n"
        "if is_serve_available():\n    from .models import serve\n"
    )
    (project / "src" / "app" / "utils.py").write_text(
        "import importlib.util\nimport os\n\n"
        "def _is_package_available(name):\n    return importlib.util.find_spec(name) is not None\n\n"
        "def is_torch_available():\n    return _is_package_available(\"torch\")\n\n"
        "def is_vision_available():\n    try:\n        import PIL.Image\n        return True\n"
        "    except ImportError:\n        return False\n\n"
        "def is_accel_available():\n    return is_torch_available() and os.environ.get(\"ACCEL\") == \"1\"\n\n"
        "def use_gpu():\n    return os.environ.get(\"APP_GPU\", \"0\") == \"1\"\n\n"
        "def is_fastapi_available():\n    return _is_package_available(\"fastapi\")\n\n"
        "def is_serve_available():\n    return is_fastapi_available()\n"
    )
    for name in ("models/__init__.py", "models/torch_model.py", "models/vision.py", "models/accel.py",
                 "models/serve.py", "gpu/__init__.py"):
        (project / "src" / "app" / name).write_text("X = 1\n")
    code, out, err = _cli(capsys, "init", str(project), "--dry-run", "-j", "1")
    assert code == 0, err
    proposed = [line.lstrip("# ") for line in out.splitlines() if line.lstrip("# ").startswith(("on_when_true", "on_when_false"))]
    assert proposed == ['on_when_true = ["use_gpu()"]'], out  # (a call seen once: proposed, commented)
    assert "#   is_torch_available(): tests whether torch is installed (src/app/utils.py:8)" in out
    assert "#   is_vision_available(): tests whether PIL.Image is installed (src/app/utils.py:12)" in out
    assert "#   is_accel_available(): calls is_torch_available(), a dependency check" in out
    # a predicate that only asks predicates no condition tests (transformers' is_serve_available)
    assert "#   is_serve_available(): calls is_fastapi_available(), a dependency check" in out


# -- rule pages, rule families, help ----------------------------------------------------------


def test_rule_pages_match_the_rules():
    from scopeguard.commands.rule import expected_pages

    folder = REPO / "docs" / "rules"
    expected = expected_pages()
    on_disk = {p.name for p in folder.glob("*.md")}
    assert on_disk == set(expected), "run `scopeguard rule --write-docs docs/rules`"
    for name, text in expected.items():
        assert (folder / name).read_text(encoding="utf-8") == text, (
            f"docs/rules/{name} drifted from the rule's documentation; run `scopeguard rule --write-docs docs/rules`"
        )


def test_rule_page_drift_is_detected(tmp_path, capsys):
    from scopeguard.commands.rule import expected_pages

    assert _cli(capsys, "rule", "--write-docs", str(tmp_path))[0] == 0
    assert {p.name: p.read_text() for p in tmp_path.glob("*.md")} == expected_pages()
    page = expected_pages()["SG201.md"]
    assert page.startswith("<!-- Generated") and "# SG201 unguarded-import (error)" in page
    assert "### Example" in page and "    from tvm.contrib import msc" in page


def test_rule_family_lists_its_codes(capsys):
    code, out, _ = _cli(capsys, "rule", "SG2")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == [f"SG20{i}" for i in range(1, 9)]
    code, out, _ = _cli(capsys, "rule", "sg40")
    assert [line.split()[0] for line in out.splitlines()] == ["SG401", "SG402", "SG403", "SG404", "SG405"]
    code, _, err = _cli(capsys, "rule", "SG9")
    assert code == 2 and "unknown rule 'SG9'" in err


def test_help_has_examples_and_exit_codes(capsys):
    for args in (["--help"], ["check", "--help"], ["graph", "--help"], ["delete-plan", "--help"], ["init", "--help"]):
        with pytest.raises(SystemExit) as stop:
            main(args)
        assert stop.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out and "exit codes" in out, args


def test_sarif_links_each_rule_page(tmp_path, capsys):
    code, _, _ = _cli(capsys, "check", str(FIXTURES / "tvm_like"), "--no-cache", "--format", "sarif",
                      "-o", str(tmp_path / "out.sarif"))
    assert code == 1
    rules = json.loads((tmp_path / "out.sarif").read_text())["runs"][0]["tool"]["driver"]["rules"]
    from scopeguard import __version__

    assert all(r["helpUri"].endswith(f"/blob/v{__version__}/docs/rules/{r['id']}.md") for r in rules)
    assert all((REPO / "docs" / "rules" / f"{r['id']}.md").is_file() for r in rules)


# -- closed pipes ------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["delete-plan", "tvm.relax", "fixtures/tvm_like", "--no-cache"],
    ["rule"],
    ["graph", "fixtures/tvm_like", "--no-cache", "-f", "json"],
    ["check", "fixtures/tvm_like", "--no-cache"],
])
def test_closed_pipe_is_quiet(args):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written, as after `| head -0`
    try:
        done = subprocess.run([sys.executable, "-m", "scopeguard", *args], cwd=REPO, stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert done.returncode == 141
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr


# -- delete-plan for any package ----------------------------------------------------------------


def test_delete_plan_without_the_scope_argument_says_so(capsys):
    code, _, err = _cli(capsys, "delete-plan", str(FIXTURES / "tvm_like"))
    assert code == 2
    assert "give the scope to delete first, then the project folder" in err and "pyproject" not in err


def test_delete_plan_of_an_unregistered_package(capsys):
    code, out, err = _cli(capsys, "delete-plan", "tvm.ir", str(FIXTURES / "tvm_like"), "--no-cache",
                          "--format", "json")
    assert code == 1
    plan = json.loads(out)
    assert plan["scope"] == "tvm.ir" and plan["toggles_off"] == []
    broken = {b["module"]: b["chain"] for b in plan["broken"]}
    assert broken["tvm"] == ["tvm", "tvm.ir"]
    # A package inside a registered scope: that scope is left out for the run, and the toggle is given.
    code, out, err = _cli(capsys, "delete-plan", "tvm.relax.frontend", str(FIXTURES / "tvm_like"), "--no-cache",
                          "--toggle", "relax", "--format", "json")
    assert "without the overlapping scope(s) tvm.relax" in err
    assert json.loads(out)["toggles_off"] == ["relax"]


def test_delete_plan_without_any_config(tmp_path, capsys):
    project = _synthetic(tmp_path)
    code, out, _ = _cli(capsys, "delete-plan", "app.gpu", str(project), "--source-root", "src", "--no-cache",
                        "--format", "json")
    assert code == 1
    broken = {b["module"]: b["chain"] for b in json.loads(out)["broken"]}
    # Without a configuration there is no toggle: the environment test guards nothing.
    assert broken == {"app": ["app", "app.core", "app.gpu"], "app.core": ["app.core", "app.gpu"],
                      "app.settings": ["app.settings", "app.gpu.kernels"]}


# -- graph: budgets and views ---------------------------------------------------------------------


def test_graph_budget_refuses_with_the_view_to_use(capsys, tmp_path):
    code, out, err = _cli(capsys, "graph", str(FIXTURES / "tvm_like"), "--no-cache", "-f", "mermaid",
                          "--max-nodes", "5")
    assert code == 2 and out == ""
    assert "over the mermaid budget of 5 nodes" in err
    assert "--boundary" in err and "--inbound" in err and "-o graph.html" in err
    code, _, err = _cli(capsys, "graph", str(FIXTURES / "tvm_like"), "--no-cache", "-o", str(tmp_path / "g.dot"),
                        "--max-edges", "3")
    assert code == 2 and "over the dot budget" in err and not (tmp_path / "g.dot").exists()
    # Within the budget: written.
    assert _cli(capsys, "graph", str(FIXTURES / "tvm_like"), "--no-cache", "-f", "mermaid")[0] == 0


def _graph_json(capsys, *args):
    code, out, err = _cli(capsys, "graph", str(FIXTURES / "tvm_like"), "--no-cache", "-f", "json", *args)
    assert code == 0, err
    return json.loads(out)


def test_graph_inbound_view_keeps_only_edges_into_the_scope(capsys):
    data = _graph_json(capsys, "--scope", "tvm.contrib.msc", "--inbound")
    inside = {n["id"] for n in data["nodes"] if n.get("scope") == "tvm.contrib.msc"}
    assert inside == {"tvm.contrib.msc", "tvm.contrib.msc.core"}  # its test file is reached by nothing
    assert data["edges"] and all(e["target"] in inside and e["source"] not in inside for e in data["edges"])
    sources = {e["source"] for e in data["edges"]}
    assert {"tvm.driver.build", "tvm.contrib.cutlass.build", "tests/python/ir/test_ir.py"} <= sources
    assert {n["id"] for n in data["nodes"]} == inside | sources
    code, _, err = _cli(capsys, "graph", str(FIXTURES / "tvm_like"), "--no-cache", "--inbound")
    assert code == 2 and "--inbound needs --scope" in err


def test_graph_blast_radius_draws_the_breaking_chains(capsys):
    from scopeguard.config import load_config
    from scopeguard.analysis import simulate_deletion
    from scopeguard.analysis.graph import ImportGraph
    from scopeguard.run.pipeline import collect_facts

    data = _graph_json(capsys, "--blast-radius", "tvm.relax")
    config = load_config(FIXTURES / "tvm_like" / "pyproject.toml")
    plan = simulate_deletion(ImportGraph(collect_facts(config)), config.scope_named("tvm.relax"))
    pairs = {(a, b) for chain in [b.chain for b in plan.broken] + [(x.importer, *x.chain) for x in plan.lazy]
             for a, b in zip(chain, chain[1:])}
    edges = {(e["source"], e["target"]) for e in data["edges"]}
    assert edges and edges <= pairs
    assert ("tvm.script.parser.relax", "tvm.relax") in edges


def test_diff_hint_fetches_the_branch_of_the_remote(tmp_path, capsys):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    project = _synthetic(tmp_path, pyproject='[tool.scopeguard]\nsource_roots = ["src"]\n')
    code, _, err = _cli(capsys, "check", str(project), "--no-cache", "--diff", "origin/main")
    assert code == 2
    assert "`git fetch origin main`" in err and "git fetch origin origin/main" not in err


def test_init_dry_run_shows_a_proposal_beside_an_existing_table(tmp_path, capsys):
    # A dry run writes nothing, so an existing table is no reason to refuse it; the scopes that
    # table registers are registered in the proposal too.
    project = _synthetic(tmp_path, pyproject='[project]\nname = "app"\n')
    assert _cli(capsys, "init", str(project), "--scope", "app.gpu", "-j", "1")[0] == 0
    before = (project / "pyproject.toml").read_text()
    code, out, err = _cli(capsys, "init", str(project), "--dry-run", "-j", "1")
    assert code == 0 and out.startswith("[tool.scopeguard]\n")
    assert '\nname = "app.gpu"\n' in out and "table is kept (a dry run writes nothing)" in err
    assert (project / "pyproject.toml").read_text() == before


def test_init_force_keeps_the_registered_scopes(tmp_path, capsys):
    project = _synthetic(tmp_path, pyproject='[project]\nname = "app"\n')
    assert _cli(capsys, "init", str(project), "--scope", "app.gpu", "-j", "1")[0] == 0
    text = (project / "pyproject.toml").read_text()
    # the maintainer adds a key of their own, and a scope that is later deleted from the tree
    text = text.replace('\nname = "app.gpu"\n', '\nname = "app.gpu"\nallow = ["app.api"]\n')
    text += '\n[[tool.scopeguard.scopes]]\nname = "app.gone"\n'
    (project / "pyproject.toml").write_text(text)
    code, _, err = _cli(capsys, "init", str(project), "--force", "-j", "1")
    assert code == 0
    again = (project / "pyproject.toml").read_text()
    assert '\nname = "app.gpu"\n' in again and "app.gone" not in again
    assert 'scope app.gpu stays registered; add back its allow by hand' in err
    assert 'scope app.gone of the existing table is no package any more' in err


def test_init_writes_toml_any_reader_accepts_whatever_the_tree_names(tmp_path, capsys):
    # A toggle spelling and a package name come from the tree; what init writes must load back.
    from scopeguard.base.text import toml_string

    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib
    for text in ('plain', 'q"b\\c', "del\x7f nul\x00 esc\x1b", "Ω\u2028", "\udcff"):
        value = tomllib.loads("k = " + toml_string(text))["k"]
        assert value == (text if text != "\udcff" else "\ufffd")


def test_init_dry_run_and_force_describe_registered_scopes_that_are_no_candidates(tmp_path, capsys):
    """Issue 27.4 (matplotlib): a table registering a module (`backends.backend_tk`, no package), one
    three levels deep, and one under a second top-level package loaded by the first: `--dry-run`
    showed a traceback (the proposal looked them up among the ranked packages); each is described,
    and the chain names the package whose import loads it."""
    files = {
        "lib/__init__.py": "from lib import plots\n",
        "lib/plots.py": "import kit.three\n",
        "lib/backends/__init__.py": "",
        "lib/backends/backend_tk.py": "",
        "lib/ext/deep/inner/__init__.py": "",
        "lib/ext/__init__.py": "",
        "lib/ext/deep/__init__.py": "",
        "kit/three/__init__.py": "",
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    table = "".join(f'\n[[tool.scopeguard.scopes]]\nname = "{n}"\n'
                    for n in ("kit.three", "lib.backends.backend_tk", "lib.ext.deep.inner"))
    (tmp_path / "pyproject.toml").write_text('[tool.scopeguard]\nsource_roots = ["."]\n' + table)
    code, out, err = _cli(capsys, "init", str(tmp_path), "--dry-run", "-j", "1")
    assert code == 0, err
    for name in ("kit.three", "lib.backends.backend_tk", "lib.ext.deep.inner"):
        assert f'\n[[tool.scopeguard.scopes]]\nname = "{name}"\n' in out
    assert "# kit.three: 1 file(s); `import lib` loads it even with every toggle off (lib -> lib.plots -> kit.three)" in out
    assert "# lib.backends.backend_tk: 1 file(s); `import lib` does not load it" in out
    code, _, err = _cli(capsys, "init", str(tmp_path), "--force", "-j", "1")
    assert code == 0, err
    assert [s.name for s in _config_of(tmp_path).scopes] == ["kit.three", "lib.backends.backend_tk", "lib.ext.deep.inner"]
