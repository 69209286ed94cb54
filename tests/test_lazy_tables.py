"""Lazy modules and by-name tables (issue 26, point 4).

A package that replaces itself in `sys.modules` with an object serving names from a table
(transformers' `_LazyModule` with `_import_structure`, or `define_import_structure(__file__)`)
turns `from pkg import Name` into an import of the submodule the table maps Name to; by-name tables
of `("bert", "BertConfig")` pairs feed `import_module(f".{name}", "pkg.models")`. The fixture
`reach_lazytables` models both with its own small lazy module (`lz/_lazy.py`); every expectation
about what breaks is checked against CPython (`tests/reach/runtime.py`: the scope's folder deleted
in a copy, every module imported in a fresh interpreter).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from scopeguard.base.model import FileFacts, LazyModuleFact, NameTableFact
from scopeguard.collect.codec import decoder, encoder
from scopeguard.facts import ToggleMatcher, scan_source

from .conftest import FIXTURES
from .inprocess import run_main
from .reach.runtime import runtime_truth

FIXTURE = FIXTURES / "reach_lazytables"


def _scan(text: str, module: str = "pkg", is_package: bool = True) -> FileFacts:
    path = "src/pkg/__init__.py" if is_package else "src/pkg/mod.py"
    return scan_source(textwrap.dedent(text).encode(), path=path, module=module, is_package=is_package,
                       matcher=ToggleMatcher(()))


# --- facts ---------------------------------------------------------------------------------

def test_a_literal_table_filled_further_is_read_with_each_names_line():
    facts = _scan('''
        import sys
        from typing import TYPE_CHECKING
        from ._lazy import LazyModule
        _import_structure = {
            "engine": ["Engine"],
            "generation": [],
        }
        try:
            import numpy
        except ImportError:
            _import_structure["dummies"] = [n for n in dir(object)]
        else:
            _import_structure["generation"].extend(["Generator", "Beam"])
            _import_structure["tools"] = ["tool"]
            _import_structure["tools"] += ["gadget"]
        _import_structure.setdefault("legacy", set())
        if TYPE_CHECKING:
            from .engine import Engine
        else:
            _import_structure = {k: set(v) for k, v in _import_structure.items()}
            sys.modules[__name__] = LazyModule(__name__, globals()["__file__"], _import_structure, module_spec=__spec__)
        ''')
    assert facts.lazy == LazyModuleFact(
        22,
        (("Engine", "engine", 6), ("Beam", "generation", 14), ("Generator", "generation", 14),
         ("tool", "tools", 15), ("gadget", "tools", 16)),
        ("dummies",), (), True)


def test_a_structure_read_from_a_folder_merged_with_a_literal_one():
    facts = _scan('''
        import sys
        from pathlib import Path
        _import_structure = {"engine": ["Engine"]}
        structure = define_import_structure(Path(__file__).parent / "models", prefix="models")
        structure[frozenset()].update(_import_structure)
        sys.modules[__name__] = _LazyModule(__name__, globals()["__file__"], structure)
        ''')
    assert facts.lazy == LazyModuleFact(7, (("Engine", "engine", 4),), (), (("models", "models"),), True)
    own = _scan('''
        import sys
        _file = globals()["__file__"]
        sys.modules[__name__] = _LazyModule(__name__, _file, define_import_structure(_file), module_spec=__spec__)
        ''')
    assert own.lazy == LazyModuleFact(4, (), (), (("", ""),), True)


@pytest.mark.parametrize("text", [
    # a computed key
    '_s = {"a": ["A"]}\n_s[key()] = ["B"]\nsys.modules[__name__] = Lazy(__name__, __file__, _s)\n',
    # a structure the facts cannot read
    'sys.modules[__name__] = Lazy(__name__, __file__, build())\n',
    # a folder above the package
    'sys.modules[__name__] = Lazy(__name__, __file__, define_import_structure(Path(__file__).parent.parent))\n',
    # the table handed to a function that may change it
    '_s = {"a": ["A"]}\n_s.fill_from(other)\nsys.modules[__name__] = Lazy(__name__, __file__, _s)\n',
])
def test_a_table_computed_in_ways_not_modelled_is_incomplete(text):
    facts = _scan("import sys\n" + text)
    assert facts.lazy is not None and facts.lazy.complete is False


def test_only_a_package_that_replaces_itself_has_a_lazy_fact():
    assert _scan('_s = {"a": ["A"]}\n').lazy is None
    plain = _scan('import sys\n_s = {"a": ["A"]}\nsys.modules[__name__] = Lazy(__name__, __file__, _s)\n',
                  module="pkg.mod", is_package=False)
    assert plain.lazy == LazyModuleFact(3, complete=False)  # keys relative to a module: not modelled


def test_by_name_tables_with_the_lines_of_each_entry():
    facts = _scan('''
        from collections import OrderedDict
        CONFIGS = OrderedDict(
            [
                ("bert", "BertConfig"),
                ("gpt", "GptConfig"), ("t5", "T5Config"),
                (
                    "xlm",
                    "XlmConfig",
                ),
                ("last", "LastConfig")
            ]
        )
        MODELS = {"bert": "BertModel",
                  "gpt": "GptModel",
        }
        NOT_A_TABLE = [("a", "b"), "c"]
        TOKENIZERS = OrderedDict[str, str | None](
            [
                ("bert", "BertTokenizer" if FAST else None),
            ]
        )
        ''', module="pkg.mod", is_package=False)
    assert facts.name_tables == (
        NameTableFact("CONFIGS", (("bert", "BertConfig", 5, 5, True), ("gpt", "GptConfig", 6, 6, False),
                                  ("t5", "T5Config", 6, 6, False), ("xlm", "XlmConfig", 7, 10, True),
                                  ("last", "LastConfig", 11, 11, False))),
        NameTableFact("MODELS", (("bert", "BertModel", 14, 14, False), ("gpt", "GptModel", 15, 15, True))),
        NameTableFact("TOKENIZERS", (("bert", "", 20, 20, True),)),
    )


def test_public_top_level_defs_are_recorded_only_without_all():
    assert _scan("class A: pass\ndef b(): pass\ndef _c(): pass\nx = 1\n", "pkg.m", False).defined == ("A", "b")
    assert _scan("__all__ = ['A']\nclass A: pass\nclass B: pass\n", "pkg.m", False).defined == ()


def test_the_new_facts_round_trip_through_the_cache_codec():
    facts = FileFacts("src/pkg/__init__.py", "pkg", True,
                      lazy=LazyModuleFact(9, (("Engine", "engine", 3),), ("dummies",), (("models", "models"),), False),
                      name_tables=(NameTableFact("T", (("bert", "BertConfig", 4, 4, True),)),),
                      defined=("A", "b"))
    text = json.dumps(encoder(FileFacts)(facts))
    assert decoder(FileFacts)(json.loads(text)) == facts


# --- against CPython -----------------------------------------------------------------------

@functools.cache
def _plan(scope: str, fmt: str = "json"):
    code, out, err = run_main("delete-plan", scope, ".", "--no-cache", "--format", fmt, cwd=FIXTURE)
    assert code == 1, err
    return json.loads(out) if fmt == "json" else out


@functools.cache
def _truth(scope: str, tmp):
    return runtime_truth(FIXTURE, ["src"], scope, {}, workdir=tmp)


TRUTH = {
    # `from lz import Generator` -> lz.generation (lazy) -> lz.generation.utils -> `from ..plugins
    # import accelerate` -> lz.plugins.deep: no import statement names the scope on the way.
    "lz.plugins.deep": {
        "lz.app": ("src/lz/app.py", 2),
        "lz.engine": ("src/lz/engine.py", 2),
        "lz.generation.utils": ("src/lz/generation/utils.py", 2),
        "lz.models.bert.model_bert": ("src/lz/models/bert/model_bert.py", 2),
        "lz.pipeline": ("src/lz/pipeline.py", 2),
    },
    # `from lz import BertConfig`: the top-level table reads the models folder's files.
    "lz.models.bert": {
        "lz.app2": ("src/lz/app2.py", 2),
        "lz.pipeline": ("src/lz/pipeline.py", 2),
    },
}


@pytest.mark.parametrize("scope", sorted(TRUTH))
def test_the_plan_predicts_exactly_what_python_breaks(scope, tmp_path_factory):
    truth = _truth(scope, tmp_path_factory.getbasetemp())
    assert not truth.failing_anyway
    assert set(truth.broken) == set(TRUTH[scope])
    plan = _plan(scope)
    assert {b["module"]: (b["path"], b["line"]) for b in plan["broken"]} == TRUTH[scope]
    assert plan["import_time"] == "not clean"


def test_deleting_a_package_named_in_by_name_tables_lists_the_entries_as_edits():
    plan = _plan("lz.models.bert")
    assert [(e["path"], e["line"], e["table"], e["key"], e["value"], e["removable"]) for e in plan["table_entries"]] == [
        ("src/lz/models/auto.py", 7, "CONFIG_NAMES", "bert", "BertConfig", True),
        ("src/lz/models/auto.py", 12, "MODEL_NAMES", "bert", "BertModel", True),
    ]
    edits = {(r["path"], r["line"]) for r in plan["references"]}
    assert {("src/lz/models/auto.py", 7), ("src/lz/models/auto.py", 12)} <= edits
    assert plan["call_time"] == "not clean"
    text = _section(_plan("lz.models.bert", "text"), "Edits needed elsewhere")
    assert any(line.startswith("  src/lz/models/auto.py:7: CONFIG_NAMES: ('bert', 'BertConfig') -- by-name table entry")
               for line in text)
    # Nothing of the plugins scope's deletion is named by a short name in a table that feeds an import.
    assert _plan("lz.plugins.deep")["table_entries"] == []


def _section(text, title):
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start + 1:end]


ALL_CONFIGS = "import sys; sys.path.insert(0, 'src'); import lz.models.auto as a; print([c.__name__ for c in a.all_configs()])"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_patch_removes_the_entries_and_the_tables_work_again(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns("__pycache__"))
    code, _, err = run_main("delete-plan", "lz.models.bert", ".", "--no-cache", "--apply", "-o", "bert.patch",
                            cwd=project)
    assert code == 1, err
    patch = (project / "bert.patch").read_text()
    assert '-        ("bert", "BertConfig"),\n' in patch and '-    "bert": "BertModel",\n' in patch
    assert "auto.py:7" not in patch.split("diff --git")[0]  # removed, so not in the header's list

    def all_configs():
        return subprocess.run([sys.executable, "-I", "-B", "-c", ALL_CONFIGS], cwd=project, capture_output=True, text=True)

    assert all_configs().stdout.strip() == "['BertConfig', 'GptConfig']"
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "apply", "bert.patch"], cwd=project, check=True)
    assert not (project / "src/lz/models/bert").exists()
    assert all_configs().stdout.strip() == "['GptConfig']"
    # the folder alone deleted, the tables left: CPython fails when the table is read
    shutil.copytree(FIXTURE / "src", tmp_path / "unpatched/src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(tmp_path / "unpatched/src/lz/models/bert")
    broken = subprocess.run([sys.executable, "-I", "-B", "-c", ALL_CONFIGS], cwd=tmp_path / "unpatched",
                            capture_output=True, text=True)
    assert "ModuleNotFoundError: No module named 'lz.models.bert'" in broken.stderr


def test_a_name_a_table_not_known_in_full_does_not_list_is_unknown_never_nothing(tmp_path_factory):
    # lz.extras' table has a computed key: `from lz.extras import gadget` (lz/gadgets.py, run at
    # import time) may be served by any module under lz.extras.
    truth = runtime_truth(FIXTURE, ["src"], "lz.extras.tools", {}, workdir=tmp_path_factory.getbasetemp())
    assert set(truth.broken) == {"lz.gadgets"}
    code, out, err = run_main("delete-plan", "lz.extras.tools", ".", "--no-cache", "--format", "json", cwd=FIXTURE)
    plan = json.loads(out)
    assert plan["import_time"] != "clean"
    assert ("src/lz/gadgets.py", 2) in {(r["path"], r["line"]) for r in plan["references"]}
