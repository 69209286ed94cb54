"""The incremental path (issue 28, point 1): a run that reuses stored facts and reachability's stored
result gives exactly what a run without any cache gives, after any sequence of edits.

Random edit sequences (seeded) on fixture copies: add or remove an import of a scope, a guarded
import, a function that imports through a call (in the same file or another), a registry or table
entry with its lookup, a comment, a syntax error; after every edit `check --format json` with the
cache must print what `check --no-cache` prints. SCOPEGUARD_INCREMENTAL_SEQUENCES=200 runs the long
version (bench/incremental_equivalence.sh).
"""

from __future__ import annotations

import ast
import dataclasses
import os
import random
import shutil
from pathlib import Path

import pytest

from scopeguard.base.model import FileFacts
from scopeguard.cli import main
from scopeguard.collect import cache as cache_module
from scopeguard.run import pipeline as pipeline_module
from scopeguard.config import load_config

from .conftest import FIXTURES

SEQUENCES = int(os.environ.get("SCOPEGUARD_INCREMENTAL_SEQUENCES", "20"))
EDITS = int(os.environ.get("SCOPEGUARD_INCREMENTAL_EDITS", "5"))
PROJECTS = ["tvm_like", "reach_lazy", "reach_backends", "reach_wrappers", "reach_dialects"]


