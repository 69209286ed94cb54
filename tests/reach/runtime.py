"""The runtime ground truth of a deletion, independent of scopeguard (it imports nothing of it).

`runtime_truth` copies a fixture's source roots to a temporary folder, imports every module there
(each in a fresh, isolated interpreter: `-I -S -B`, the copy alone on `sys.path`, an environment
holding only what the caller gives), deletes the scope's folder and imports them all again. A
module is *broken by the deletion* when it imported before and fails after; the first line of its
error is kept (`ImportError: Cannot load backend 'npu': ...`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CHILD = r"""
import importlib, os, sys
sys.path[:0] = sys.argv[2].split(os.pathsep)
try:
    importlib.import_module(sys.argv[1])
except BaseException as error:
    text = ("%s: %s" % (type(error).__name__, error)).splitlines()[0]
    sys.stdout.write(text[:300])
"""


@dataclass(frozen=True)
class Truth:
    before: dict[str, str]  # module -> error ("" when it imports), in the untouched copy
    after: dict[str, str]  # the same once the scope's folder is deleted

    @property
    def broken(self) -> dict[str, str]:
        """Modules that import before the deletion and fail after it: module -> error."""
        return {m: e for m, e in self.after.items() if e and not self.before.get(m)}

    @property
    def failing_anyway(self) -> dict[str, str]:
        return {m: e for m, e in self.before.items() if e}


def modules_of(root: Path, source_roots: list[str]) -> list[str]:
    """Every module below the source roots (packages by their __init__.py), sorted."""
    found = set()
    for source in source_roots:
        base = root / source
        for path in base.rglob("*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if parts and all(p.isidentifier() for p in parts):
                found.add(".".join(parts))
    return sorted(found)


def import_each(roots: list[Path], modules: list[str], env: dict[str, str], jobs: int = 4) -> dict[str, str]:
    """Import each module in a fresh interpreter; module -> first line of its error, "" on success."""
    child_env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", **env}
    path_arg = os.pathsep.join(str(r) for r in roots)

    def one(module: str) -> tuple[str, str]:
        done = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", CHILD, module, path_arg],
                              capture_output=True, text=True, env=child_env, cwd=roots[0], timeout=60)
        if done.returncode != 0:  # a crash, not an exception
            return module, f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"
        return module, done.stdout.strip()

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(pool.map(one, modules))


_UNTOUCHED: dict[tuple, dict[str, str]] = {}  # (fixture, roots, env) -> every module's outcome


def untouched(fixture: Path, source_roots: list[str], env: dict[str, str],
              workdir: Path | None = None) -> dict[str, str]:
    """Every module of the untouched fixture, imported in a copy (once per fixture and environment)."""
    key = (str(fixture), tuple(source_roots), tuple(sorted(env.items())))
    if key not in _UNTOUCHED:
        temp = _copy(fixture, source_roots, workdir)
        try:
            _UNTOUCHED[key] = import_each([temp / s for s in source_roots], modules_of(temp, source_roots), env)
        finally:
            shutil.rmtree(temp, ignore_errors=True)
    return _UNTOUCHED[key]


def _copy(fixture: Path, source_roots: list[str], workdir: Path | None) -> Path:
    temp = Path(tempfile.mkdtemp(prefix="reach-truth-", dir=workdir))
    for source in source_roots:
        shutil.copytree(fixture / source, temp / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return temp


def runtime_truth(fixture: Path, source_roots: list[str], scope: str, env: dict[str, str],
                  workdir: Path | None = None) -> Truth:
    """Delete `scope`'s folder in a copy of `fixture` and import every remaining module, before and
    after, in the environment `env` (nothing else of the caller's environment leaks in)."""
    everything = untouched(fixture, source_roots, env, workdir)
    temp = _copy(fixture, source_roots, workdir)
    try:
        roots = [temp / s for s in source_roots]
        relative = Path(*scope.split("."))
        remaining = [m for m in everything if m != scope and not m.startswith(scope + ".")]
        before = {m: everything[m] for m in remaining}
        for root in roots:
            if (root / relative).is_dir():
                shutil.rmtree(root / relative)
            elif (root / relative).with_suffix(".py").is_file():
                (root / relative).with_suffix(".py").unlink()
        after = import_each(roots, remaining, env)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return Truth(before, after)
