"""What runs at import time (issue 15): backends loaded from a tuple through wrappers, dialect
registries with a module `__getattr__` and a meta-path redirect, dict-literal lazy submodules,
wrapper chains called with literals, and a scope that uses another scope.

Every expectation is checked against the runtime ground truth (`tests/reach/runtime.py`: the
scope's folder deleted in a copy and every module imported in a fresh interpreter, in the
fixture's default environment and with the toggle's variable set to each OFF value). Today's wrong answers are marked
`xfail(strict=True)` with "UNDER: ..." (a breakage or finding missed) or "OVER: ..." (one that
should not be there), so the suite stays green and the fix flips them.

Where a finding is reported when the import is reached through a call chain, a table or a
registry: on the line that writes the scope's name (the literal argument, the tuple or dict
entry), where a reviewer can guard or suppress that one use; its message and chain name the import
site. A function is a public entry point (it may take any value) when its module lists it in
`__all__`; functions of a private module (`rw._loader`) take only what the project passes.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field

import pytest

from .conftest import FIXTURES
from .inprocess import run_main
from .reach.runtime import modules_of, runtime_truth

# The fixture's default environment, then the toggle's variable set to each OFF value (DESIGN.md:
# "an environment variable's OFF states include unset, "", "0", "OFF", "false"").
OFF_VALUES = ("0", "", "OFF", "false")


@dataclass(frozen=True)
class Case:
    fixture: str
    scope: str
    toggle_var: str  # the environment variable that spells the scope's toggle
    # Runtime truth, default environment: module -> start of its error once the scope is deleted.
    broken: dict
    clean: bool  # the right verdict (never Clean while something breaks)
    # The same with the toggle's variable set to each OFF value, where that differs from `broken`.
    broken_off: dict = field(default_factory=dict)
    plan_broken: dict = field(default_factory=dict)  # module -> (path, line) in the plan
    lazy: tuple = ()  # (path, line) of the calls that break later
    guarded: tuple = ()  # (path, line) of the guarded imports left behind
    chain_lines: dict = field(default_factory=dict)  # module -> "path:line" tokens, in order, on its line
    mentions: tuple = ()  # text the plan must contain (tuple entry to remove, toggle to set, ...)
    user_scopes: tuple = ()  # scopes that use this one: to delete or turn off first

    def expected_broken(self, env):
        return self.broken if env == "default" else self.broken_off.get(env, self.broken)


RB_ALL = ("rb", "rb.backend", "rb.backend._autoload", "rb.backend.cpu", "rb.backend.loader", "rb.base", "rb.ops")
NPU_ERROR = "ImportError: Cannot load backend 'npu': expected package 'rb.backend.npu'"
DSP_ERROR = "ImportError: Cannot load backend 'dsp': expected package 'rb.backend.dsp'"
RB = "src/rb/__init__.py"

CASES = {
    ("reach_backends", "rb.backend.npu"): Case(
        "reach_backends", "rb.backend.npu", "RB_BACKEND_AUTOLOAD",
        broken={m: NPU_ERROR for m in (*RB_ALL, "rb.backend.dsp")},
        clean=False,
        # autoload_backends() returns before the loop only for "0": unset, "", "OFF", "false" load it.
        broken_off={"0": {}},
        # The code's default state ("1") loads every backend: `import rb` fails, at the call.
        plan_broken={"rb": (RB, 8)},
        chain_lines={"rb": ("src/rb/__init__.py:8", "src/rb/backend/loader.py:10")},
        # "unless RB_BACKEND_AUTOLOAD=0; remove "npu" from _BUILTIN_BACKENDS at _autoload.py:8"
        mentions=("RB_BACKEND_AUTOLOAD", "src/rb/backend/_autoload.py:8"),
    ),
    ("reach_backends", "rb.backend.dsp"): Case(
        "reach_backends", "rb.backend.dsp", "USE_DSP",
        broken={m: DSP_ERROR for m in (*RB_ALL, "rb.backend.npu", "rb.backend.npu.kernels")},
        clean=False,
        plan_broken={"rb": (RB, 8)},
        chain_lines={"rb": ("src/rb/__init__.py:8", "src/rb/backend/loader.py:10")},
        mentions=("src/rb/backend/_autoload.py:9",),
    ),
    ("reach_dialects", "rd.graph"): Case(
        "reach_dialects", "rd.graph", "USE_GRAPH",
        broken={"rd.frontend": "ImportError: cannot import name 'graph' from 'rd.script'",
                "rd.printer": "ModuleNotFoundError: No module named 'rd.script.parser.graph'"},
        clean=False,
        # `from rd.script import graph` is an import of rd.graph.script (register_dialect +
        # __getattr__); `from rd.script.parser.graph import ...` of rd.graph.script.parser (finder).
        plan_broken={"rd.frontend": ("src/rd/frontend.py", 3), "rd.printer": ("src/rd/printer.py", 2)},
        lazy=(("src/rd/tools.py", 5),),
        guarded=(("src/rd/__init__.py", 6),),
    ),
    ("reach_lazy", "rl.contrib.vision"): Case(
        "reach_lazy", "rl.contrib.vision", "USE_VISION",
        broken={"rl.app": "ModuleNotFoundError: No module named 'rl.contrib.vision'",
                "rl.models.detector": "ModuleNotFoundError: No module named 'rl.contrib.vision'",
                "rl.serve": "ModuleNotFoundError: No module named 'rl.contrib.vision'"},
        clean=False,
        plan_broken={"rl.app": ("src/rl/app.py", 3), "rl.models.detector": ("src/rl/models/detector.py", 2),
                     "rl.serve": ("src/rl/serve.py", 3)},
        # The table entries that name the scope, or a module that then fails, break when looked up.
        lazy=(("src/rl/__init__.py", 5), ("src/rl/contrib/__init__.py", 4), ("src/rl/models/__init__.py", 5)),
    ),
    ("reach_wrappers", "rw.plugins.legacy"): Case(
        "reach_wrappers", "rw.plugins.legacy", "RW_USE_LEGACY",
        broken={"rw.compat": "ModuleNotFoundError: No module named 'rw.plugins.legacy'",
                "rw.report": "ModuleNotFoundError: No module named 'rw.plugins.legacy'"},
        clean=False,
        plan_broken={"rw.compat": ("src/rw/compat.py", 4), "rw.report": ("src/rw/report.py", 2)},
        chain_lines={"rw.compat": ("src/rw/compat.py:4", "src/rw/_loader.py:7")},
        lazy=(("src/rw/convert.py", 6),),
        guarded=(("src/rw/features.py", 9),),
    ),
    ("reach_uses", "ru.core_ext"): Case(
        "reach_uses", "ru.core_ext", "RU_USE_CORE_EXT",
        broken={m: "ModuleNotFoundError: No module named 'ru.core_ext'"
                for m in ("ru.addon", "ru.addon.a", "ru.addon.b", "ru.addon.c")},
        clean=False,
        plan_broken={},  # ru.addon's modules are not listed one by one: it is turned off first
        guarded=(("src/ru/__init__.py", 5),),
        mentions=("delete or turn off ru.addon first",),
        user_scopes=("ru.addon",),
    ),
    ("reach_uses", "ru.addon"): Case(
        "reach_uses", "ru.addon", "RU_USE_ADDON",
        broken={},
        clean=True,
        guarded=(("src/ru/__init__.py", 7), ("src/ru/tools.py", 5)),
    ),
}

CASE_PARTS = {p for key in CASES for p in key}

# Today's wrong answers, (fixture, scope) -> reason; each marks the tests named after the dict.
# (Fixed by issue 15's value flow, import-time call graph, lazy tables and registries: removed.)
PLAN_VERDICT_WRONG = {}
PRINTER_MISSED = ("the sys.meta_path finder's redirect of rd.script.parser.graph is not inferred: the plan "
                  "says 'unknown' at rd/printer.py:2 (SG208), not that rd.printer breaks")
PLAN_BROKEN_WRONG = {
    ("reach_dialects", "rd.graph"): PRINTER_MISSED,
}
PLAN_CHAIN_WRONG = {}
PLAN_MENTIONS_WRONG = {}
PLAN_LAZY_WRONG = {}
SOUNDNESS_WRONG = {}  # runtime breaks, plan says Clean
MISSED_WRONG = {}  # runtime breaks a module the plan does not list (nor calls unknown)
PREDICTED_FINE_WRONG = {}  # the plan lists a module that imports fine in the default state

# check: every finding (code, path, line, scope); what must be there and what must not.
EXPECTED_CHECK = {
    "reach_backends": {
        # load() is exported (__all__): any name may come in, only the prefix rb.backend. is known.
        ("SG206", "src/rb/backend/loader.py", 10, "rb.backend.npu"),
        ("SG206", "src/rb/backend/loader.py", 10, "rb.backend.dsp"),
        # The tuple entries are imported at import time (rb/__init__.py:8). "dsp" has no USE_DSP
        # guard; "npu"'s early return tests RB_BACKEND_AUTOLOAD == "0" only, so in the OFF states
        # unset, "", "OFF" and "false" it loads: no guard either (DESIGN.md, Soundness).
        ("SG205", "src/rb/backend/_autoload.py", 8, "rb.backend.npu"),
        ("SG402", "src/rb/backend/_autoload.py", 8, "rb.backend.npu"),
        ("SG301", "src/rb/__init__.py", 8, "rb.backend.npu"),
        ("SG205", "src/rb/backend/_autoload.py", 9, "rb.backend.dsp"),
        ("SG402", "src/rb/backend/_autoload.py", 9, "rb.backend.dsp"),
        ("SG301", "src/rb/__init__.py", 8, "rb.backend.dsp"),
    },
    "reach_dialects": {
        ("SG204", "src/rd/__init__.py", 6, "rd.graph"),
        ("SG402", "src/rd/__init__.py", 6, "rd.graph"),
        ("SG201", "src/rd/frontend.py", 3, "rd.graph"),  # from rd.script import graph as G
        ("SG201", "src/rd/printer.py", 2, "rd.graph"),  # from rd.script.parser.graph import ...
        # ... which is not in the tree: served by the meta-path hook rd.script installs (unknown)
        ("SG208", "src/rd/printer.py", 2, ""),
        ("SG202", "src/rd/tools.py", 5, "rd.graph"),  # the same, inside a function
        # register_dialect() is public: any package (out of tree too) may register any module.
        ("SG208", "src/rd/script/__init__.py", 44, ""),
        ("SG208", "src/rd/script/__init__.py", 54, ""),
    },
    "reach_lazy": {
        ("SG201", "src/rl/models/detector.py", 2, "rl.contrib.vision"),
        ("SG201", "src/rl/app.py", 3, "rl.contrib.vision"),  # from rl import vision
        ("SG205", "src/rl/__init__.py", 5, "rl.contrib.vision"),  # "vision": ".contrib.vision", in __getattr__
        ("SG301", "src/rl/serve.py", 3, "rl.contrib.vision"),  # from rl.models import Detector
        ("SG205", "src/rl/contrib/__init__.py", 4, "rl.contrib.vision"),  # {"vision", ...}: f"{__name__}.{name}"
        ("SG302", "src/rl/models/__init__.py", 5, "rl.contrib.vision"),  # "Detector": ".detector" then fails
    },
    "reach_wrappers": {
        ("SG205", "src/rw/compat.py", 4, "rw.plugins.legacy"),  # load("legacy") at import time
        ("SG205", "src/rw/convert.py", 6, "rw.plugins.legacy"),  # load("legacy") inside a function
        ("SG301", "src/rw/report.py", 2, "rw.plugins.legacy"),  # from rw import compat
        ("SG208", "src/rw/api.py", 9, ""),  # import_plugin(name) is public: SG208 stays
    },
    "reach_uses": set(),  # ru.addon uses ru.core_ext: with ru.core_ext off, ru.addon is off too
}
CHECK_MISSING_TODAY = {
    ("SG201", "src/rd/printer.py", 2, "rd.graph"): "meta-path redirect not inferred: SG208 (unknown) there instead",
}
# Reported today, wrongly.
CHECK_WRONG_TODAY: dict = {}
# Must not be reported (each was once).
CHECK_NOT_EXPECTED = {
    # ru.addon uses ru.core_ext, so its toggle is off with ru.core_ext's
    ("reach_uses", ("SG402", "src/ru/addon/__init__.py", 2, "ru.core_ext")): None,
}
CHECK_EXACT_WRONG = {f for f, _ in CHECK_WRONG_TODAY} | {
    f for f, cases in EXPECTED_CHECK.items() if cases & CHECK_MISSING_TODAY.keys()
}


def _xfail(reason):
    return pytest.mark.xfail(strict=True, reason=reason) if reason else ()


def _params(keys, wrong, ids=None):
    return [pytest.param(*k if isinstance(k, tuple) else (k,), marks=_xfail(wrong.get(k)),
                         id=ids(k) if ids else None) for k in keys]


def _case_id(key):
    parts = key if isinstance(key, tuple) else (key,)
    return "-".join(p if p in CASE_PARTS else _env_id(p) for p in parts)


def _env_id(env):
    return "unset" if env == "default" else f"off={env!r}"


# --- running scopeguard and the ground truth (each once per session) ---------------------------

@functools.cache
def _check(fixture):
    code, out, err = run_main("check", ".", "--no-cache", "--no-baseline", "--format", "json",
                              cwd=FIXTURES / fixture)
    assert code in (0, 1), err
    found = json.loads(out)["violations"]
    # A consequence whose root has its own finding is a related note of it (issue 16): SG402 is
    # counted at the root's statement (the import that enters the scope), SG301/SG302 at their own
    # line (the module or call that breaks).
    return {(v["code"], v["path"], v["line"], v["scope"]) for v in found} | {
        (n["code"], *((v["path"], v["line"]) if n["code"] == "SG402" else (n["path"], n["line"])), v["scope"])
        for v in found for n in v["related"]}


@functools.cache
def _plan(fixture, scope, fmt="json"):
    code, out, err = run_main("delete-plan", scope, ".", "--no-cache", "--format", fmt, cwd=FIXTURES / fixture)
    assert code in (0, 1), err
    return json.loads(out) if fmt == "json" else out


_TRUTHS = {}


def _truth(case, env_name, tmp_path_factory):
    key = (case.fixture, case.scope, env_name)
    if key not in _TRUTHS:
        env = {} if env_name == "default" else {case.toggle_var: env_name}
        _TRUTHS[key] = runtime_truth(FIXTURES / case.fixture, ["src"], case.scope, env,
                                     workdir=tmp_path_factory.getbasetemp())
    return _TRUTHS[key]


def _errors(truth_broken):
    """Error texts without the temporary copy's path: `... from 'rd.script' (/tmp/...)`."""
    return {m: re.sub(r" \(/[^)]*\)$", "", e) for m, e in truth_broken.items()}