def _check(capsys, project: Path, *args: str) -> tuple[int, str]:
    code = main(["check", str(project), "--format", "json", "--jobs", "1", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, out


class _Editor:
    """Edits on a project copy, each a valid change of its source (except the deliberate syntax
    error), remembered so that later edits can take them out again."""

    def __init__(self, project: Path, rng: random.Random) -> None:
        self.project = project
        self.rng = rng
        config = load_config(project / "pyproject.toml")
        self.scopes = [scope.name for scope in config.scopes]
        self.spellings = [s for t in config.toggles for s in (*t.on_when_true, *t.on_when_false)] or ["FLAG"]
        roots = [project / r for r in config.source_roots]
        self.files = sorted(p for root in roots for p in root.rglob("*.py"))
        self.modules = {p: self._module(p, roots) for p in self.files}
        self.added: list[tuple[Path, str]] = []
        self.count = 0

    @staticmethod
    def _module(path: Path, roots: list[Path]) -> str:
        for root in roots:
            if root in path.parents:
                parts = list(path.relative_to(root).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts.pop()
                return ".".join(parts)
        raise AssertionError(path)

    def _points(self, text: str) -> list[int]:
        """0-based line indexes before which a top-level statement may be inserted."""
        lines = text.splitlines(keepends=True)
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return [len(lines)]
        first = 0
        points = []
        for node in tree.body:
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                first = node.end_lineno or node.lineno
                continue
            points.append(start)
        points.append(len(lines))
        return [p for p in points if p >= first] or [len(lines)]

    def _insert(self, path: Path, snippet: str) -> None:
        text = path.read_text()
        if text and not text.endswith("\n"):
            text += "\n"
        lines = text.splitlines(keepends=True)
        at = self.rng.choice(self._points(text))
        path.write_text("".join(lines[:at]) + snippet + "".join(lines[at:]))
        self.added.append((path, snippet))

    def edit(self) -> str:
        rng = self.rng
        self.count += 1
        n = self.count
        path = rng.choice(self.files)
        scope = rng.choice(self.scopes)
        flag = rng.choice(self.spellings)
        parent, _, last = scope.rpartition(".")
        kind = rng.choice(["import", "import", "guarded", "try", "in_function", "call", "cross_call", "table",
                           "registry", "comment", "comment", "remove", "remove", "remove_existing", "syntax",
                           "outside", "outside", "outside_in_function", "missing"])
        if kind == "remove" and not self.added:
            kind = "comment"
        if kind == "import":
            snippet = f"import {scope}\n" if rng.random() < 0.5 or not parent else f"from {parent} import {last}\n"
        elif kind == "guarded":
            test = flag if rng.random() < 0.5 else f"not {flag}"
            snippet = f"if {test}:\n    import {scope}\n"
        elif kind == "try":
            snippet = f"try:\n    import {scope}\nexcept ImportError:\n    {scope.split('.')[0]} = None\n"
        elif kind == "in_function":
            snippet = f"def _sg_lazy{n}():\n    import {scope}\n    return {scope}\n"
        elif kind == "call":
            snippet = (f"def _sg_load{n}(name):\n    import importlib\n    return importlib.import_module(name)\n\n\n"
                       f"_sg_load{n}({scope!r})\n")
        elif kind == "cross_call":
            helper = rng.choice(self.files)
            self._insert(helper, f"def _sg_load{n}(name):\n    import importlib\n    return importlib.import_module(name)\n")
            if helper == path:
                snippet = f"_sg_load{n}({scope!r})\n"
            else:
                snippet = f"from {self.modules[helper]} import _sg_load{n}\n_sg_load{n}({scope!r})\n"
        elif kind == "table":
            snippet = (f"_SG_TABLE{n} = {{'k{n}': {scope!r}}}\n\n\ndef _sg_get{n}(key):\n    import importlib\n"
                       f"    return importlib.import_module(_SG_TABLE{n}[key])\n\n\n_sg_get{n}('k{n}')\n")
        elif kind == "registry":
            snippet = (f"_SG_REG{n} = {{}}\n\n\ndef _sg_register{n}(key, value):\n    _SG_REG{n}[key] = value\n\n\n"
                       f"def _sg_open{n}(key):\n    import importlib\n    return importlib.import_module(_SG_REG{n}[key])\n\n\n"
                       f"_sg_register{n}('r{n}', {scope!r})\n")
        elif kind == "comment":
            snippet = f"# an edit, {n}\n"
        elif kind == "outside":  # a module outside the project: what reachability sees stays as it was
            snippet = rng.choice([f"import json as _sg_json{n}\n", "import os\n", f"import os.path as _sg_p{n}\n"])
        elif kind == "outside_in_function":
            snippet = f"def _sg_outside{n}():\n    import json\n    return json\n"
        elif kind == "missing":  # a module under the project's package that is not in the tree
            snippet = f"import {scope.split('.')[0]}._sg_missing{n}\n"
        elif kind == "syntax":
            snippet = f"def _sg_broken{n}(:\n    pass\n"
        elif kind == "remove":
            where, snippet = self.added.pop(rng.randrange(len(self.added)))
            text = where.read_text()
            if snippet in text:
                where.write_text(text.replace(snippet, "", 1))
            return f"remove from {where.name}: {snippet!r}"
        else:  # remove an import statement the file had
            text = path.read_text()
            try:
                tree = ast.parse(text)
            except SyntaxError:
                return "nothing"
            imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                       and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]
            if not imports:
                return "nothing"
            node = rng.choice(imports)
            lines = text.splitlines(keepends=True)
            del lines[node.lineno - 1 : node.end_lineno]
            path.write_text("".join(lines))
            return f"remove_existing {path.name}:{node.lineno}"
        self._insert(path, snippet)
        return f"{kind} {path.name}: {snippet!r}"


def _sequence(tmp_path: Path, capsys, seed: int, reused: list[int]) -> None:
    rng = random.Random(seed)
    name = PROJECTS[seed % len(PROJECTS)]
    project = tmp_path / f"{name}-{seed}"
    shutil.copytree(FIXTURES / name, project, ignore=shutil.ignore_patterns(".scopeguard_cache"))
    cache_dir = tmp_path / f"cache-{seed}"
    editor = _Editor(project, rng)
    history = []
    _check(capsys, project, "--cache-dir", str(cache_dir))
    for _ in range(EDITS):
        history.append(editor.edit())
        cached = _check(capsys, project, "--cache-dir", str(cache_dir))
        cold = _check(capsys, project, "--no-cache")
        assert cached == cold, f"seed {seed} ({name}), after: " + "; ".join(history)
        reused[0] += 1


def test_incremental_runs_equal_runs_without_cache_over_random_edit_sequences(tmp_path, capsys, monkeypatch):
    # runs compared, runs that took reachability's stored result, runs answered by the result
    # stored for the same facts (the files changed, their facts did not)
    reused = [0, 0, 0]
    real = cache_module.Cache.load_reach
    real_rekey = cache_module.Cache.rekey_result

    def counting(self, key):
        found = real(self, key)
        reused[1] += found is not None
        return found

    def rekeyed(self, key):
        reused[2] += 1
        return real_rekey(self, key)

    monkeypatch.setattr(cache_module.Cache, "load_reach", counting)
    monkeypatch.setattr(cache_module.Cache, "rekey_result", rekeyed)
    for seed in range(SEQUENCES):
        _sequence(tmp_path, capsys, seed, reused)
    assert reused[0] == SEQUENCES * EDITS
    print(f"{reused[0]} runs compared; reachability's stored result taken {reused[1]}x; "
          f"the result stored for the same facts taken {reused[2]}x")
    # Comments appended at the end of a file, the removal of what was never imported...: some runs
    # must have taken a stored result without their facts, or the test does not test it.
    assert reused[2] > 0


def test_reachability_reads_no_field_of_the_facts_outside_its_stored_inputs():
    """The stored reachability result is keyed by the REACH_INPUTS fields of every file: a field
    reachability (or the graph around it) read beyond them could change without the key changing."""
    fields = {f.name for f in dataclasses.fields(FileFacts)} | {"suppressing", "suppressed", "statement_at"}
    source = Path(cache_module.__file__).parents[1] / "analysis" / "reachability.py"
    read = {node.attr for node in ast.walk(ast.parse(source.read_text())) if isinstance(node, ast.Attribute)}
    # `node` is derived from path, module and extra.
    assert read & fields <= set(cache_module.REACH_INPUTS) | {"node"}
    assert set(cache_module.REACH_ONLY) <= set(cache_module.REACH_INPUTS)


def test_a_one_file_change_that_keeps_reachability_inputs_reuses_its_stored_result(tmp_path, capsys, monkeypatch):
    # Every stored record is decoded in full (the analysis of unknown dynamic imports, the project's
    # declarations and SG405 read the call facts as well), but reachability is not run again while
    # its inputs are those of the stored result.
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "reach_wrappers", project)
    cache_dir = tmp_path / "cache"
    first = _check(capsys, project, "--cache-dir", str(cache_dir))
    resolved = []
    from scopeguard.analysis import reachability

    real = reachability.resolve
    monkeypatch.setattr(reachability, "resolve", lambda files, modules: resolved.append(1) or real(files, modules))
    target = sorted((project / "src").rglob("*.py"))[0]
    # A suppression on its own line at the end: the file's facts change (its suppressions), what
    # reachability reads does not.
    target.write_text(target.read_text() + "# scopeguard: ignore[SG999]: a suppression at the end\n")
    cached = _check(capsys, project, "--cache-dir", str(cache_dir))
    assert resolved == []
    assert cached == _check(capsys, project, "--no-cache")
    # A change of what reachability reads: the stored result does not fit, it runs again.
    target.write_text("import os\n" + target.read_text())
    again = _check(capsys, project, "--cache-dir", str(cache_dir))
    assert again == _check(capsys, project, "--no-cache")
    assert resolved


def test_an_edit_that_leaves_every_fact_alone_takes_the_stored_result_without_any_analysis(
        tmp_path, capsys, monkeypatch):
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "reach_wrappers", project)
    cache_dir = tmp_path / "cache"
    first = _check(capsys, project, "--cache-dir", str(cache_dir))
    analysed, rekeyed = [], []
    real_context, real_rekey = pipeline_module.context, cache_module.Cache.rekey_result
    monkeypatch.setattr(pipeline_module, "context", lambda *a: analysed.append(1) or real_context(*a))
    monkeypatch.setattr(cache_module.Cache, "rekey_result", lambda self, key: rekeyed.append(key) or real_rekey(self, key))
    read = _completions(monkeypatch)
    target = sorted((project / "src").rglob("*.py"))[0]
    target.write_text(target.read_text() + "\n# a comment at the end\n")
    cached = _check(capsys, project, "--cache-dir", str(cache_dir))
    # No graph, no rule, no call fact decoded (stored records may be decoded in part while the
    # parse worker runs: time the run would otherwise wait).
    assert (analysed, read, len(rekeyed)) == ([], [], 1)
    assert cached == first == _check(capsys, project, "--no-cache")
    # The result is stored under the new content: the next run is answered by the first key check.
    loads = []
    real_load = cache_module.Cache.load_records
    monkeypatch.setattr(cache_module.Cache, "load_records", lambda self: loads.append(1) or real_load(self))
    assert _check(capsys, project, "--cache-dir", str(cache_dir)) == first
    assert loads == []
    # A change of the facts (an import at the end) is analysed again, and differs.
    analysed.clear()
    target.write_text(target.read_text() + "import os\n")
    cached = _check(capsys, project, "--cache-dir", str(cache_dir))
    assert analysed
    assert cached == _check(capsys, project, "--no-cache")


