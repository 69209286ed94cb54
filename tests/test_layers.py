"""The one-way flow, enforced: the import-linter contracts in pyproject.toml ([tool.importlinter])
hold for scopeguard's own package, they fail when a low module imports a high one, and no module
of the package takes part in an import cycle (function-local imports included)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from .conftest import REPO

grimp = pytest.importorskip("grimp", reason="import-linter is a test dependency: pip install -e '.[test]'")

LINT = (
    "import sys\n"
    "from importlinter.cli import lint_imports\n"
    "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))\n"
)


def lint(config: str, package_parent: str, cwd: str) -> subprocess.CompletedProcess:
    """lint-imports on the `scopeguard` package found in `package_parent`, in a fresh interpreter
    (so that the package analysed is that copy, not the one this test process imported)."""
    env = {"PYTHONPATH": package_parent, "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", LINT, config], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_layers_contracts_hold():
    done = lint(str(REPO / "pyproject.toml"), str(REPO / "src"), str(REPO))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 7 kept, 0 broken." in done.stdout


def test_a_back_edge_breaks_the_layers_contract(tmp_path):
    # A copy of the package in which a low module (analysis.verdicts, below rules and commands)
    # imports the command layer: the contract must name the broken layer and the offending import.
    shutil.copytree(REPO / "src" / "scopeguard", tmp_path / "scopeguard",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    guards = tmp_path / "scopeguard" / "analysis" / "verdicts.py"
    text = guards.read_text()
    anchor = "from ..base.model import Execution, Guarded, Scope\n"
    assert anchor in text
    guards.write_text(text.replace(anchor, anchor + "from ..commands import common\n"))
    done = lint(str(tmp_path / "pyproject.toml"), str(tmp_path), str(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "scopeguard's layers: base -> config -> facts -> collect | analysis -> rules -> \nrun | actions -> output -> commands BROKEN" in done.stdout
    assert "scopeguard.analysis is not allowed to import scopeguard.commands:" in done.stdout
    assert "- scopeguard.analysis.verdicts -> scopeguard.commands.common (l.13)" in done.stdout
    # The new chain also loops back into the rules and analysis packages (commands -> rules ->
    # analysis.project -> analysis.verdicts): their own contracts break too; the other four hold.
    assert "analysis: the Project context above the deletion simulation above the graph, \nverdicts and registries above reachability BROKEN" in done.stdout
    assert "Contracts: 4 kept, 3 broken." in done.stdout



def test_a_back_edge_inside_config_breaks_the_config_contract(tmp_path):
    # The key locator (below the checks and the loader) importing the loader: only the config
    # package's own contract breaks; the package-level layers do not see an edge inside config.
    shutil.copytree(REPO / "src" / "scopeguard", tmp_path / "scopeguard",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    locate = tmp_path / "scopeguard" / "config" / "locate.py"
    text = locate.read_text()
    anchor = "from .schema import _TABLE, KeyPath, Part\n"
    assert anchor in text
    locate.write_text(text.replace(anchor, anchor + "from .load import find_config\n"))
    done = lint(str(tmp_path / "pyproject.toml"), str(tmp_path), str(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "scopeguard.config.locate is not allowed to import scopeguard.config.load:" in done.stdout
    assert "Contracts: 6 kept, 1 broken." in done.stdout

def _cycles(graph, modules: set[str]) -> list[list[str]]:
    """Every import cycle among `modules`, one per strongly connected part, as a closed path."""
    found, done = [], set()
    for start in sorted(modules):
        if start in done:
            continue
        path, on_path = [start], {start}
        stack = [iter(sorted(graph.find_modules_directly_imported_by(start) & modules))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif nxt in on_path:
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(sorted(graph.find_modules_directly_imported_by(nxt) & modules)))
    return found


def test_no_module_of_the_package_is_in_an_import_cycle():
    graph = grimp.build_graph("scopeguard", cache_dir=None)
    modules = set(graph.find_descendants("scopeguard")) | {"scopeguard"}
    assert _cycles(graph, modules) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph, {"p", "p.a", "p.b", "p.c"}) == [["p.a", "p.b", "p.c", "p.a"]]
