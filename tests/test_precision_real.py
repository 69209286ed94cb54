"""Precision on real projects (issue 27): dynamic imports whose possible targets are all known are
judged by those targets, not reported as "cannot be known" (SG208).

Modelled on patterns of real libraries (written here, not copied): a version check that imports
each dependency of an inline list of (name, version) pairs; probes with `importlib.util.find_spec`
over inline lists and comprehensions of third-party names; a module-level table of tuples looped
over; `importlib.resources.files(pkg)` over a literal tuple; `import_module(cls.__module__)` in a
pickling helper. Where a value may name the scope, the finding stays (at the line that writes the
name); where nothing is known (a parameter of a public function, a table the file changes), SG208
stays. Each "not reported" claim is checked against CPython: the module is imported (and the
function called) in a fresh interpreter, and the scope is not loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scopeguard.base.model import TableFact
from scopeguard.facts import scan_source
from scopeguard.facts.calls import MODULE_NAMES, MODULE_OF
from scopeguard.facts.toggle_matcher import ToggleMatcher

from .inprocess import run_main

CONFIG = """\
[tool.scopeguard]
source_roots = ["."]

[tool.scopeguard.toggles.feat]
on_when_true = ["USE_FEAT"]

[[tool.scopeguard.scopes]]
name = "pkg.feat"
toggle = "feat"
"""

FILES = {
    "pkg/__init__.py": "",
    "pkg/util.py": "",
    "pkg/feat/__init__.py": "VALUE = 1\n",
    "pkg/feat/sub.py": "",
    # an inline list of (name, version) pairs, unpacked by the loop: json and csv, never the scope
    "pkg/versions.py": """\
        import importlib


        def check_versions():
            for name, minimum in [
                ("json", "1"),
                ("csv", "2"),
            ]:
                module = importlib.import_module(name)
                assert module is not None, minimum


        check_versions()
        """,
    # the same shape with the scope among the values: reported where its name is written
    "pkg/loader.py": """\
        import importlib


        def _load_all():
            for name, _ in [("pkg.util", 1), ("pkg.feat", 2)]:
                importlib.import_module(name)


        _load_all()
        """,
    # find_spec over comprehensions and starred inline lists of third-party names (it imports only
    # the parent of a dotted name); then a probe of a name under the scope, which imports the scope
    "pkg/probes.py": """\
        import importlib.util


        def available():
            found = [dep for dep in ["json", "no_such_dep_xyz"] if importlib.util.find_spec(dep) is not None]
            for deps, env in [*[([b], {"X": b}) for b in ["csv", "zlib"]], (["pkg.nope"], {})]:
                missing = [dep for dep in deps if not importlib.util.find_spec(dep)]
            return found, missing, env


        def probe_scope():
            for name in ("json", "pkg.feat.sub"):
                importlib.util.find_spec(name)


        available()
        """,
    # a module-level table of tuples, never changed; and one a public function appends to
    "pkg/table.py": """\
        import importlib

        BACKENDS = (("json", "j"), ("csv", "c"))
        EXTRA = [("json", 1)]


        def _load():
            for name, _ in BACKENDS:
                importlib.import_module(name)


        def register(name):
            EXTRA.append((name, 0))


        def load_extra():
            for name, _ in EXTRA:
                importlib.import_module(name)


        _load()
        """,
    # importlib.resources.files imports the package it is given
    "pkg/styles.py": """\
        import importlib.resources


        def read_styles():
            for package in ("pkg", "json"):
                importlib.resources.files(package)


        def read_user(name):
            return importlib.resources.files(name)


        read_styles()
        """,
    # a pickling helper: an object's own module is already imported
    "pkg/pickling.py": """\
        import importlib


        def rebuild(obj):
            cls = type(obj)
            return importlib.import_module(cls.__module__)


        def make(base):
            class Rebuilt(base):
                def __reduce__(self):
                    cls = type(self)
                    return importlib.import_module(cls.__module__), cls.__qualname__
            return Rebuilt
        """,
}

# The first dotted part of any name: a top-level module, never pkg.feat (importing `pkg` loads the
# scope only through pkg's own imports, which are edges of the graph). Public functions.
FILES["pkg/heads.py"] = """\
    import importlib


    def top_of(path):
        parts = path.split(".")
        return importlib.import_module(parts[0])


    def load_root(name):
        return importlib.import_module(name.split(".", 1)[0])


    def root_of(name):
        return __import__(name.partition(".")[0])
    """

# What `check` reports on FILES: (code, path, line). Not reported: versions.py:9, probes.py:5 and
# :7, table.py:9, styles.py:6, pickling.py:6 and :13 (a method of a class made in a function),
# heads.py:6, :10 and :14.
EXPECTED = {
    ("SG205", "pkg/loader.py", 5),  # the "pkg.feat" entry of the inline list
    ("SG205", "pkg/probes.py", 12),  # the "pkg.feat.sub" entry: find_spec imports pkg.feat
    ("SG208", "pkg/table.py", 18),  # EXTRA is appended to by a public function
    ("SG208", "pkg/styles.py", 10),  # a parameter of a public function
}


def _write(root: Path, files: dict[str, str]) -> None:
    (root / "pyproject.toml").write_text(CONFIG)
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))


def _findings(root: Path) -> set[tuple[str, str, int]]:
    code, out, err = run_main("check", "--no-cache", "--format", "json", cwd=root)
    assert code in (0, 1), err
    return {(v["code"], v["path"], v["line"]) for v in json.loads(out)["violations"]}


def _loads_scope(root: Path, statements: str) -> bool:
    """Run `statements` in a fresh isolated interpreter with `root` on sys.path: is pkg.feat loaded?"""
    code = f"import sys\nsys.path.insert(0, {str(root)!r})\n{statements}\nprint('pkg.feat' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    return result.stdout.strip().splitlines()[-1] == "True"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("precision")
    _write(root, FILES)
    return root


def test_known_values_judge_the_dynamic_import(project):
    assert _findings(project) == EXPECTED


@pytest.mark.parametrize("statements", [
    "import pkg.versions",
    "import pkg.probes",
    "import pkg.table",
    "import pkg.styles",
    "import pkg.pickling\nclass C: pass\npkg.pickling.rebuild(C())",
    "import pkg.pickling, pkg.util\npkg.pickling.rebuild(pkg.util)",
    "import pickle, pkg.pickling\nclass B: pass\nR = pkg.pickling.make(B)\nR.__reduce__(R())",
    "import pkg.heads\nfor f in (pkg.heads.top_of, pkg.heads.load_root, pkg.heads.root_of):\n"
    "    f('pkg.feat.sub'); f('pkg.feat'); f('json.decoder')",
])
def test_not_reported_sites_do_not_load_the_scope(project, statements):
    assert not _loads_scope(project, statements)


@pytest.mark.parametrize("statements", [
    "import pkg.loader",
    "import pkg.probes\npkg.probes.probe_scope()",
    "import pkg.table\npkg.table.register('pkg.feat')\npkg.table.load_extra()",
    "import pkg.styles\npkg.styles.read_user('pkg.feat')",
])
def test_reported_sites_may_load_the_scope(project, statements):
    assert _loads_scope(project, statements)


def test_a_module_name_assigned_to_the_scope_keeps_the_pickling_helper_reported(tmp_path):
    """`Thing.__module__ = "pkg.feat"`: rebuilding a Thing imports the scope, so
    `import_module(cls.__module__)` may load it (SG208 stays); CPython agrees."""
    files = {**FILES, "pkg/alias.py": 'class Thing:\n    pass\n\n\nThing.__module__ = "pkg.feat"\n'}
    _write(tmp_path, files)
    assert _findings(tmp_path) == EXPECTED | {("SG208", "pkg/pickling.py", 6), ("SG208", "pkg/pickling.py", 13)}
    assert _loads_scope(tmp_path, "import pkg.pickling, pkg.alias\npkg.pickling.rebuild(pkg.alias.Thing())")


def test_a_top_level_name_is_reported_where_a_scope_is_a_top_level_package(tmp_path):
    """With a scope that is a whole top-level package, `import_module(name.split(".")[0])` may load
    it (SG208 stays); CPython agrees."""
    _write(tmp_path, {**FILES, "feat2/__init__.py": ""})
    (tmp_path / "pyproject.toml").write_text(CONFIG + '\n[[tool.scopeguard.scopes]]\nname = "feat2"\n')
    assert {("SG208", "pkg/heads.py", 6), ("SG208", "pkg/heads.py", 10), ("SG208", "pkg/heads.py", 14)} <= \
        _findings(tmp_path)
    code = f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nimport pkg.heads\npkg.heads.top_of('feat2.x')\n" \
           "print('feat2' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "True"


def test_a_module_name_not_known_keeps_the_pickling_helper_reported(tmp_path):
    files = {**FILES, "pkg/alias.py": "def rename(cls, name):\n    cls.__module__ = name\n"}
    _write(tmp_path, files)
    assert {("SG208", "pkg/pickling.py", 6), ("SG208", "pkg/pickling.py", 13)} <= _findings(tmp_path)


def _scan(text: str):
    return scan_source(textwrap.dedent(text).encode(), path="pkg/m.py", module="pkg.m", is_package=False,
                       matcher=ToggleMatcher([]))


def test_loop_variables_take_the_strings_of_their_iterables():
    facts = _scan("""\
        import importlib

        def f(extra):
            for name, _ in [("a", 1), ("b", 2)]:
                importlib.import_module(name)
            for x in [extra, "c"]:
                importlib.import_module(x)
            for y in ["d"]:
                pass
            y = extra
            importlib.import_module(y)
        """)
    terms = {d.line: d.term for d in facts.dynamic}
    tables = {t.name: t for t in facts.tables}
    first = tables[terms[5][0][1]]
    assert [(value, line) for _, value, line in first.entries] == [("a", 4), ("b", 4)] and first.complete
    second = tables[terms[7][0][1]]  # `extra` is a parameter: the table is incomplete
    assert [value for _, value, _ in second.entries] == ["c"] and not second.complete
    assert terms[11] == (("any", ""),)  # bound by a loop and by an assignment: unknown


def test_module_names_are_recorded_and_module_attributes_are_a_term_of_their_own():
    facts = _scan("""\
        import importlib

        class A:
            __module__ = "pkg.public"

        A.__module__ = __name__
        setattr(A, "__module__", "pkg.other")

        def load(obj):
            return importlib.import_module(type(obj).__module__)
        """)
    assert [d.term for d in facts.dynamic] == [MODULE_OF]
    table = next(t for t in facts.tables if t.name == MODULE_NAMES)
    assert table == TableFact(MODULE_NAMES, (("", "pkg.public", 4), ("", "pkg.m", 6), ("", "pkg.other", 7)), True)


def test_the_analysis_spells_the_scanner_terms_alike():
    from scopeguard.analysis import unknowns

    assert unknowns.MODULE_OF == MODULE_OF and unknowns.MODULE_NAMES == MODULE_NAMES


# Issue 27.2, second round: a name some of whose values are known (the returns of the function it is
# the result of), and a spec made from a file path that imports nothing until a loader runs it.
ROUND3 = {
    "pkg/__init__.py": "",
    "pkg/feat/__init__.py": "print('FEAT_RAN')\n",
    "pkg/backends.py": """\
        import importlib


        class Registry:
            def _module_name(self, name):
                if name.startswith("module://"):
                    return name[9:]
                return name[9:] if name.startswith("module://") else f"pkg.{name}"

            def load(self, name):
                module_name = self._module_name(name)
                return importlib.import_module(module_name)


        def _plain(name):
            return f"json.{name}"


        def load_json(name):
            return importlib.import_module(_plain(name))
        """,
    "pkg/files.py": """\
        import importlib.util


        def run_file(name, path):
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module


        def spec_of(name, path):
            return importlib.util.spec_from_file_location(name, path)
        """,
}
ROUND3_EXPECTED = {
    # one of its values is f"pkg.{name}": SG206 with that start, not "cannot be known"
    ("SG206", "pkg/backends.py", 12),
    # the loader runs the file at a path computed at run time: any module, the scope's included
    ("SG208", "pkg/files.py", 7),
    # the spec is returned: who runs it is not seen, so the site stays
    ("SG208", "pkg/files.py", 12),
}


def test_returned_values_and_file_specs_are_judged_by_what_they_load(tmp_path):
    """backends.py:20 (`json.` + a name) cannot load pkg.feat: nothing; files.py:5 builds a spec and
    imports nothing (its loader call at :7 is the finding)."""
    _write(tmp_path, ROUND3)
    assert _findings(tmp_path) == ROUND3_EXPECTED
    facts = scan_source(textwrap.dedent(ROUND3["pkg/backends.py"]).encode(), path="pkg/backends.py",
                        module="pkg.backends", is_package=False, matcher=ToggleMatcher([]))
    # (prefix, known starts): `name[9:]` is one of :12's values (prefix unknown); every value of :20
    # starts with "json." (its prefix)
    assert {u.line: (u.prefix, u.alternatives) for u in facts.unresolved} == {12: ("", ("pkg.",)),
                                                                             20: ("json.", ("json.",))}


def _feat_ran(root: Path, statements: str) -> bool:
    """Run `statements` in a fresh interpreter: did the scope's code run (its module loaded, or its
    file executed under any name)?"""
    code = f"import sys\nsys.path.insert(0, {str(root)!r})\n{statements}\nprint('pkg.feat' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    return result.stdout.strip().splitlines()[-1] == "True" or "FEAT_RAN" in result.stdout


@pytest.mark.parametrize("statements, loads", [
    ("import pkg.backends\npkg.backends.Registry().load('feat')", True),  # SG206 at :12
    ("import pkg.backends\npkg.backends.load_json('decoder')", False),  # json. + name: never the scope
    # spec_from_file_location and module_from_spec run nothing of the file, import not even `pkg`
    ("import importlib.util, os\n"
     f"p = os.path.join(sys.path[0], 'pkg', 'feat', '__init__.py')\n"
     "s = importlib.util.spec_from_file_location('pkg.feat', p)\nm = importlib.util.module_from_spec(s)\n"
     "assert 'pkg' not in sys.modules", False),
    ("import pkg.files, os\npkg.files.run_file('x', os.path.join(sys.path[0], 'pkg', 'feat', '__init__.py'))", True),
])
def test_round3_claims_agree_with_cpython(tmp_path, statements, loads):
    _write(tmp_path, ROUND3)
    assert _feat_ran(tmp_path, statements) is loads


def test_a_testing_package_is_reachable_from_outside_code_and_a_test_package_is_not(tmp_path):
    """`pkg.testing` ships helpers for other projects' tests: its functions are called from outside
    (SG208); a function of `pkg.tests` runs only when the test runner calls it (left to audit)."""
    loader = "import importlib\n\n\ndef load(name):\n    return importlib.import_module(name)\n"
    _write(tmp_path, {"pkg/__init__.py": "", "pkg/feat/__init__.py": "", "pkg/testing/__init__.py": "",
                      "pkg/testing/helpers.py": loader, "pkg/tests/__init__.py": "", "pkg/tests/helpers.py": loader})
    assert _findings(tmp_path) == {("SG208", "pkg/testing/helpers.py", 5)}
    assert _loads_scope(tmp_path, "import pkg.testing.helpers\npkg.testing.helpers.load('pkg.feat')")


PARAMETRIZED = {
    "pkg/__init__.py": "",
    "pkg/feat/__init__.py": "",
    "pkg/feat_svg.py": "",
    "pkg/feat_pdf.py": "",
    "pkg/tests/__init__.py": "",
    "pkg/tests/test_draw.py": """\
        import importlib

        import pytest


        @pytest.mark.parametrize(
            "backend", ["svg", pytest.param("pdf", marks=pytest.mark.skip)]
        )
        def test_draw(backend):
            importlib.import_module(f"pkg.feat_{backend}")


        @pytest.mark.parametrize("name, n", [("feat", 1), ("feat_svg", 2)])
        def test_pairs(name, n):
            importlib.import_module(f"pkg.{name}")


        @pytest.mark.parametrize("backend", ["svg"], indirect=True)
        def test_indirect(backend):
            importlib.import_module(f"pkg.{backend}")
        """,
}


def test_pytest_parametrize_gives_a_tests_parameter_its_values(tmp_path):
    """matplotlib's test_draw imports `backend_{backend}` for 'svg', 'ps', 'pdf', 'pgf': none is the
    scope, so no SG206; a row naming the scope is SG205 at the line that writes it; with `indirect`
    the test gets a fixture's result, unknown (SG206 stays)."""
    _write(tmp_path, PARAMETRIZED)
    assert _findings(tmp_path) == {("SG205", "pkg/tests/test_draw.py", 13),
                                   ("SG206", "pkg/tests/test_draw.py", 20)}
    # what pytest runs: each row's values passed to the test (the pytest module is not needed to see it)
    stub = ("import sys, types\nm = types.ModuleType('pytest')\nclass _Mark:\n"
            "    def __getattr__(self, n):\n        return lambda *a, **k: (lambda f: f)\n"
            "m.mark = _Mark()\nm.param = lambda *a, **k: a\nsys.modules['pytest'] = m\n"
            "import pkg.tests.test_draw as t\n")
    assert not _loads_scope(tmp_path, stub + "t.test_draw('svg')\nt.test_draw('pdf')")
    assert _loads_scope(tmp_path, stub + "t.test_pairs('feat', 1)")