@pytest.mark.parametrize("damage", ["value", "key"])
def test_a_damaged_or_foreign_reachability_result_is_not_used(tmp_path, capsys, damage):
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "reach_lazy", project)
    cache_dir = tmp_path / "cache"
    expected = _check(capsys, project, "--no-cache")
    assert _check(capsys, project, "--cache-dir", str(cache_dir)) == expected
    config = load_config(project / "pyproject.toml")
    store = cache_module.Cache(cache_dir, config)
    stored = store._read("reach")
    assert stored and stored["value"]["written"], "a stored result with edges"
    if damage == "value":
        stored["value"]["written"] = [["x"]]  # not an edge
    else:
        stored["value"]["aliases"] = []  # a wrong result under a key that does not fit the tree
        stored["key"] = "0" * 64
    store._write("reach", stored)
    (cache_dir / "result").unlink()
    assert _check(capsys, project, "--cache-dir", str(cache_dir)) == expected


@pytest.mark.parametrize("bad", [[[["lit", 1]]], [[["lit"]]], [["lit", "a"]], [[["lit", "a", "b"]]], "x", [None]])
def test_the_generated_term_decoders_refuse_what_is_not_a_term(bad):
    from scopeguard.base.model import Term
    from scopeguard.collect.codec import Invalid, decoder

    decode = decoder(tuple[Term, ...])
    assert decode([[["lit", "a"], ["param", "x"]]]) == ((("lit", "a"), ("param", "x")),)
    with pytest.raises(Invalid):
        decode(bad)


