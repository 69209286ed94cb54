"""Build options behind feature toggles: the CMake side of a toggle.

TVM turns components on and off at build time (`set(USE_MSC OFF)` in cmake/config.cmake, declared
by `tvm_option(USE_MSC "Build with MSC" OFF)` in CMakeLists.txt) and at run time through
environment variables (`TVM_USE_RUNTIME_LIB`). A toggle whose spellings match neither is a switch
nobody can flip without editing code: SG404 reports it.

The CMake files read are the ones options live in by convention: `CMakeLists.txt` and `*.cmake`
at the project root, and every `*.cmake`/`CMakeLists.txt` under `cmake/`. Walking the whole tree
(TVM's 3rdparty/ and build folders hold thousands of unrelated CMake files) would cost every run,
cached ones included, for options no toggle means.

The pipeline reads these files and keeps what cmake_facts() finds in them as facts, cached by
content with the other facts; SG404 reads only those facts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

from ..base.model import BuildFacts, BuildOption, CMakeFacts, FileFacts, ReferenceKind, Toggle
from ..base.safeio import link_outside
from ..base.text import printable

_COMMAND = re.compile(
    r"^[ \t]*(set|option|tvm_option|cmake_dependent_option)[ \t]*\([ \t]*([A-Za-z_][A-Za-z0-9_]*)\b([^)]*)\)",
    re.IGNORECASE | re.MULTILINE,
)
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})


def cmake_files(root: str) -> list[str]:
    """The CMake files options are read from, relative to `root` with forward slashes, sorted.

    A file that is a symlink leading outside the project, or reached through a linked `cmake`
    folder that does, is not read: it is left out with a note on stderr (SG404 then does not see
    the options it sets), as a linked source file leading outside is not read."""
    found = []
    try:
        top = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return []
    for entry in top:
        try:
            is_file = entry.is_file()
        except OSError:  # a symlink loop (`a -> b -> a`) at the root: not a CMake file
            continue
        if is_file and _is_cmake(entry.name):
            found.append(entry.name)
    cmake_dir = os.path.join(root, "cmake")
    outside = link_outside(cmake_dir, root) if os.path.isdir(cmake_dir) else None
    if outside is not None:  # not even walked: a link to / would walk the whole machine
        _note(root, "cmake", outside)
    for folder, dirs, files in os.walk(cmake_dir) if outside is None else ():
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        for name in sorted(files):
            if _is_cmake(name):
                found.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    kept = []
    for path in found:
        target = link_outside(os.path.join(root, path), root)
        if target is None:
            kept.append(path)
        else:
            _note(root, path, target)
    return kept


def _note(root: str, path: str, target: str) -> None:
    import sys

    what = "folder's CMake files are" if path == "cmake" else "CMake file is"
    print(f"scopeguard: note: {printable(path)} is a symlink to {printable(target)}, outside the project: this {what} "
          f"not read (SG404 does not see the options it sets); replace the link by the {'folder' if path == 'cmake' else 'file'} itself",
          file=sys.stderr)


def _is_cmake(name: str) -> bool:
    return name == "CMakeLists.txt" or name.endswith(".cmake")


def parse_cmake(text: str, path: str) -> list[BuildOption]:
    """The options a CMake file sets or declares (commented-out lines are not matched)."""
    options = []
    for match in _COMMAND.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        value = " ".join(match.group(3).split())
        options.append(BuildOption(match.group(2), path, line, match.group(1).lower(), value))
    return options


def is_cmake_path(path: str) -> bool:
    """Whether a project-relative path is one cmake_files() would list if the file existed."""
    folder, _, name = path.rpartition("/")
    if not _is_cmake(name):
        return False
    if not folder:
        return True
    parts = folder.split("/")
    return parts[0] == "cmake" and not any(p.startswith(".") or p in _SKIPPED_DIRS for p in parts[1:])


def cmake_facts(path: str, text: str) -> CMakeFacts:
    """The facts of one CMake file, from its content."""
    return CMakeFacts(path, tuple(parse_cmake(text, path)))


def options(build: BuildFacts) -> list[BuildOption]:
    """Every option of every CMake file of the project, in file and line order."""
    return [option for file in build.cmake for option in file.options]


def environment_variables(facts: Iterable[FileFacts]) -> dict[str, list[tuple[str, int]]]:
    """Environment variables the code reads or sets, with where (path, line), each place once (a
    read in a function called on import is also recorded as an import-time copy)."""
    found: dict[str, list[tuple[str, int]]] = {}
    for file in facts:
        for reference in file.references:
            if reference.kind is ReferenceKind.ENVIRONMENT:
                places = found.setdefault(reference.text, [])
                if (file.path, reference.line) not in places:
                    places.append((file.path, reference.line))
    return found


def switches(toggle: Toggle) -> tuple[str, ...]:
    """The spellings of a toggle that could be a build option or an environment variable."""
    return tuple(s for s in (*toggle.on_when_true, *toggle.on_when_false) if s.isidentifier())


def backing(
    toggle: Toggle, options: Sequence[BuildOption], environment: dict[str, list[tuple[str, int]]]
) -> tuple[list[BuildOption], list[str]]:
    """The build options and environment variables behind a toggle: those named as its spellings."""
    names = set(switches(toggle))
    return [o for o in options if o.name in names], sorted(names & set(environment))