def _plan_modules(plan):
    return {b["module"] for b in plan["broken"]}


def _section(text, title):
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start + 1:end]


def _scope_modules(fixture, scope):
    return {m for m in modules_of(FIXTURES / fixture, ["src"]) if m == scope or m.startswith(scope + ".")}


# A variable no file of the fixture spells cannot change an import: "0" stands for its OFF values.


def _envs(key):
    case = CASES[key]
    spelled = any(case.toggle_var in p.read_text() for p in (FIXTURES / case.fixture / "src").rglob("*.py"))
    return ("default", *(OFF_VALUES if spelled else OFF_VALUES[:1]))


CASE_ENVS = [(*key, env) for key in CASES for env in _envs(key)]


# --- the ground truth itself ----------------------------------------------------------------

@pytest.mark.parametrize("fixture", sorted({c.fixture for c in CASES.values()}))
def test_every_module_imports_before_any_deletion(fixture, tmp_path_factory):
    """Sanity: the fixtures import cleanly, so every failure after a deletion is the deletion's."""
    for case in (c for c in CASES.values() if c.fixture == fixture):
        for env in _envs((case.fixture, case.scope)):
            assert _truth(case, env, tmp_path_factory).failing_anyway == {}, (case.scope, env)


@pytest.mark.parametrize("fixture,scope,env", CASE_ENVS, ids=_case_id)
def test_runtime_truth(fixture, scope, env, tmp_path_factory):
    case = CASES[fixture, scope]
    expected = case.expected_broken(env)
    assert _errors(_truth(case, env, tmp_path_factory).broken) == expected


