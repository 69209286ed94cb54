"""Text edits of packaging files for a deleted scope: pyproject.toml, setup.cfg, MANIFEST.in.

Given the lines that name the scope (from `packaging.references`), each is edited only where the
edit is certain from the line alone:
- a line that is one entry of a multi-line list (`"app.gpu",` in pyproject; an indented
  `app.gpu` continuation line in setup.cfg) goes;
- a quoted entry of a one-line TOML array (`packages = ["app", "app.gpu"]`) goes from the array;
- a `name = "app.gpu.cli:main"` line of an entry-point table (`[project.scripts]`,
  `[project.gui-scripts]`, `[project.entry-points.*]`) goes; in setup.cfg an indented
  `name = app.gpu.cli:main` line of `[options.entry_points]` goes;
- a MANIFEST.in line (`recursive-include src/app/gpu *.txt`) goes.
Anything else (a key whose whole value names the scope, setup.py) is returned as not editable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .base import Example, Unedited, dedent


@dataclass(frozen=True)
class Result:
    source: str
    edited: tuple[int, ...]
    not_editable: tuple[Unedited, ...]


_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_ENTRY_TABLES = ("project.scripts", "project.gui-scripts", "project.entry-points.", "tool.poetry.scripts")
_LIST_ITEM = re.compile(r"""^\s*(?:"[^"\\]*"|'[^'\\]*')\s*,?\s*(?:#.*)?$""")
_KEY_STRING = re.compile(r"""^\s*[\w.\-"']+\s*=\s*(?:"[^"\\]*"|'[^'\\]*')\s*(?:#.*)?$""")
_INLINE_ARRAY = re.compile(r"""^(\s*[\w.\-"']+\s*=\s*)\[(.*)\](\s*(?:#.*)?)$""")
_QUOTED = re.compile(r"""\s*(?:"[^"\\]*"|'[^'\\]*')\s*""")


def _tables(lines: list[str]) -> list[str]:
    table, out = "", []
    for line in lines:
        header = _TABLE.match(line)
        if header:
            table = header.group(1).replace('"', "").replace("'", "")
        out.append(table)
    return out


def _inline_array(line: str, names: Callable[[str], bool]) -> str | None:
    """The line with the quoted entries that name the scope dropped from its one-line array."""
    match = _INLINE_ARRAY.match(line.rstrip("\r\n"))
    if not match:
        return None
    items = match.group(2).split(",")
    if not all(_QUOTED.fullmatch(i) or not i.strip() for i in items):
        return None  # not a plain array of strings
    kept = [i.strip() for i in items if i.strip() and not names(i)]
    ending = line[len(line.rstrip("\r\n")):]
    return f"{match.group(1)}[{', '.join(kept)}]{match.group(3)}{ending}"


def apply(name: str, source: str, lines: Iterable[int], names: Callable[[str], bool]) -> Result:
    """Edit `source` (a file called `name`) at `lines`; `names(text)` says a text names the scope."""
    text_lines = source.splitlines(keepends=True)
    tables = _tables(text_lines)
    drop, replace, refused = set(), {}, []
    for number in sorted(set(lines)):
        if not 0 < number <= len(text_lines):
            continue
        line = text_lines[number - 1]
        table = tables[number - 1]
        stripped = line.strip()
        if name == "MANIFEST.in":
            drop.add(number)
        elif name == "setup.cfg":
            indented = line[:1] in (" ", "\t")
            if indented and (table == "options.entry_points" or "=" not in stripped):
                drop.add(number)
            else:
                refused.append(Unedited(number, stripped, "setup.cfg: the key's whole value names the scope; edit by hand"))
        elif name == "pyproject.toml":
            inline = _inline_array(line, names)
            if _LIST_ITEM.match(line):
                drop.add(number)
            elif table.startswith(_ENTRY_TABLES) and _KEY_STRING.match(line):
                drop.add(number)
            elif inline is not None:
                replace[number] = inline
            else:
                refused.append(Unedited(number, stripped, f"pyproject.toml [{table or 'top level'}]: not a list entry "
                                           "or an entry point; edit by hand"))
        else:
            refused.append(Unedited(number, stripped, f"{name}: not edited automatically (nothing in it is run)"))
    out = [replace.get(n, line) for n, line in enumerate(text_lines, start=1) if n not in drop]
    return Result("".join(out), tuple(sorted(drop | set(replace))), tuple(refused))


