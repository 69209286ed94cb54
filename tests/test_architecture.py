"""docs/architecture.md tells the truth: its package picture lists exactly the package-level import
edges `scopeguard graph --depth 2` finds in scopeguard's own code, every one of them goes down the
layers of the contract in pyproject.toml, and every file it names exists."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from .conftest import REPO

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

DOC = REPO / "docs" / "architecture.md"


def _doc_edges() -> set[tuple[str, str]]:
    blocks = re.findall(r"```mermaid\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 2, "the layers and the package picture"
    return set(re.findall(r"^\s*([\w]+) --> ([\w]+)\s*$", blocks[1], re.M))


def _code_edges(tmp_path) -> set[tuple[str, str]]:
    shutil.copytree(REPO / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "pyproject.toml").write_text('[tool.scopeguard]\nsource_roots = ["src"]\n')
    done = subprocess.run(
        [sys.executable, "-m", "scopeguard", "graph", str(tmp_path), "--no-cache", "--depth", "2",
         "-f", "mermaid", "--no-legend"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    names = dict(re.findall(r'^\s*(n\d+)\[\[?"([^"]+)"\]?\]', done.stdout, re.M))

    def short(node: str) -> str:
        return {"scopeguard": "version", "scopeguard.__main__": "main"}.get(node, node.partition(".")[2])

    pairs = re.findall(r'^\s*(n\d+) -->\|"\d+"\| (n\d+)', done.stdout, re.M)
    return {(short(names[a]), short(names[b])) for a, b in pairs}


def test_the_package_picture_is_the_code(tmp_path):
    assert _doc_edges() == _code_edges(tmp_path)


def test_every_drawn_edge_goes_down_the_layers():
    contract = next(c for c in tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
                    if c["id"] == "layers")
    depth = {}
    for index, layer in enumerate(reversed(contract["layers"])):
        for name in layer.split("|"):
            depth[name.strip()] = index
    depth["main"], depth["version"] = depth["__main__"], -1  # __init__ holds only __version__
    for importer, imported in _doc_edges():
        assert depth[importer] > depth[imported], (importer, imported)


def test_the_files_it_names_exist():
    named = set(re.findall(r"`((?:base|config|facts|collect|analysis|rules|run|actions|output|commands)/[\w/]+\.py)`",
                           DOC.read_text()))
    assert len(named) > 10
    missing = [path for path in sorted(named) if not (REPO / "src" / "scopeguard" / path).is_file()]
    assert missing == []