def test_runtime_truth_agrees_with_scopeguard_verify(tmp_path_factory):
    """Two independent sweeps (ours: fresh interpreters; scopeguard's --verify: forked children)
    find the same broken modules, on the fixture most sensitive to the import order."""
    case = CASES["reach_backends", "rb.backend.dsp"]
    code, out, err = run_main("delete-plan", case.scope, ".", "--no-cache", "--verify", "-j", "2",
                              "--format", "json", cwd=FIXTURES / case.fixture,
                              env={"RB_BACKEND_AUTOLOAD": "1"})
    assert code == 1, err
    verify = json.loads(out)["verify"]
    assert {m: e.removeprefix("`import rb` fails: ") for m, e in verify["broken"].items()} == \
        _truth(case, "default", tmp_path_factory).broken


# --- delete-plan ----------------------------------------------------------------------------

@pytest.mark.parametrize("fixture,scope", _params(CASES, PLAN_VERDICT_WRONG, _case_id))
def test_plan_verdict(fixture, scope):
    assert _plan(fixture, scope)["clean"] is CASES[fixture, scope].clean


@pytest.mark.parametrize("fixture,scope", _params(CASES, PLAN_BROKEN_WRONG, _case_id))
def test_plan_broken_modules(fixture, scope, tmp_path_factory):
    """The modules the plan says fail at import time are the ones that do (default environment),
    minus those of scopes that must be deleted or turned off first; each at its path and line."""
    case = CASES[fixture, scope]
    runtime = set(_truth(case, "default", tmp_path_factory).broken)
    users = set().union(*(_scope_modules(fixture, u) for u in case.user_scopes))
    assert runtime - users >= set(case.plan_broken)  # the expectation itself is what runs
    plan = _plan(fixture, scope)
    assert _plan_modules(plan) == runtime - users
    found = {b["module"]: (b["path"], b["line"]) for b in plan["broken"]}
    assert {m: found.get(m) for m in case.plan_broken} == case.plan_broken