_SCOPE_NAME = re.compile(r"""^\s*name\s*=\s*(?:"([^"\\]*)"|'([^'\\]*)')\s*(?:#.*)?$""")
_SCOPE_REFS = re.compile(r"""^\s*(uses|allow)\s*=""")


def remove_scope_table(source: str, scope: str) -> tuple[str, list[Unedited]]:
    """pyproject.toml without the `[[tool.scopeguard.scopes]]` table that declares `scope` (the
    configuration would name a package that is gone); another scope's `uses`/`allow` line naming
    it is returned as not editable (the other scope's contract changes: a person decides)."""
    lines = source.splitlines(keepends=True)
    tables = _tables(lines)
    starts = [i for i, line in enumerate(lines) if _TABLE.match(line)]
    drop, refused = set(), []
    pattern = re.compile(rf"(?<![\w.]){re.escape(scope)}(?![\w])")
    for n, start in enumerate(starts):
        if tables[start] != "tool.scopeguard.scopes":
            continue
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        names = [m.group(1) or m.group(2) for m in map(_SCOPE_NAME.match, lines[start:end]) if m]
        if names and names[0] == scope:
            while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
                end -= 1  # comments and blank lines at the end belong to what follows
            drop.update(range(start, end))
            if start > 0 and not lines[start - 1].strip():
                drop.add(start - 1)  # the blank line before the table
        else:
            for i in range(start, end):
                if _SCOPE_REFS.match(lines[i]) and pattern.search(lines[i]):
                    refused.append(Unedited(i + 1, lines[i].strip(), f"scope {names[0] if names else '?'} "
                                               f"names {scope} in its contract; edit by hand"))
    return "".join(line for i, line in enumerate(lines) if i not in drop), refused


def _names_gpu(text: str) -> bool:
    return re.search(r"(?<![\w.])(?:app\.gpu|app/gpu)(?![\w])", text) is not None


EXAMPLES = (
    Example(
        "pyproject: a package list entry and an entry point",
        dedent('''
            [tool.setuptools]
            packages = [
                "app",
                "app.gpu",
            ]

            [project.scripts]
            app = "app.cli:main"
            app-gpu = "app.gpu.cli:main"
            '''),
        dedent('''
            [tool.setuptools]
            packages = [
                "app",
            ]

            [project.scripts]
            app = "app.cli:main"
            '''),
        {"name": "pyproject.toml", "lines": [4, 9], "names": _names_gpu},
    ),
    Example(
        "pyproject: a one-line array",
        'packages = ["app", "app.gpu", "app.core"]\n',
        'packages = ["app", "app.core"]\n',
        {"name": "pyproject.toml", "lines": [1], "names": _names_gpu},
    ),
    Example(
        "setup.cfg: a packages continuation line and an entry point",
        dedent('''
            [options]
            packages =
                app
                app.gpu
            [options.entry_points]
            console_scripts =
                app-gpu = app.gpu.cli:main
            '''),
        dedent('''
            [options]
            packages =
                app
            [options.entry_points]
            console_scripts =
            '''),
        {"name": "setup.cfg", "lines": [4, 7], "names": _names_gpu},
    ),
    Example(
        "MANIFEST.in: the line goes",
        "include README.md\nrecursive-include src/app/gpu *.cu\n",
        "include README.md\n",
        {"name": "MANIFEST.in", "lines": [2], "names": _names_gpu},
    ),
)
