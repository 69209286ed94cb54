"""Small project trees written for one test, and `check`'s findings on them: the helper the
tree-writing tests share (each had its own copy)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from .inprocess import run_main


def write_tree(root: Path, files: dict[str, str], pyproject: str) -> Path:
    """Write `files` (dedented) under `root`, with `pyproject` as its pyproject.toml."""
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    (root / "pyproject.toml").write_text(pyproject)
    return root


def check_violations(root: Path) -> list[dict]:
    """`scopeguard check --no-cache --format json` on `root`: its violations (exit 0 or 1 only)."""
    code, out, _ = run_main("check", str(root), "--no-cache", "--format", "json")
    assert code in (0, 1)
    return json.loads(out)["violations"]