@pytest.mark.parametrize("fixture,scope", _params([k for k in CASES if CASES[k].chain_lines], PLAN_CHAIN_WRONG,
                                                  _case_id))
def test_plan_chain_names_the_call_sites(fixture, scope):
    """`src/rb/__init__.py:8 autoload_backends() -> ... -> src/rb/backend/loader.py:10 import_module`:
    the broken module's line in the text plan names the sites in execution order."""
    lines = _section(_plan(fixture, scope, "text"), "Broken at import time")
    for module, tokens in CASES[fixture, scope].chain_lines.items():
        pattern = r"\b" + r"\b.*".join(re.escape(t) for t in tokens) + r"\b"
        assert any(re.search(pattern, line) and module in line for line in lines), (module, tokens, lines)


@pytest.mark.parametrize("fixture,scope", _params([k for k in CASES if CASES[k].mentions], PLAN_MENTIONS_WRONG,
                                                  _case_id))
def test_plan_says_what_to_edit(fixture, scope):
    text = _plan(fixture, scope, "text")
    for mention in CASES[fixture, scope].mentions:
        assert mention in text


@pytest.mark.parametrize("fixture,scope", _params(CASES, PLAN_LAZY_WRONG, _case_id))
def test_plan_calls_that_break_later_and_guarded_imports(fixture, scope):
    plan, case = _plan(fixture, scope), CASES[fixture, scope]
    assert sorted((x["path"], x["line"]) for x in plan["lazy"]) == sorted(case.lazy)
    assert sorted((x["path"], x["line"]) for x in plan["guarded"]) == sorted(case.guarded)