# -- call facts decoded when first read (issue 28): each reader gets what a full decode gives ------

_LAZY_PROJECT = {
    "pyproject.toml": """[tool.scopeguard]
source_roots = ["src"]

[tool.scopeguard.toggles.feat]
on_when_true = ["USE_FEAT"]

[[tool.scopeguard.scopes]]
name = "app.feat"
toggle = "feat"

[[tool.scopeguard.dynamic_imports]]
path = "src/app/plugins.py"
function = "pick"
call = "importlib.import_module(mod)"
loads = ["app.feat"]
reason = "pick() is given the feature's module only"
""",
    # SG405 reads every file's functions: USE_FEAT is a function here.
    "src/app/__init__.py": "import importlib\nfrom . import helpers\n\n\ndef USE_FEAT():\n    return False\n\n\n"
                           "def load(name):\n    return importlib.import_module(name)\n\n\nhelpers.setup()\n",
    # Called at import time: the analysis of unknown dynamic imports follows calls across files.
    "src/app/helpers.py": "import importlib\n\n\ndef setup():\n    _open('x')\n\n\n"
                          "def _open(name):\n    return importlib.import_module(name)\n",
    # The declaration matches a site by its enclosing function (read from the file's functions).
    "src/app/plugins.py": "import importlib\n\n\ndef pick(mod):\n    return importlib.import_module(mod)\n",
    "src/app/feat/__init__.py": "X = 1\n",
}


def _lazy_project(tmp_path: Path) -> Path:
    project = tmp_path / "lazy"
    for name, text in _LAZY_PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    return project


def _completions(monkeypatch) -> list[tuple[str, str]]:
    """(path, field) of every call-fact field decoded on first read."""
    from scopeguard.base import model
    from scopeguard.collect import codec

    read: list[tuple[str, str]] = []

    def complete(item, name):
        read.append((object.__getattribute__(item, "path"), name))
        return codec._complete(item, name)

    monkeypatch.setattr(model, "_complete_field", complete)
    return read


