"""Walk the project's roots and name every Python file as the import system would.

Source roots hold the project's own packages (they can own scopes and be imported); extra roots
such as `tests/` hold importers only, named relative to their own root.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from typing import NoReturn
from dataclasses import dataclass, field

from scopeguard.base.model import Config
from scopeguard.base.paths import module_of, module_prefixes

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
    # (size, mtime_ns, ctime_ns, inode, device) as the walk saw them: the cache's stat short-cut
    # uses them instead of a second stat of every file on a cached run. Not part of the file's
    # identity.
    stat: tuple[int, int, int, int, int] | None = field(default=None, compare=False, repr=False)


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
    """gitignore patterns matched against project-relative paths with forward slashes, by `pathspec`
    (a maintained implementation of git's wildmatch): `**` spans folders only as a whole path part
    (`a**z.py` does not match `a/b/z.py`), `*` and `?` stay inside one part, `[...]` is a character
    class, `\\` escapes, a pattern without a slash (other than a trailing one) matches at any depth, a
    trailing slash matches folders only, and `!pattern` re-includes what an earlier pattern
    excluded. As in git, a file inside an excluded folder cannot be re-included: the folder is not
    entered. A leading `./` is dropped (`./docs/**` is `docs/**`).
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._spec = None
        if self.patterns:
            from ..base.globs import linear_spec  # pathspec, ~10 ms: only for a project that has excludes

            # Matched in linear time: the patterns and the names both come from the tree.
            self._spec = linear_spec([p[2:] if p.startswith("./") else p for p in self.patterns])

    def matches_file(self, path: str) -> bool:
        """`path` itself matches, ignoring its folders."""
        return self._spec is not None and self._spec.match_file(path)

    def matches_dir(self, path: str) -> bool:
        """`path` is a folder that a pattern matches, so everything below it is excluded."""
        return self._spec is not None and self._spec.match_file(path + "/")

    def covers_dir(self, path: str) -> bool:
        """The folder `path` is excluded, by itself or by a folder above it."""
        parts = path.split("/")
        return any(self.matches_dir("/".join(parts[:i])) for i in range(1, len(parts) + 1))

    def __call__(self, path: str) -> bool:
        """The file `path` is excluded, by itself or by one of its folders."""
        folder = path.rpartition("/")[0]
        return self.matches_file(path) or (bool(folder) and self.covers_dir(folder))


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


# A tree whose symlinks reach the same folders by very many paths (each folder linking twice to the
# next) is an attack on the walk, not a project: beyond this many folders entered through a link,
# discovery stops with an error.
MAX_LINKED_FOLDERS = 50_000


def _walk(project: str, root: str, extra: bool, excluded: ExcludeMatcher) -> Iterator[ModuleFile]:
    base = os.path.normpath(os.path.join(project, root))
    if not os.path.isdir(base):
        return
    base_relative = _relative(base, project)
    if base_relative != "." and excluded.covers_dir(base_relative):
        return  # the root itself, or a folder above it, is excluded
    real_project = os.path.realpath(project)
    real_base = os.path.realpath(base)
    linked = 0
    # Symlinked folders are followed, as Python's import system does (`pkg/feature -> ../impl` is
    # importable as pkg.feature), loop-safe: a link to a folder already on the current path (a
    # cycle) is not entered again. Each stack entry: folder as named, its real path, and the real
    # paths of the folders above it.
    stack = [(base, real_base, frozenset({real_base}))]
    while stack:
        folder, real_folder, chain = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            continue
        below = []
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()  # follows a symlink
            except OSError:
                is_dir = False
            if is_dir:
                if _skip_dir(folder, name) or excluded.matches_dir(_relative(entry.path, project)):
                    continue
                if entry.is_symlink():
                    real = os.path.realpath(entry.path)
                    if not _within(real, real_project):
                        _outside_link(project, entry.path, real)
                    if real in chain:
                        continue  # a cycle: its folders were walked under their first name
                    linked += 1
                    if linked > MAX_LINKED_FOLDERS:
                        _too_many_links(project, entry.path)
                else:
                    real = os.path.join(real_folder, name)
                below.append((entry.path, real, chain | {real}))
                continue
            if not name.endswith(".py") or name == ".py":
                continue
            abspath = entry.path
            path = _relative(abspath, project)
            if excluded.matches_file(path):
                continue
            try:
                info = entry.stat()  # follows a symlink: what Python would open
            except OSError:
                continue  # a dangling symlink (or a loop) has a name but nothing to read
            # A linked file is read only when it stays inside the project, as a linked folder is.
            if entry.is_symlink() and not _within(os.path.realpath(abspath), real_project):
                _outside_link(project, abspath, os.path.realpath(abspath), "source file")
            if not stat.S_ISREG(info.st_mode):
                continue  # a FIFO, a device (a link to /dev/zero), a socket: not a source file
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
                stat=(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev),
            )
        stack.extend(reversed(below))


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _outside_link(project: str, link: str, target: str, what: str = "source folder") -> NoReturn:
    from scopeguard.config import ConfigError

    relative = _relative(link, project)
    raise ConfigError(
        link, 0, what,
        f"{relative} is a symlink to {target}, outside the project: Python imports through it, "
        "scopeguard does not read outside the project",
        f"add {relative!r} to exclude, or replace the link by the folder itself",
    )


def _too_many_links(project: str, link: str) -> NoReturn:
    from scopeguard.config import ConfigError

    relative = _relative(link, project)
    raise ConfigError(
        link, 0, "source folder",
        f"more than {MAX_LINKED_FOLDERS} folders are reached through symlinks (the last: {relative})",
        "exclude the linked folders that are not code",
    )