# --- soundness: never Clean while something breaks, never a breakage missed -----------------

@pytest.mark.parametrize("fixture,scope,env", _params(CASE_ENVS,
                                                      {(*k, e): v for (k, e), v in SOUNDNESS_WRONG.items()},
                                                      _case_id))
def test_soundness_never_clean_while_the_runtime_breaks(fixture, scope, env, tmp_path_factory):
    broken = _truth(CASES[fixture, scope], env, tmp_path_factory).broken
    assert not broken or _plan(fixture, scope)["clean"] is False, sorted(broken)


@pytest.mark.parametrize("fixture,scope", _params(CASES, MISSED_WRONG, _case_id))
def test_soundness_no_breakage_missed(fixture, scope, tmp_path_factory):
    """Every module that breaks for real is in the plan, in a scope the plan says to delete or
    turn off first, or said to be unknown at an import in its own file (never silently fine)."""
    case = CASES[fixture, scope]
    plan = _plan(fixture, scope)
    missed = set(_truth(case, "default", tmp_path_factory).broken) - _plan_modules(plan)
    text = _plan(fixture, scope, "text")
    excused = {m for u in case.user_scopes if f"delete or turn off {u} first" in text
               for m in _scope_modules(fixture, u)}
    unknown_files = {u["path"] for u in plan["unknown"]}
    excused |= {m for m in missed if any(p.endswith("/" + m.replace(".", "/") + ".py") for p in unknown_files)}
    assert missed - excused == set()


