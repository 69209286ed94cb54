"""Packaging and configuration files that name a scope: the edits a deletion needs besides the
scope's own folder.

Reads `pyproject.toml`, `setup.py`, `setup.cfg` and `MANIFEST.in` at the project root and in each
source root's folder and the folder above it (TVM keeps `python/setup.py` next to `python/tvm`).
Nothing is executed: `setup.py` is parsed with `ast` and only its string literals are looked at;
the other files are read line by line, which keeps the line numbers a reader needs. A file names
the scope when it spells its dotted name (`tvm.relax`, `tvm.relax.cli:main`), its path
(`tvm/relax`), or one of its extra paths (`tests/python/relax`). The `[tool.scopeguard]` tables,
which declare the scope, are not counted.

The reading is split from the matching: packaging_facts() turns a file's content into facts (its
lines and string literals, whatever the scopes), which the pipeline caches by content with the
other facts; references() then matches a scope against those facts, for SG303 and delete-plan.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..base.model import Config, PackagingFacts, PackagingText, Scope
from ..base.safeio import link_outside
from ..base.text import printable

PACKAGING_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in")


@dataclass(frozen=True, slots=True)
class PackagingReference:
    path: str  # relative to the project root, forward slashes
    line: int
    text: str  # the line (or string literal) as written, stripped
    why: str


def _candidates(config: Config) -> list[str]:
    """Project-relative paths where packaging files are looked for, each once, in a stable order."""
    folders = [""]
    for root in config.source_roots:
        root = os.path.normpath(root).replace(os.sep, "/")
        if root != ".":
            folders.append(root)
            parent = root.rpartition("/")[0]
            folders.append(parent)
    paths: list[str] = []
    for folder in dict.fromkeys(folders):
        for name in PACKAGING_FILES:
            path = f"{folder}/{name}" if folder else name
            if path not in paths:
                paths.append(path)
    return paths


def packaging_files(config: Config) -> list[str]:
    """Project-relative paths of the packaging files that exist, each once, in a stable order.

    A file that is a symlink leading outside the project (or reached through one) is not read,
    as a linked source file leading outside is not: it is left out, with a note on stderr saying
    so (a scope it names is then not seen by SG303 and delete-plan)."""
    found = []
    for path in _candidates(config):
        full = os.path.join(config.root, path)
        if not os.path.isfile(full):
            continue
        target = link_outside(full, config.root)
        if target is not None:
            note_outside_link(config.root, path, target, "packaging file", "SG303 and delete-plan do not see a scope it names")
            continue
        found.append(path)
    return found


def note_outside_link(root: str, path: str, target: str, what: str, consequence: str) -> None:
    """Say (on stderr) that a file scopeguard would read leads outside the project."""
    import sys

    print(f"scopeguard: note: {printable(path)} is a symlink to {printable(target)}, outside the project: this {what} "
          f"is not read ({consequence}); replace the link by the file itself", file=sys.stderr)


def is_packaging_path(config: Config, path: str) -> bool:
    """Whether a project-relative path is one packaging_files() would list if the file existed."""
    return path in _candidates(config)


def packaging_facts(path: str, text: str) -> PackagingFacts:
    """The texts of one packaging file that may name a scope, from its content (nothing is run)."""
    name = path.rpartition("/")[2]
    if name == "pyproject.toml":
        texts = _in_pyproject(text)
    elif name == "setup.py":
        texts = _in_setup_py(path, text)
    else:
        why = "setup.cfg names the scope" if name == "setup.cfg" else "MANIFEST.in names the scope's files"
        texts = [PackagingText(n, line.strip(), line.strip(), why) for n, line in _lines(text)]
    return PackagingFacts(path, tuple(texts))


def references(files: Iterable[PackagingFacts], scope: Scope) -> list[PackagingReference]:
    """Every text of the packaging files that names `scope`, in file and then text order."""
    pattern = _pattern(scope)
    return [
        PackagingReference(file.path, t.line, t.text, t.why)
        for file in files
        for t in file.texts
        if pattern.search(t.value)
    ]


def _pattern(scope: Scope) -> re.Pattern[str]:
    """The scope's dotted name, its path, and its extra paths, each as a whole name: `tvm.relax`
    matches in `tvm.relax.cli:main` and `"tvm.relax"`, not in `tvm.relaxed`."""
    spellings = [scope.name, scope.name.replace(".", "/")]
    spellings += [extra.strip("/") for extra in scope.extra_paths]
    body = "|".join(re.escape(s) for s in sorted(set(spellings), key=len, reverse=True))
    return re.compile(rf"(?<![\w.]){'(?:' + body + ')'}(?![\w])")


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines that are not blank and not comments."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, line


_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def _in_pyproject(text: str) -> list[PackagingText]:
    found = []
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE.match(line)
        if header:
            table = header.group(1).replace('"', "").replace("'", "")
            continue
        if table == "tool.scopeguard" or table.startswith("tool.scopeguard."):
            continue  # the declaration of the scope itself
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        found.append(PackagingText(number, stripped, stripped, f"pyproject.toml [{table or 'top level'}] names the scope"))
    return found


def _in_setup_py(path: str, text: str) -> list[PackagingText]:
    import ast  # only for a setup.py; `check` imports this module on every run to key its cache

    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError):
        return [PackagingText(n, line.strip(), line.strip(), "setup.py names the scope (not parsable: matched as text)")
                for n, line in _lines(text)]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(PackagingText(node.lineno, repr(node.value), node.value, "setup.py names the scope in a string"))
    return sorted(found, key=lambda t: (t.line, t.text))
