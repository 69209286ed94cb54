"""Names of things on disk and in the module tree: the small conversions every layer needs.

Pure functions on strings, importing nothing of scopeguard, so that any module may use them:
a project-relative path under a folder, a file's module name, a module's parent packages, and how a
path is shown to the user.
"""

from __future__ import annotations

import os
from pathlib import Path


def under(path: str, folder: str) -> bool:
    """`path` is `folder` itself or inside it (project-relative, forward slashes; a trailing `/`
    on the folder is ignored): `tests/relax/a.py` is under `tests/relax`, `tests/relaxed.py` is not."""
    folder = folder.rstrip("/")
    return path == folder or path.startswith(folder + "/")


def module_prefixes(module: str) -> list[str]:
    """`a.b.c` -> [`a`, `a.b`, `a.b.c`]: the module and every package that importing it runs first."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def module_of(parts: list[str]) -> tuple[str, bool] | None:
    """The dotted module name of a `.py` file from its path parts below a source root, and whether
    it is a package's `__init__.py`: [`a`, `b.py`] -> (`a.b`, False), [`a`, `__init__.py`] ->
    (`a`, True). None for the root's own `__init__.py`, which no import of the root can name."""
    is_package = parts[-1] == "__init__.py"
    names = parts[:-1] if is_package else [*parts[:-1], parts[-1][: -len(".py")]]
    if not names:
        return None
    return ".".join(names), is_package


def display_path(path: Path | str) -> str:
    """A path as the user would type it: relative to the working directory where possible."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
