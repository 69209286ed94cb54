"""The forty cases of ../shared/GUARDS.md, each a test: when the import runs, which guard protects
it, and whether the importer survives deleting the scope.

Each case is one file `tvm/ir/x.py` (case 34: `tvm/contrib/__init__.py`) importing scope
`tvm.contrib.msc` (toggle `msc`: USE_MSC / TVM_USE_MSC, decorator `requires_msc`) in a project that
also has scope `tvm.relax` (toggle `relax`: on when `_RUNTIME_ONLY` / `TVM_USE_RUNTIME_LIB` is false).
The file is scanned by the real scanner and resolved by the real graph.
"""

from __future__ import annotations

import textwrap

import pytest

from scopeguard.analysis.graph import ImportGraph
from scopeguard.base.model import Execution, FileFacts, Scope, Toggle
from scopeguard.analysis import Verdict, classify, simulate_deletion, survives_deletion
from scopeguard.facts import ToggleMatcher, scan_source

M = "from tvm.contrib import msc"
MSC = Scope("tvm.contrib.msc", toggle="msc")
RELAX = Scope("tvm.relax", toggle="relax")
TOGGLES = (
    Toggle("msc", on_when_true=("USE_MSC", "TVM_USE_MSC"), decorators=("tvm.testing.requires_msc",)),
    Toggle("relax", on_when_false=("_RUNTIME_ONLY", "TVM_USE_RUNTIME_LIB")),
)
STUB_MODULES = {
    "tvm": True,
    "tvm.ir": True,
    "tvm.contrib": True,
    "tvm.contrib.msc": True,
    "tvm.contrib.msc.core": False,
    "tvm.relax": True,
    "tvm.runtime": True,
}

# (number, code, when, guard, survives) exactly as GUARDS.md states them.
# when: "import" | "call" | "-" (never runs); guard: toggle | optional | type | none | wrong-toggle |
# not-import | unresolved; survives: "yes" | "no" | "call breaks" | "unknown".
CASES = [
    (1, f"{M}\n", "import", "none", "no"),
    (2, f"def f():\n    {M}\n", "call", "none", "call breaks"),
    (3, f"if USE_MSC:\n    {M}\n", "import", "toggle", "yes"),
    (4, f"if not USE_MSC:\n    {M}\n", "import", "none", "no"),
    (5, f"if not USE_MSC:\n    pass\nelse:\n    {M}\n", "import", "toggle", "yes"),
    (6, f"if USE_MSC:\n    pass\nelse:\n    {M}\n", "import", "none", "no"),
    (7, f"if USE_MSC and HAS_GPU:\n    {M}\n", "import", "toggle", "yes"),
    (8, f"if USE_MSC or FORCE:\n    {M}\n", "import", "none", "no"),
    (9, f"if X:\n    pass\nelif USE_MSC:\n    {M}\n", "import", "toggle", "yes"),
    (10, f'if libinfo().get("USE_MSC", "OFF") == "ON":\n    {M}\n', "import", "toggle", "yes"),
    (11, f'if libinfo().get("USE_MSC", "OFF") == "OFF":\n    {M}\n', "import", "none", "no"),
    # GUARDS.md says "toggle"; Python says otherwise: with TVM_USE_MSC=OFF (or false, no) the toggle
    # is off and the import runs. Soundness wins: unguarded under the default OFF values. With
    # `off_values = ["0"]` (the variable is only ever unset or "0" while off) it is a guard again:
    # test_case_12_is_a_guard_when_0_is_the_only_off_value.
    (12, f'if os.environ.get("TVM_USE_MSC", "0") != "0":\n    {M}\n', "import", "none", "no"),
    (13, f"def f():\n    if not USE_MSC:\n        return None\n    {M}\n", "call", "toggle", "yes"),
    (14, f'def f():\n    if not USE_MSC:\n        raise RuntimeError("msc is off")\n    {M}\n', "call", "toggle", "yes"),
    (15, f'def f():\n    if not USE_MSC:\n        log("off")\n    {M}\n', "call", "none", "call breaks"),
    (16, f"if USE_MSC:\n    def f():\n        {M}\n", "call", "toggle", "yes"),
    (17, f"@requires_msc\ndef f():\n    {M}\n", "call", "toggle", "yes"),
    (18, f"try:\n    {M}\nexcept ImportError:\n    msc = None\n", "import", "optional", "yes"),
    (19, f'try:\n    {M}\nexcept ImportError as e:\n    raise RuntimeError("need msc") from e\n', "import", "none", "no"),
    (20, f"try:\n    {M}\nexcept (ImportError, OSError):\n    pass\n", "import", "optional", "yes"),
    (21, f"try:\n    pass\nexcept ImportError:\n    pass\nelse:\n    {M}\n", "import", "none", "no"),
    (22, f"try:\n    {M}\nexcept ValueError:\n    pass\n", "import", "none", "no"),
    (23, f"with contextlib.suppress(ImportError):\n    {M}\n", "import", "optional", "yes"),
    (24, f"if TYPE_CHECKING:\n    {M}\n", "-", "type", "yes"),
    (25, f"if typing.TYPE_CHECKING:\n    pass\nelse:\n    {M}\n", "import", "none", "no"),
    (26, f"if not TYPE_CHECKING:\n    {M}\n", "import", "none", "no"),
    (27, f"if sys.version_info >= (3, 9):\n    {M}\n", "import", "none", "no"),
    (28, f"class C:\n    {M}\n", "import", "none", "no"),
    (29, f"class C:\n    def m(self):\n        {M}\n", "call", "none", "call breaks"),
    (30, "if not _RUNTIME_ONLY:\n    from tvm import relax\n", "import", "toggle", "yes"),
    (31, f"if not _RUNTIME_ONLY:\n    {M}\n", "import", "wrong-toggle", "no"),
    (32, "import tvm.contrib.msc.core as core\n", "import", "none", "no"),
    (33, "from ..contrib import msc\n", "import", "none", "no"),
    (34, "from . import msc\n", "import", "none", "no"),
    (35, "import tvm.contrib\n", "import", "not-import", "yes"),
    (36, "from tvm.contrib import *\n", "import", "not-import", "yes"),
    (37, 'import importlib\nimportlib.import_module("tvm.contrib.msc")\n', "import", "none", "no"),
    (38, 'import importlib\nimportlib.import_module(f"tvm.contrib.{name}")\n', "import", "unresolved", "unknown"),
    (39, "runtime.Module.import_module(path)\n", "-", "not-import", "yes"),
    (40, f"if USE_MSC:\n    pass\n{M}\n", "import", "none", "no"),
]

