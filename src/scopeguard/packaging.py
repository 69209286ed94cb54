"""Packaging and configuration files that name a scope: the edits a deletion needs besides the
scope's own folder.

Reads `pyproject.toml`, `setup.py`, `setup.cfg` and `MANIFEST.in` at the project root and in each
source root's folder and the folder above it (TVM keeps `python/setup.py` next to `python/tvm`).
Nothing is executed: `setup.py` is parsed with `ast` and only its string literals are looked at;
the other files are read line by line, which keeps the line numbers a reader needs. A file names
the scope when it spells its dotted name (`tvm.relax`, `tvm.relax.cli:main`), its path
(`tvm/relax`), or one of its extra paths (`tests/python/relax`). The `[tool.scopeguard]` tables,
which declare the scope, are not counted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .model import Config, Scope

PACKAGING_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in")


@dataclass(frozen=True, slots=True)
class PackagingReference:
    path: str  # relative to the project root, forward slashes
    line: int
    text: str  # the line (or string literal) as written, stripped
    why: str


def packaging_files(config: Config) -> list[str]:
    """Project-relative paths of the packaging files that exist, each once, in a stable order."""
    folders = [""]
    for root in config.source_roots:
        root = os.path.normpath(root).replace(os.sep, "/")
        if root != ".":
            folders.append(root)
            parent = root.rpartition("/")[0]
            folders.append(parent)
    found: list[str] = []
    for folder in dict.fromkeys(folders):
        for name in PACKAGING_FILES:
            path = f"{folder}/{name}" if folder else name
            if path not in found and os.path.isfile(os.path.join(config.root, path)):
                found.append(path)
    return found


def find_references(config: Config, scope: Scope) -> list[PackagingReference]:
    """Every line of a packaging or config file that names `scope`."""
    pattern = _pattern(scope)
    found: list[PackagingReference] = []
    for path in packaging_files(config):
        try:
            with open(os.path.join(config.root, path), encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        name = path.rpartition("/")[2]
        if name == "pyproject.toml":
            found += _in_pyproject(path, text, pattern)
        elif name == "setup.py":
            found += _in_setup_py(path, text, pattern)
        else:
            why = "setup.cfg names the scope" if name == "setup.cfg" else "MANIFEST.in names the scope's files"
            found += [PackagingReference(path, n, line.strip(), why) for n, line in _matching_lines(text, pattern)]
    return found


def _pattern(scope: Scope) -> re.Pattern[str]:
    """The scope's dotted name, its path, and its extra paths, each as a whole name: `tvm.relax`
    matches in `tvm.relax.cli:main` and `"tvm.relax"`, not in `tvm.relaxed`."""
    spellings = [scope.name, scope.name.replace(".", "/")]
    spellings += [extra.strip("/") for extra in scope.extra_paths]
    body = "|".join(re.escape(s) for s in sorted(set(spellings), key=len, reverse=True))
    return re.compile(rf"(?<![\w.]){'(?:' + body + ')'}(?![\w])")


def _matching_lines(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        if pattern.search(line):
            yield number, line


_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def _in_pyproject(path: str, text: str, pattern: re.Pattern[str]) -> list[PackagingReference]:
    found = []
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE.match(line)
        if header:
            table = header.group(1).replace('"', "").replace("'", "")
            continue
        if table == "tool.scopeguard" or table.startswith("tool.scopeguard."):
            continue  # the declaration of the scope itself
        if line.lstrip().startswith("#") or not pattern.search(line):
            continue
        found.append(PackagingReference(path, number, line.strip(), f"pyproject.toml [{table or 'top level'}] names the scope"))
    return found


def _in_setup_py(path: str, text: str, pattern: re.Pattern[str]) -> list[PackagingReference]:
    import ast  # only for a setup.py; `check` imports this module on every run to key its cache

    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError):
        return [PackagingReference(path, n, line.strip(), "setup.py names the scope (not parsable: matched as text)")
                for n, line in _matching_lines(text, pattern)]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.search(node.value):
            found.append(PackagingReference(path, node.lineno, repr(node.value), "setup.py names the scope in a string"))
    return sorted(set(found), key=lambda r: (r.line, r.text))