def test_each_reader_of_lazily_decoded_call_facts_gets_what_a_cold_run_gets(tmp_path, capsys, monkeypatch):
    project = _lazy_project(tmp_path)
    cache_dir = tmp_path / "cache"
    cold = _check(capsys, project, "--no-cache")
    codes = {f["code"] for f in __import__("json").loads(cold[1])["violations"]}
    assert {"SG405"} <= codes, codes  # the rule that reads every file's functions has a finding
    assert _check(capsys, project, "--cache-dir", str(cache_dir)) == cold
    from scopeguard.analysis import reachability, unknowns

    resolved, sites = [], []
    real_resolve, real_sites = reachability.resolve, unknowns.import_time_functions
    monkeypatch.setattr(reachability, "resolve", lambda files, modules: resolved.append(1) or real_resolve(files, modules))
    monkeypatch.setattr(unknowns, "import_time_functions", lambda *a: sites.append(1) or real_sites(*a))
    read = _completions(monkeypatch)
    # The facts change (a suppression), what reachability and the unknowns read does not: both
    # stored results are taken, and the call facts are decoded only where a reader asks for them.
    helpers = project / "src/app/helpers.py"
    helpers.write_text(helpers.read_text() + "# scopeguard: ignore[SG999]: a suppression at the end\n")
    cached = _check(capsys, project, "--cache-dir", str(cache_dir))
    assert (resolved, sites) == ([], [])
    assert cached == _check(capsys, project, "--no-cache")
    fields = {name for _, name in read}
    assert "calls" not in fields  # read by reachability and the unknowns only: both stored
    assert ("src/app/__init__.py", "functions") in read  # SG405
    assert ("src/app/plugins.py", "dynamic") in read  # the declaration
    # A change of what the unknowns read (a call at import time): computed again, equal to cold.
    read.clear()
    helpers.write_text(helpers.read_text() + "setup()\n")
    cached = _check(capsys, project, "--cache-dir", str(cache_dir))
    assert sites and resolved
    assert cached == _check(capsys, project, "--no-cache")


def test_a_stored_call_fact_field_that_does_not_decode_when_read_is_parsed_again(tmp_path, capsys, monkeypatch):
    from scopeguard.collect.cache import _format_store
    from scopeguard.run import pipeline

    project = _lazy_project(tmp_path)
    cache_dir = tmp_path / "cache"
    cold = _check(capsys, project, "--no-cache")
    assert _check(capsys, project, "--cache-dir", str(cache_dir)) == cold
    config = load_config(project / "pyproject.toml")
    store = cache_module.Cache(cache_dir, config)
    records = store.load_records()
    damaged = 0
    for key, record in records.items():
        if record.kind == "py" and ":src/app/__init__.py:" in key:
            parts = record.reach.split(b"\t")
            parts[cache_module.REACH_ONLY.index("functions")] = b'[["not a function"]]'
            records[key] = dataclasses.replace(record, reach=b"\t".join(parts))
            damaged += 1
    assert damaged == 1
    store._write_bytes(store._facts_name, _format_store(records))  # authenticated: only the shape is wrong
    (cache_dir / "result").unlink()
    passes = []
    real = pipeline._complete
    monkeypatch.setattr(pipeline, "_complete", lambda gathered, lazy=False: passes.append(lazy) or real(gathered, lazy))
    assert _check(capsys, project, "--cache-dir", str(cache_dir)) == cold
    assert passes == [True, False]  # the lazy pass met the damage; the second decoded all, parsed it again
    (cache_dir / "result").unlink()
    passes.clear()
    assert _check(capsys, project, "--cache-dir", str(cache_dir)) == cold
    assert passes == [True]  # the entry parsed again was stored whole