_WHEN = {Execution.IMPORT: "import", Execution.CALL: "call", Execution.NEVER: "-"}
_GUARD = {
    Verdict.TOGGLE: "toggle",
    Verdict.OPTIONAL: "optional",
    Verdict.TYPE: "type",
    Verdict.NONE: "none",
    Verdict.WRONG_TOGGLE: "wrong-toggle",
}


def analyse_case(number: int, code: str, contrib_all: tuple[str, ...] | None = None):
    """Scan one case and return (edges into the scope, unresolved imports, the case's scope)."""
    return analyse_case_graph(number, code, contrib_all)[:3]


def analyse_case_graph(number: int, code: str, contrib_all: tuple[str, ...] | None = None, toggles=TOGGLES):
    """Scan one case: (edges into the scope, unresolved imports, the case's scope, the import graph)."""
    if number == 34:
        path, module, is_package = "python/tvm/contrib/__init__.py", "tvm.contrib", True
    else:
        path, module, is_package = "python/tvm/ir/x.py", "tvm.ir.x", False
    facts = scan_source(
        code.encode(), path=path, module=module, is_package=is_package, matcher=ToggleMatcher(toggles)
    )
    assert facts.error is None, facts.error
    stubs = [
        FileFacts(
            path="python/" + name.replace(".", "/") + ("/__init__.py" if pkg else ".py"),
            module=name,
            is_package=pkg,
            dunder_all=contrib_all if name == "tvm.contrib" else None,
        )
        for name, pkg in STUB_MODULES.items()
        if name != module
    ]
    graph = ImportGraph([facts, *stubs])
    scope = RELAX if number == 30 else MSC
    edges = [e for e in graph.import_edges() if e.importer == module and scope.contains(e.imported)]
    return edges, facts.unresolved, scope, graph


