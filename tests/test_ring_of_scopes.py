"""Scopes that import each other in a ring (each its next, unguarded, undeclared): deleting any
one breaks all the others. That is n decisions — n undeclared imports, each SG101 — and each
decision's breakage (the n-2 modules that fail through it once the scope it imports is deleted)
is reported under it as notes: n findings, not n + n*(n-2). Every breakage stays visible: all
notes in JSON, three in the text report and a count with a `delete-plan` pointer for the rest."""

from __future__ import annotations

import json
from pathlib import Path

from .inprocess import run_main


def ring(tmp_path: Path, n: int) -> Path:
    root = tmp_path / "ring"
    config = '[tool.scopeguard]\nsource_roots = ["src"]\n\n[tool.scopeguard.toggles.t]\non_when_true = ["USE_T"]\n'
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "__init__.py").write_text("")
    for i in range(n):
        (root / "src" / "pkg" / f"s{i}").mkdir()
        (root / "src" / "pkg" / f"s{i}" / "__init__.py").write_text(f"from pkg import s{(i + 1) % n}\n")
        config += f'\n[[tool.scopeguard.scopes]]\nname = "pkg.s{i}"\ntoggle = "t"\n'
    (root / "pyproject.toml").write_text(config)
    return root


def path(i: int) -> str:
    return f"src/pkg/s{i}/__init__.py"


def test_a_ring_of_scopes_is_one_finding_per_import_with_its_breakage_as_notes(tmp_path):
    n = 6
    root = ring(tmp_path, n)
    code, out, _ = run_main("check", ".", "--no-cache", "--format", "json", cwd=root)
    assert code == 1
    found = json.loads(out)["violations"]
    assert [(v["code"], v["path"], v["line"], v["imported"]) for v in found] == [
        ("SG101", path(i), 1, f"pkg.s{(i + 1) % n}") for i in range(n)]
    # s(i) imports s(i+1): once s(i+1) is deleted, every other scope fails through that import.
    for i, v in enumerate(found):
        deleted = (i + 1) % n
        broken = sorted(path(j) for j in range(n) if j not in (i, deleted))
        assert [(r["code"], r["path"], r["line"]) for r in v["related"]] == [("SG301", p, 1) for p in broken]
        assert all(r["chain"][-2:] == [f"pkg.s{i}", f"pkg.s{deleted}"] for r in v["related"])
    assert sum(len(v["related"]) for v in found) == n * (n - 2)  # every breakage, once
    # The text report: three notes per finding, the rest counted with where to see them.
    code, out, _ = run_main("check", ".", "--no-cache", cwd=root)
    lines = out.splitlines()
    assert code == 1 and len(lines) == n * 5 + 1
    assert lines[4] == "  = note: 1 more consequence(s) in 1 more module(s); `scopeguard delete-plan pkg.s1` lists them"
    assert lines[-1].startswith(f"Found {n} violation(s) in {n} file(s) (SG101 x{n});")
    code, out, _ = run_main("delete-plan", "--no-cache", "pkg.s1", cwd=root)
    assert f"Broken at import time: {n - 1} module(s)" in out
    assert all(f"{path(j)}:1: pkg.s{j} -> " in out for j in range(n) if j != 1)


def test_without_sg101_the_breakage_stands_as_sg301_findings(tmp_path):
    # A consequence whose root's rule is not selected is a finding of its own (and then selected).
    n = 4
    root = ring(tmp_path, n)
    code, out, _ = run_main("check", ".", "--no-cache", "--format", "json", "--ignore", "SG101", cwd=root)
    found = json.loads(out)["violations"]
    assert code == 1 and [v["code"] for v in found] == ["SG301"] * (n * (n - 2))
    assert all(v["related"] == [] for v in found)