def test_an_import_no_analysis_sees_reuses_reachability_and_one_it_sees_does_not(tmp_path, capsys, monkeypatch):
    """An import of a module outside the project appended to a file changes the file's
    reachability inputs but nothing reachability or the import-time analysis read of them
    (reachability.visible_sites): the stored result is taken, with the stored open dynamic imports.
    An import of a module under the project's package that is not in the tree, where the project
    installs an import hook, is seen (an unknown import the hook may serve): analysed again."""
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "reach_dialects", project)
    cache_dir = tmp_path / "cache"
    _check(capsys, project, "--cache-dir", str(cache_dir))
    from scopeguard.analysis import reachability, unknowns

    resolved, sites = [], []
    real_resolve, real_sites = reachability.resolve, unknowns.import_time_functions
    monkeypatch.setattr(reachability, "resolve", lambda files, modules: resolved.append(1) or real_resolve(files, modules))
    monkeypatch.setattr(unknowns, "import_time_functions", lambda *a: sites.append(1) or real_sites(*a))
    target = project / "src/rd/frontend.py"  # (a module with __getattr__ records the names it binds)
    for line in ("import json as _outside\n", "import os.path\n"):
        target.write_text(target.read_text() + line)
        cached = _check(capsys, project, "--cache-dir", str(cache_dir))
        assert (resolved, sites) == ([], [])
        assert cached == _check(capsys, project, "--no-cache")
        resolved.clear(), sites.clear()
    # The stored result is stored again under the new inputs: the next run takes it by its key.
    assert _check(capsys, project, "--cache-dir", str(cache_dir)) == cached
    assert (resolved, sites) == ([], [])
    # Seen: the hook may serve rd._sg_missing; the result differs from the stored one.
    target.write_text(target.read_text() + "import rd._sg_missing\n")
    cached = _check(capsys, project, "--cache-dir", str(cache_dir))
    assert resolved
    assert cached == _check(capsys, project, "--no-cache")


def test_a_view_with_every_site_is_the_records_reach_digest():
    """_StoredReach compares a changed file's view with the stored one, which is its record's reach
    digest when no site was left out: both must be made alike."""
    from scopeguard.collect.codec import encode_record
    from scopeguard.run.pipeline import _view_digest

    config = load_config(FIXTURES / "reach_dialects" / "pyproject.toml")
    files = pipeline_module.collect(config).files
    assert files
    for facts in files:
        record = encode_record(facts)
        assert _view_digest(facts, facts.sites, record) == record.reach_digest
        if facts.sites:
            assert _view_digest(facts, facts.sites[1:], record) != record.reach_digest


def test_the_resident_reachability_of_the_server_equals_a_cold_analysis_over_random_edits(tmp_path):
    """`scopeguard server` keeps reachability's last result (pipeline.ResidentReach) and reuses it
    when the files that changed are seen alike by every reader: after every random edit, the
    findings (and the graph's edges) equal those of an analysis from scratch."""
    from scopeguard.analysis import reachability

    reused = [0, 0]
    for seed in range(SEQUENCES):
        rng = random.Random(1000 + seed)
        name = PROJECTS[seed % len(PROJECTS)]
        project = tmp_path / f"{name}-{seed}"
        shutil.copytree(FIXTURES / name, project, ignore=shutil.ignore_patterns(".scopeguard_cache"))
        config = load_config(project / "pyproject.toml")
        editor = _Editor(project, rng)
        resident = pipeline_module.ResidentReach()
        kept: dict[str, FileFacts] = {}
        history = []
        for step in range(EDITS + 1):
            if step:
                history.append(editor.edit())
            facts = pipeline_module.collect(config)
            # As the server holds them: a file whose facts did not change keeps its object.
            files = tuple(kept[f.path] if kept.get(f.path) == f else f for f in facts.files)
            changed = bool(kept) and any(kept.get(f.path) is not f for f in files)
            kept = {f.path: f for f in files}
            facts = pipeline_module.Facts(files, facts.build)
            project_now = pipeline_module.context(config, facts, resident)
            found = pipeline_module.violations(project_now)
            resident.save(project_now.graph)
            reused[resident.reused] += changed  # runs with a changed file: analysed again, or reused
            cold = pipeline_module.context(config, facts, reachability.resolve)
            assert found == pipeline_module.violations(cold), f"seed {seed} ({name}): " + "; ".join(history)
            assert project_now.graph.edges == cold.graph.edges
            assert project_now.graph.files == cold.graph.files
    assert reused[1] > 0 and reused[0] > 0, reused