@pytest.mark.parametrize("number, code, when, guard, survives", CASES, ids=[f"case{c[0]}" for c in CASES])
def test_guards_md_case(number, code, when, guard, survives):
    edges, unresolved, scope, graph = analyse_case_graph(number, code)
    if guard == "not-import":
        assert edges == [] and unresolved == ()
        return
    if guard == "unresolved":
        assert edges == []
        assert [(u.line, u.prefix, u.reason) for u in unresolved] == [(2, "tvm.contrib.", "target is not a literal")]
        return
    assert len(edges) == 1, edges
    site = edges[0].site
    assert _WHEN[site.execution] == when
    verdict = classify(site, scope)
    assert _GUARD[verdict] == guard
    # What production decides: the site as the deletion simulation judges it, and the simulation
    # itself (with the scope's toggle off): the importer fails at import time, only a call breaks,
    # or nothing breaks.
    assert survives_deletion(site, scope, (scope.toggle,)) is (survives == "yes")
    plan = simulate_deletion(graph, scope)
    importer = edges[0].importer
    outcome = (
        "no" if importer in {b.module for b in plan.broken}
        else "call breaks" if importer in {lazy.importer for lazy in plan.lazy}
        else "yes"
    )
    assert outcome == survives


def test_case_36_star_import_does_load_the_scope_when_all_names_it():
    edges, _, _ = analyse_case(36, "from tvm.contrib import *\n", contrib_all=("msc",))
    assert [e.imported for e in edges] == ["tvm.contrib.msc"]


def test_case_32_records_the_full_dotted_target_and_its_column():
    edges, _, _ = analyse_case(32, "import os\nimport tvm.contrib.msc.core as core\n")
    assert [(e.imported, e.site.line, e.site.column) for e in edges] == [("tvm.contrib.msc.core", 2, 8)]


@pytest.mark.parametrize(
    "test",
    [
        'libinfo()["USE_MSC"] == "ON"',
        'os.environ.get("TVM_USE_MSC", "OFF").lower() in ("on", "1", "true")',
        'os.getenv("TVM_USE_MSC", "").lower() in ("1", "on")',
        "config.USE_MSC is True",
        'os.environ.get("TVM_USE_MSC", "0") == "1"',
        "USE_MSC and not _RUNTIME_ONLY",
        "(USE_MSC or USE_MSC) and X",
        "USE_MSC and not USE_MSC",  # contradictory: never runs, so not while the toggle is off
        'typing.TYPE_CHECKING or USE_MSC',  # TYPE_CHECKING is False at run time
        "bool(USE_MSC)",
        "USE_MSC in (True, 1)",
    ],
)
def test_other_spellings_of_the_msc_toggle_guard_the_body(test):
    edges, _, scope = analyse_case(0, f"if {test}:\n    {M}\n")
    assert classify(edges[0].site, scope) is Verdict.TOGGLE


@pytest.mark.parametrize(
    "test",
    [
        'os.environ.get("TVM_USE_MSC", "OFF") in ("ON", "OFF")',  # either value: proves nothing
        "USE_MSC == HAS_GPU",
        "USE_MSC < 3 < 4",
        # Truthiness of a string read from the environment or build info: "0" and "OFF" are true.
        'os.getenv("TVM_USE_MSC")',
        'libinfo().get("USE_MSC", "OFF")',
        'os.environ.get("TVM_USE_MSC", "0") != "0"',  # "OFF", "false", "no" differ from "0"
        'not os.environ.get("TVM_USE_MSC") == "0"',  # unset: None differs from "0"
        'libinfo().get("USE_MSC", "OFF") != "OFF"',  # "0" and "" differ from "OFF"
        "USE_MSC is not None",  # False is not None
        'USE_MSC != "OFF"',  # False differs from "OFF"
        'os.environ.get("TVM_USE_MSC") not in ("0", "OFF")',  # unset
        "str(USE_MSC)",  # "False"
        'build_flag_enabled("USE_MSC")',  # an unknown function of the key: unknown result
    ],
)
def test_tests_that_prove_nothing_leave_the_import_unguarded(test):
    edges, _, scope = analyse_case(0, f"if {test}:\n    {M}\n")
    assert classify(edges[0].site, scope) is Verdict.NONE


def test_case_12_is_a_guard_when_0_is_the_only_off_value():
    toggles = (Toggle("msc", on_when_true=("USE_MSC", "TVM_USE_MSC"), off_values=("0",)), TOGGLES[1])
    edges, _, scope, _ = analyse_case_graph(12, CASES[11][1], toggles=toggles)
    assert classify(edges[0].site, scope) is Verdict.TOGGLE