@pytest.mark.parametrize("fixture,scope", _params(CASES, PREDICTED_FINE_WRONG, _case_id))
def test_precision_no_module_predicted_that_imports_fine(fixture, scope, tmp_path_factory):
    case = CASES[fixture, scope]
    runtime = set(_truth(case, "default", tmp_path_factory).broken)
    assert _plan_modules(_plan(fixture, scope)) - runtime == set()


# --- check ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fixture,finding", [
    pytest.param(f, x, marks=_xfail(CHECK_MISSING_TODAY.get(x)), id=f"{x[0]}-{x[1]}:{x[2]}-{x[3]}")
    for f, xs in EXPECTED_CHECK.items() for x in sorted(xs, key=str)
])
def test_check_reports(fixture, finding):
    assert finding in _check(fixture)


@pytest.mark.parametrize("fixture,finding", [
    pytest.param(f, x, marks=_xfail(reason), id=f"{x[0]}-{x[1]}:{x[2]}-{x[3]}")
    for (f, x), reason in {**CHECK_NOT_EXPECTED, **CHECK_WRONG_TODAY}.items()
])
def test_check_does_not_report(fixture, finding):
    assert finding not in _check(fixture)


@pytest.mark.parametrize("fixture", _params(list(EXPECTED_CHECK), {f: "see test_check_reports and "
                                                                   "test_check_does_not_report"
                                                                   for f in CHECK_EXACT_WRONG}))
def test_check_exact_findings(fixture):
    assert _check(fixture) == EXPECTED_CHECK[fixture]


def test_imports_an_import_hook_may_serve_are_unknown_once_per_module_and_file(tmp_path):
    """Where the project installs a sys.meta_path entry, an import of a project module that is not
    in the tree is SG208 (the hook may serve it with any module): once per module a file imports
    so, at its first import; without a hook such an import is nothing of ours to report."""
    (tmp_path / "src/hp/feat").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.scopeguard]\nsource_roots = ["src"]\n[tool.scopeguard.toggles.f]\non_when_true = ["USE_F"]\n'
        '[[tool.scopeguard.scopes]]\nname = "hp.feat"\ntoggle = "f"\n')
    (tmp_path / "src/hp/__init__.py").write_text("import sys\n\n\nclass F:\n    pass\n\n\nsys.meta_path.append(F())\n")
    (tmp_path / "src/hp/feat/__init__.py").write_text("")
    (tmp_path / "src/hp/user.py").write_text("from hp.gone import a\nfrom hp.gone import b\nfrom hp.other import c\n")

    def found():
        code, out, err = run_main("check", str(tmp_path), "--no-cache", "--format", "json")
        assert code in (0, 1), err
        return [(v["code"], v["path"], v["line"]) for v in json.loads(out)["violations"]]

    assert found() == [("SG208", "src/hp/user.py", 1), ("SG208", "src/hp/user.py", 3)]
    code, out, _ = run_main("delete-plan", "hp.feat", str(tmp_path), "--no-cache", "--format", "json")
    assert [(u["path"], u["line"]) for u in json.loads(out)["unknown"]] == [("src/hp/user.py", 1), ("src/hp/user.py", 3)]
    (tmp_path / "src/hp/__init__.py").write_text("")
    assert found() == []
