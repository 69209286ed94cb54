"""Issue 25, class 7: work the analysed tree can make super-linear. Each attack project is built
here and checked in a child process under a time bound well below what the old code took (the
quadratic registry: ~100 s for 8,000 registrations; the chain of 1,500 modules: ~60 s and 2 GB)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

from scopeguard.base.digraph import CHAIN_SHOWN, Chains, chain, elided

CONFIG = ('[tool.scopeguard]\nsource_roots = ["src"]\n\n[tool.scopeguard.toggles.feat]\non_when_true = ["USE_FEAT"]\n\n'
          '[[tool.scopeguard.scopes]]\nname = "pkg.feat"\ntoggle = "feat"\n')


def _check(root: Path, timeout: float) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, "-m", "scopeguard", "check", "--format", "json", "--no-cache"],
                          cwd=root, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 1, done.stderr
    return done.returncode, json.loads(done.stdout)


def _registry_project(root: Path, count: int) -> None:
    (root / "src/pkg/feat").mkdir(parents=True)
    (root / "pyproject.toml").write_text(CONFIG)
    (root / "src/pkg/__init__.py").write_text("")
    (root / "src/pkg/feat/__init__.py").write_text("")
    (root / "src/pkg/feat/d1.py").write_text("X = 1\n")
    (root / "src/pkg/reg.py").write_text(
        "import importlib\n\n_REG = {}\n\n\ndef register(name, module):\n    _REG[name] = module\n\n\n"
        "def __getattr__(name):\n    return importlib.import_module(_REG[name])\n")
    (root / "src/pkg/table.py").write_text(
        "from pkg.reg import register\n\n" + "".join(f'register("d{i}", "pkg.feat.d{i}")\n' for i in range(count)))
    (root / "src/pkg/user.py").write_text("import pkg.table\nfrom pkg.reg import d1\n")


def _codes(doc: dict) -> set[tuple[str, str, int]]:
    return {(v["code"], v["path"], v["line"]) for v in doc["violations"]}


def test_many_registrations_in_one_module_check_in_linear_time(tmp_path):
    _registry_project(tmp_path, 8000)
    _, doc = _check(tmp_path, timeout=30)
    assert ("SG201", "src/pkg/user.py", 2) in _codes(doc)  # from pkg.reg import d1 -> pkg.feat.d1
    assert ("SG208", "src/pkg/reg.py", 11) in _codes(doc)  # too many values: the lookup stays unknown


def test_each_registration_is_still_a_finding(tmp_path):
    _registry_project(tmp_path, 100)
    _, doc = _check(tmp_path, timeout=60)
    lines = {line for code, path, line in _codes(doc) if code == "SG205" and path == "src/pkg/table.py"}
    assert lines == set(range(3, 103))


def test_a_long_chain_of_imports_gives_linear_output(tmp_path):
    count = 1500
    (tmp_path / "src/pkg/feat").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "src/pkg/__init__.py").write_text("")
    (tmp_path / "src/pkg/feat/__init__.py").write_text("")
    for i in range(count):
        (tmp_path / f"src/pkg/m{i}.py").write_text(f"import pkg.m{i + 1}\n" if i + 1 < count else "import pkg.feat\n")
    _, doc = _check(tmp_path, timeout=40)
    (root,) = doc["violations"]  # the unguarded import; every breakage is a note of it
    assert (root["code"], root["path"], root["line"]) == ("SG201", f"src/pkg/m{count - 1}.py", 1)
    broken = {note["chain"][0]: note for note in root["related"] if note["code"] == "SG301"}
    assert set(broken) == {f"pkg.m{i}" for i in range(count - 1)}  # every module still reported
    first = broken["pkg.m0"]
    head = [f"pkg.m{i}" for i in range(CHAIN_SHOWN // 2)]
    tail = [*(f"pkg.m{i}" for i in range(count - 14, count)), "pkg.feat"]
    assert first["chain"] == [*head, elided(count + 1 - len(head) - len(tail)), *tail]
    assert first["path"] == "src/pkg/m0.py" and first["line"] == 1
    assert f"-> {elided(count + 1 - 31)} ->" in first["message"]
    assert all(len(note["chain"]) <= CHAIN_SHOWN and len(note["steps"]) < CHAIN_SHOWN for note in root["related"])
    assert broken[f"pkg.m{count - 20}"]["chain"] == [*(f"pkg.m{i}" for i in range(count - 20, count)), "pkg.feat"]


def test_scopes_importing_each_other_in_a_ring(tmp_path):
    count = 40
    config = '[tool.scopeguard]\nsource_roots = ["src"]\n\n'
    (tmp_path / "src/ring").mkdir(parents=True)
    (tmp_path / "src/ring/__init__.py").write_text("")
    for i in range(count):
        config += f'[tool.scopeguard.toggles.t{i}]\non_when_true = ["USE_T{i}"]\n\n'
        (tmp_path / f"src/ring/s{i}").mkdir()
        (tmp_path / f"src/ring/s{i}/__init__.py").write_text(f"import ring.s{(i + 1) % count}\n")
    for i in range(count):
        config += f'[[tool.scopeguard.scopes]]\nname = "ring.s{i}"\ntoggle = "t{i}"\n\n'
    (tmp_path / "pyproject.toml").write_text(config)
    _, doc = _check(tmp_path, timeout=40)
    # One finding per undeclared import (SG101); each breakage, one per (module, scope), is a note
    # of the import that enters the deleted scope (rules/consequences.py).
    assert doc["summary"]["by_code"] == {"SG101": count}
    notes = [note for v in doc["violations"] for note in v["related"]]
    assert len(notes) == count * (count - 2) and {note["code"] for note in notes} == {"SG301"}
    assert all(len(note["chain"]) <= CHAIN_SHOWN for note in notes)
    root = next(v for v in doc["violations"] if v["importer"] == f"ring.s{count - 2}")
    far = next(note for note in root["related"] if note["chain"][0] == "ring.s0")
    assert far["chain"][:16] == [f"ring.s{i}" for i in range(16)]
    assert far["chain"][16] == elided(count - 31) and far["chain"][-1] == f"ring.s{count - 1}"


def test_chains_keep_their_ends_and_match_the_full_chain_when_short():
    for n in (0, 1, 30, 31, 32, 33, 200):
        nearest = {f"m{i}": (f"m{i + 1}", None) for i in range(n)}
        nodes = [f"m{i}" for i in range(n + 1)]
        random.Random(n).shuffle(nodes)
        chains = Chains(nearest)
        for node in nodes:
            full = chain(node, nearest)
            got = chains(node)
            if len(full) <= CHAIN_SHOWN:
                assert got == full
            else:
                assert got == (*full[:16], elided(len(full) - 31), *full[-15:])