@pytest.mark.parametrize(
    "code, verdict",
    [
        # Bound to something else than the toggle: not a guard.
        (f"def f(USE_MSC=True):\n    if USE_MSC:\n        {M}\n", Verdict.NONE),
        (f"from tvm.support import USE_MSC\nUSE_MSC = 1\nif USE_MSC:\n    {M}\n", Verdict.NONE),
        (f"for USE_MSC in (1,):\n    if USE_MSC:\n        {M}\n", Verdict.NONE),
        (f"from tvm.other import ON as USE_MSC\nif USE_MSC:\n    {M}\n", Verdict.NONE),
        (f"class K:\n    USE_MSC = 1\nif K.USE_MSC:\n    {M}\n", Verdict.NONE),
        (f'flags = {{"USE_MSC": 1}}\nif flags["USE_MSC"]:\n    {M}\n', Verdict.NONE),
        (f"TYPE_CHECKING = 1\nif TYPE_CHECKING:\n    {M}\n", Verdict.NONE),
        (f"from tvm.support import USE_MSC\nOFF = not USE_MSC\nif OFF:\n    {M}\n", Verdict.NONE),
        # The toggle under another name: a guard.
        (f"from tvm.support import USE_MSC as ON\nif ON:\n    {M}\n", Verdict.TOGGLE),
        (f'from tvm import support\nif getattr(support, "USE_MSC", False):\n    {M}\n', Verdict.TOGGLE),
        (f"from tvm.support import USE_MSC\nON = USE_MSC\nif ON:\n    {M}\n", Verdict.TOGGLE),
        (f"from tvm.support import USE_MSC\nif (on := USE_MSC):\n    {M}\n", Verdict.TOGGLE),
        (f"from typing import TYPE_CHECKING as TC\nif TC:\n    {M}\n", Verdict.TYPE),
        (f"import typing as t\nif t.TYPE_CHECKING:\n    {M}\n", Verdict.TYPE),
    ],
)
def test_names_are_the_toggle_where_they_are_bound_to_it(code, verdict):
    edges, _, scope = analyse_case(0, code)
    assert classify(edges[0].site, scope) is verdict


def test_runtime_lib_environment_variable_has_the_negative_polarity():
    code = 'if os.environ.get("TVM_USE_RUNTIME_LIB") == "OFF":\n    from tvm import relax\n'
    edges, _, _ = analyse_case(30, code)
    assert classify(edges[0].site, RELAX) is Verdict.TOGGLE
    code = 'if os.environ.get("TVM_USE_RUNTIME_LIB"):\n    from tvm import relax\n'
    edges, _, _ = analyse_case(30, code)
    assert classify(edges[0].site, RELAX) is Verdict.NONE


def test_main_block_runs_only_as_a_script():
    edges, _, scope = analyse_case(0, f'if __name__ == "__main__":\n    {M}\n')
    assert edges[0].site.execution is Execution.CALL


def test_try_around_a_def_does_not_protect_the_call():
    code = f"try:\n    def f():\n        {M}\nexcept ImportError:\n    pass\n"
    edges, _, scope = analyse_case(0, code)
    assert classify(edges[0].site, scope) is Verdict.NONE


def test_skipif_decorator_guards_a_test_function():
    code = f'@pytest.mark.skipif(not USE_MSC, reason="needs msc")\ndef test_f():\n    {M}\n'
    edges, _, scope = analyse_case(0, code)
    assert classify(edges[0].site, scope) is Verdict.TOGGLE


def test_toggle_decorator_on_a_class_guards_its_methods_not_its_body():
    code = f"@tvm.testing.requires_msc\nclass TestMsc:\n    {M}\n\n    def test_a(self):\n        {M}\n"
    edges, _, scope = analyse_case(0, code)
    verdicts = [(e.site.line, classify(e.site, scope)) for e in edges]
    assert verdicts == [(3, Verdict.NONE), (6, Verdict.TOGGLE)]


def test_module_level_pytest_skip_guards_the_rest_of_the_file():
    code = f"import pytest\nif not USE_MSC:\n    pytest.skip(allow_module_level=True)\n{M}\n"
    edges, _, scope = analyse_case(0, code)
    assert classify(edges[0].site, scope) is Verdict.TOGGLE


def test_early_exit_is_scoped_to_its_block():
    code = textwrap.dedent(
        f"""\
        def f():
            if not USE_MSC:
                return None
            {M}

        def g():
            {M}
        """
    )
    edges, _, scope = analyse_case(0, code)
    assert [(e.site.line, classify(e.site, scope)) for e in edges] == [(4, Verdict.TOGGLE), (7, Verdict.NONE)]
