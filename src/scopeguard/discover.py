"""Walk the project's roots and name every Python file as the import system would.

Source roots hold the project's own packages (they can own scopes and be imported); extra roots
such as `tests/` hold importers only, named relative to their own root.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from scopeguard.model import Config
from scopeguard.paths import module_of, module_prefixes

# Folders that never hold project code; walking them costs time and finds vendored copies.
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})


@dataclass(frozen=True, slots=True)
class ModuleFile:
    """One Python file and the module name it is imported by.

    `module` is unique among source files (extra=False). Files of extra roots keep their own names,
    which may repeat (two `conftest.py`) or equal a source module's: identify them by `path`.
    """

    path: str  # relative to the project root, forward slashes
    abspath: str  # as on disk: open the file with this one
    module: str
    is_package: bool  # the file is a package's __init__.py
    extra: bool = False  # from an extra root: an importer only, never imported
    # (size, mtime_ns) as the walk saw them: the cache's stat short-cut uses them instead of a
    # second stat of every file on a cached run. Not part of the file's identity.
    stat: tuple[int, int] | None = field(default=None, compare=False, repr=False)


def discover(config: Config) -> tuple[ModuleFile, ...]:
    """Every `*.py` file under the source and extra roots that no `exclude` pattern covers, by path."""
    excluded = ExcludeMatcher(config.exclude)
    roots = [(root, False) for root in config.source_roots] + [(root, True) for root in config.extra_roots]
    listed: set[str] = set()  # overlapping roots must not list one file twice
    chosen: dict[str, tuple[tuple[int, int], ModuleFile]] = {}
    extras: list[ModuleFile] = []
    for order, (root, extra) in enumerate(roots):
        for file in _walk(config.root, root, extra, excluded):
            if file.abspath in listed:
                continue
            listed.add(file.abspath)
            if extra:
                extras.append(file)
                continue
            # Python's import system: the first sys.path entry wins, and within one folder a
            # package `a/__init__.py` shadows a module `a.py`.
            rank = (order, 0 if file.is_package else 1)
            current = chosen.get(file.module)
            if current is None or rank < current[0]:
                chosen[file.module] = (rank, file)
    files = [file for _, file in chosen.values()] + extras
    return tuple(sorted(files, key=lambda f: f.path))


def module_names(files: Iterable[ModuleFile]) -> frozenset[str]:
    """The importable module names: source modules and every parent package of them.

    Parents count even without a file of their own, as namespace packages do.
    """
    names: set[str] = set()
    for file in files:
        if file.extra:
            continue
        names.update(module_prefixes(file.module))
    return frozenset(names)


class ExcludeMatcher:
    """gitignore-style patterns matched against project-relative paths with forward slashes.

    `**` spans any number of folders, `*` and `?` stay inside one path part, `[...]` is a character
    class. A pattern without a slash (other than a trailing one) matches at any depth, as in
    .gitignore; a trailing slash matches folders only. A pattern that matches a folder excludes
    everything below it. Negation (`!pattern`) is not supported.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._regexes = [re.compile(_glob_to_regex(p)) for p in self.patterns]

    def matches_file(self, path: str) -> bool:
        """`path` itself matches, ignoring its folders."""
        return any(r.fullmatch(path) for r in self._regexes)

    def matches_dir(self, path: str) -> bool:
        """`path` is a folder that a pattern matches, so everything below it is excluded."""
        # The trailing slash lets `_build/**` and `_build/` match the folder itself.
        return any(r.fullmatch(path) or r.fullmatch(path + "/") for r in self._regexes)

    def covers_dir(self, path: str) -> bool:
        """The folder `path` is excluded, by itself or by a folder above it."""
        parts = path.split("/")
        return any(self.matches_dir("/".join(parts[:i])) for i in range(1, len(parts) + 1))

    def __call__(self, path: str) -> bool:
        """The file `path` is excluded, by itself or by one of its folders."""
        folder = path.rpartition("/")[0]
        return self.matches_file(path) or (bool(folder) and self.covers_dir(folder))


def _glob_to_regex(pattern: str) -> str:
    if pattern.startswith("./"):
        pattern = pattern[2:]
    dir_only = pattern.endswith("/")
    # As in .gitignore, a slash at the start or in the middle anchors the pattern at the root;
    # a bare name matches at any depth.
    anchored = "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    if not anchored:
        body = "**/" + body
    out: list[str] = []
    pos = 0
    while pos < len(body):
        char = body[pos]
        if body.startswith("**/", pos):
            out.append("(?:.*/)?")  # zero or more folders
            pos += 3
        elif body.startswith("**", pos):
            out.append(".*")
            pos += 2
        elif char == "*":
            out.append("[^/]*")
            pos += 1
        elif char == "?":
            out.append("[^/]")
            pos += 1
        elif char == "[" and (end := body.find("]", pos + 2)) > 0:
            inner = body[pos + 1 : end]
            if inner.startswith("!"):
                inner = "^" + inner[1:]
            out.append("[" + inner.replace("\\", "\\\\") + "]")
            pos = end + 1
        else:
            out.append(re.escape(char))
            pos += 1
    return "".join(out) + ("/" if dir_only else "")


def _display(text: str) -> str:
    """A printable form of a name that may hold undecodable bytes (surrogate escapes).

    Such a file can never be imported under its name, but it may still import a scope, so it is
    kept with `\\xNN` escapes in its printable names; `abspath` keeps the raw form to open it.
    """
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def _relative(path: str, start: str) -> str:
    # The walk only yields paths below `start`; slicing is ~10x cheaper than os.path.relpath,
    # which matters on a cached run where discovery is most of the work.
    prefix = start.rstrip(os.sep) + os.sep
    if path.startswith(prefix):
        return _display(path[len(prefix) :].replace(os.sep, "/"))
    return _display(os.path.relpath(path, start).replace(os.sep, "/"))


def _skip_dir(parent: str, name: str) -> bool:
    # Hidden folders (.git, .tox, .venv), caches, and virtualenvs under any name (pyvenv.cfg).
    return (
        name.startswith(".")
        or name in _SKIPPED_DIRS
        or os.path.isfile(os.path.join(parent, name, "pyvenv.cfg"))
    )


def _walk(project: str, root: str, extra: bool, excluded: ExcludeMatcher) -> Iterator[ModuleFile]:
    base = os.path.normpath(os.path.join(project, root))
    if not os.path.isdir(base):
        return
    base_relative = _relative(base, project)
    if base_relative != "." and excluded.covers_dir(base_relative):
        return  # the root itself, or a folder above it, is excluded
    # followlinks=False: a symlink to a parent folder would otherwise loop forever, and a linked
    # folder's files would be listed twice under two names.
    for folder, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not _skip_dir(folder, d)
            and not excluded.matches_dir(_relative(os.path.join(folder, d), project))
        )
        for name in filenames:
            if not name.endswith(".py") or name == ".py":
                continue
            abspath = os.path.join(folder, name)
            path = _relative(abspath, project)
            if excluded.matches_file(path):
                continue
            try:
                info = os.stat(abspath)
            except OSError:
                continue  # a dangling symlink has a name but nothing to read
            if not stat.S_ISREG(info.st_mode):
                continue
            named = module_of(abspath[len(base) + 1 :].split(os.sep))
            if named is None:
                continue  # the root's own __init__.py: no import of this root can name it
            module, is_package = named
            yield ModuleFile(
                path=path,
                abspath=abspath,
                module=_display(module),
                is_package=is_package,
                extra=extra,
                stat=(info.st_size, info.st_mtime_ns),
            )
