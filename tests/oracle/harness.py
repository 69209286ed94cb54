"""The runtime oracle for guard semantics (issue 14): every case is executed by Python with the
scope's toggle OFF, in every OFF state, with the scope present and with it deleted; scopeguard's
answer on the same tree is then judged against what Python did.

A case (`Case`) is a tiny project:

    pyproject.toml        [tool.scopeguard]: scope `pkg.feat`, toggle `feat` spelled USE_FEAT
                          (a Python name and a build-info key) and PKG_USE_FEAT (an environment
                          variable), decorator `pkg.testing.requires_feat`
    pkg/__init__.py       empty
    pkg/config.py         USE_FEAT = <the Python OFF value of the state>
    pkg/support.py        libinfo() -> the build-info dict of the state
    pkg/testing.py        requires_feat: a decorator that skips the call while USE_FEAT is false
    pkg/feat/__init__.py  the scope
    pkg/feat/core.py
    pkg/user.py           the case's code (Case.code)

plus Case.files (extra files, or replacements of the above, paths relative to the project root).
Every case uses the package name `pkg`; the runner (runner.py) forks a child per case, so cases never
see each other.

OFF states (the values a toggle's spellings take while it is off; STATES combines them):

    Python name         False, None, 0, ""                          (PY_OFF)
    environment var     unset, "", "0", "OFF", "off", "false", "False", "FALSE", "no", "NO"
                                                                    (ENV_OFF; CMake's false words)
    build-info key      missing, "OFF", "0", ""                     (INFO_OFF)

Each state sets all three kinds at once (the environment variable takes each of its ten values; the
Python name and build-info key cycle through theirs, paired differently), so every OFF value of
every kind is exercised, in ten runs of each tree.

Observations (per case, over all states; see `Observation`):

    I   the scope (pkg.feat or a submodule) is in sys.modules after importing the entry modules
        (default: pkg.user) in some OFF state, scope present;
    B   some entry module imports (or skips) with the scope present but fails with it deleted, in
        the same OFF state (SystemExit and os._exit count as failures; pytest/unittest skips do not);
    C   a declared call (Case.calls, made after the imports) imports the scope in some OFF state;
    CB  a declared call succeeds (or skips) with the scope present but fails with it deleted.

The expected scopeguard answer is derived from these, never written by hand (`judge`):

    UNDER (unsound) when
      B  and `check` has no import-time finding (SG201/SG205/SG301/SG402/SG403) nor an "unknown"
         one (SG206/SG208) for the scope;
      B  and `delete-plan` says clean or lists the failing module neither among `broken` nor with a
         dynamic import of unknown target among `unknown`;
      I  and not B and `check` has neither an import-time, an optional (SG204) nor an unknown finding
         (it called the import guarded, type-only, lazy, or did not see it);
      C  (not I) and `check` has no finding at all for it (SG202 expected);
      CB (not B) and `delete-plan` lists the module neither in `lazy` nor in `broken`.
    OVER (noisy) when not UNDER and
      not I and not B and `check` has an import-time finding (the import never runs on import);
      not I and not B and not C and `check` has a lazy finding (SG202/SG302);
      I and not B and `check` has an import-time finding but no SG204 (says it breaks; it survives);
      not B and `delete-plan` lists an entry module in `broken`, or (not CB) the module in `lazy`.
    CORRECT otherwise.

Adding a case: append `case("short-id", CODE, RUNTIME, ...)` to the family's module in
tests/oracle/cases/ (a new family: a new module listed in cases/__init__.py). CODE is pkg/user.py;
`files=` adds or replaces files (e.g. {"pkg/__init__.py": '__all__ = ["feat"]\n'}), `entries=` the
modules imported (default pkg.user), `calls=` expressions evaluated after the import in the last
entry module — declare one for every function that holds a scope import, or a correct SG202 counts as
an over-report. RUNTIME is what you expect Python to do; the suite checks it against the oracle
(test_case_does_what_its_author_says), never against scopeguard. Then run
`python -m tests.oracle.report -v -k short-id`; if scopeguard is wrong today, add the id to
tests/oracle/known.py (`--known` prints the whole table).

Warnings that describe without claiming a run (SG203 type-only, SG206/SG208 unknown target) are
never counted as over-reports. Case.suppressed marks a case whose import carries a genuine
`# scopeguard: ignore` comment: there `check` must report nothing for the scope (any finding is
OVER), while `delete-plan` is judged as usual.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

RUNNER = Path(__file__).with_name("runner.py")
SCOPE = "pkg.feat"

PY_OFF = ("False", "None", "0", '""')  # Python literals
ENV_OFF = (None, "", "0", "OFF", "off", "false", "False", "FALSE", "no", "NO")
INFO_OFF = (None, "OFF", "0", "")  # None: the key is missing


def _states() -> tuple[dict, ...]:
    states = []
    for i, env_value in enumerate(ENV_OFF):
        py = PY_OFF[i % len(PY_OFF)]
        info = INFO_OFF[(i + i // len(INFO_OFF)) % len(INFO_OFF)]
        info_json = json.dumps({} if info is None else {"USE_FEAT": info})
        name = f"py={py} env={'unset' if env_value is None else repr(env_value)} info={'missing' if info is None else repr(info)}"
        states.append({"name": name, "env": {"ORACLE_PY_FEAT": py, "PKG_USE_FEAT": env_value, "ORACLE_LIBINFO": info_json}})
    return tuple(states)


STATES = _states()

PYPROJECT = """\
[tool.scopeguard]
source_roots = ["."]

[tool.scopeguard.toggles.feat]
on_when_true = ["USE_FEAT", "PKG_USE_FEAT"]
decorators = ["pkg.testing.requires_feat"]

[[tool.scopeguard.scopes]]
name = "pkg.feat"
toggle = "feat"
"""

BOILERPLATE = {
    "pyproject.toml": PYPROJECT,
    "pkg/__init__.py": "",
    "pkg/config.py": (
        '"""The toggle as a Python name; the oracle sets its OFF value through ORACLE_PY_FEAT."""\n'
        "import ast\nimport os\n\n"
        'USE_FEAT = ast.literal_eval(os.environ.get("ORACLE_PY_FEAT", "False"))\n'
    ),
    "pkg/support.py": (
        '"""Build information, as a compiled library would report it (the oracle sets it)."""\n'
        "import json\nimport os\n\n\n"
        "def libinfo():\n"
        '    return json.loads(os.environ.get("ORACLE_LIBINFO", "{}"))\n'
    ),
    "pkg/testing.py": (
        '"""The toggle\'s decorator: the decorated function is skipped while USE_FEAT is false."""\n'
        "import functools\nimport unittest\n\nfrom pkg import config\n\n\n"
        "def requires_feat(function):\n"
        "    @functools.wraps(function)\n"
        "    def wrapper(*args, **kwargs):\n"
        "        if not config.USE_FEAT:\n"
        '            raise unittest.SkipTest("feat is off")\n'
        "        return function(*args, **kwargs)\n\n"
        "    return wrapper\n"
    ),
    "pkg/feat/__init__.py": '"""The scope."""\n',
    "pkg/feat/core.py": "VALUE = 1\n",
}

PREIMPORT = ("unittest", "typing", "importlib", "contextlib", "functools", "ast", "json", "builtins")

IMPORT_TIME_CODES = frozenset({"SG201", "SG205", "SG301", "SG402", "SG403"})
# SG205 (dynamic) and SG403 (wrong toggle) are about the kind of guard, not the time: their message
# says "lazily (when a function runs)" for an import inside a function; counted as lazy then.
LAZY_CODES = frozenset({"SG202", "SG302", "SG205(lazy)", "SG403(lazy)"})
LAZILY = "lazily (when a function runs)"
OPTIONAL_CODES = frozenset({"SG204"})
UNKNOWN_CODES = frozenset({"SG206", "SG208"})
NOT_ABOUT_IMPORTS = frozenset({"SG303", "SG401", "SG404"})  # packaging, config: not an answer about the case


@dataclass(frozen=True)
class Case:
    """One adversarial case. `code` is pkg/user.py (dedented). `runtime` is what the case's author
    says Python does with the toggle off — "breaks" (B), "runs" (I, not B), "call-breaks" (CB, not
    B), "call-runs" (C, not CB), "silent" — and is checked against the oracle, so a case that does
    not do what it claims fails loudly (it is a check of the case, not of scopeguard)."""

    id: str
    family: str
    code: str
    runtime: str
    files: Mapping[str, str] = field(default_factory=dict)
    entries: tuple[str, ...] = ("pkg.user",)
    calls: tuple[str, ...] = ()  # expressions evaluated in the last entry module, e.g. "f()"
    suppressed: bool = False
    note: str = ""

    def project_files(self) -> dict[str, str]:
        files = dict(BOILERPLATE)
        files["pkg/user.py"] = textwrap.dedent(self.code).lstrip("\n")
        files.update({path: textwrap.dedent(text).lstrip("\n") for path, text in self.files.items()})
        return files


@dataclass(frozen=True)
class Observation:
    imported: bool  # I
    breaks: bool  # B
    call_imports: bool  # C
    call_breaks: bool  # CB
    failing_entries: tuple[str, ...]  # entries behind B
    detail: str  # the first state showing I/B/C, for messages

    @property
    def runtime(self) -> str:
        if self.breaks:
            return "breaks"
        if self.imported:
            return "runs"
        if self.call_breaks:
            return "call-breaks"
        if self.call_imports:
            return "call-runs"
        return "silent"


@dataclass(frozen=True)
class Answer:
    codes: tuple[str, ...]  # check's finding codes for the scope
    findings: tuple[str, ...]  # "path:line CODE" for messages
    plan_clean: bool
    plan_broken: tuple[str, ...]
    plan_lazy: tuple[str, ...]  # importers of lazy breakages
    plan_unknown: tuple[str, ...] = ()  # paths of dynamic imports the plan calls unknown
    # (path, code) of every finding about the scope, related findings folded into another
    # (e.g. SG301 under SG201) included; SG205/SG403 inside a function carry "(lazy)"
    sites: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Grade:
    case: Case
    observation: Observation
    answer: Answer
    verdict: str  # "correct" | "under" | "over"
    reasons: tuple[str, ...]

    def explain(self) -> str:
        o, a = self.observation, self.answer
        return (
            f"{self.case.id} [{self.case.family}] {self.verdict.upper()}: {'; '.join(self.reasons) or 'ok'}\n"
            f"  python: {o.runtime} (I={o.imported} B={o.breaks} C={o.call_imports} CB={o.call_breaks}) {o.detail}\n"
            f"  check: {', '.join(a.findings) or 'nothing'}; delete-plan: "
            f"{'clean' if a.plan_clean else 'not clean'} broken={list(a.plan_broken)} lazy={list(a.plan_lazy)}"
        )


# --- building and running -----------------------------------------------------------------------


def write_projects(cases: Iterable[Case], root: Path) -> dict[str, tuple[Path, Path]]:
    """Write each case twice under root/<id>/: `present` and `deleted` (without pkg/feat)."""
    folders = {}
    for case in cases:
        present, deleted = root / case.id / "present", root / case.id / "deleted"
        for path, text in case.project_files().items():
            for base in (present, deleted):
                if base is deleted and (path == "pkg/feat" or path.startswith("pkg/feat/")):
                    continue
                target = base / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        folders[case.id] = (present, deleted)
    return folders


def run_oracle(cases: list[Case], folders: Mapping[str, tuple[Path, Path]], work: Path) -> dict:
    """Run the runner over every case, in three processes at once (two halves of the cases that do
    not use pytest, and those that do, with pytest imported once): {case id: [per state run]}."""
    needs_pytest = [c for c in cases if "pytest" in "".join(c.project_files().values())]
    lean = [c for c in cases if c not in needs_pytest]
    groups = [(lean[0::2], PREIMPORT), (lean[1::2], PREIMPORT), (needs_pytest, PREIMPORT + ("pytest",))]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PKG_", "ORACLE_", "PYTHON"))}
    processes = []
    for index, (group, preimport) in enumerate(groups):
        if not group:
            continue
        jobs = [
            {"case": c.id, "roots": {"present": str(folders[c.id][0]), "deleted": str(folders[c.id][1])},
             "entries": list(c.entries), "calls": list(c.calls), "scope": SCOPE}
            for c in group
        ]
        spec, out = work / f"spec-{index}.json", work / f"out-{index}.json"
        spec.write_text(json.dumps({"states": list(STATES), "jobs": jobs, "preimport": list(preimport)}))
        processes.append((subprocess.Popen([sys.executable, str(RUNNER), str(spec), str(out)], env=env, cwd=work), out))
    results: dict = {}
    for process, out in processes:
        if process.wait() != 0:
            raise RuntimeError(f"oracle runner failed (exit {process.returncode}); spec in {work}")
        results.update(json.loads(out.read_text()))
    return results


def _fails(outcome: str) -> bool:
    return not (outcome == "ok" or outcome.startswith("skip:") or outcome == "not-run")


def observe(case: Case, results: Mapping) -> Observation:
    imported = breaks = call_imports = call_breaks = False
    failing: list[str] = []
    details: list[str] = []
    for run in results[case.id]:
        name, p, d = run["state"], run["present"], run["deleted"]
        if p["imported"] and not imported:
            imported = True
            details.append(f"imported with {name}")
        for (entry, p_out), (_, d_out) in zip(p["entries"], d["entries"]):
            if not _fails(p_out) and _fails(d_out):
                if not breaks:
                    details.append(f"deleted: {entry} -> {d_out} with {name}")
                breaks = True
                if entry not in failing:
                    failing.append(entry)
        for (call, p_out, p_imp), (_, d_out, _) in zip(p["calls"], d["calls"]):
            if p_imp and not call_imports:
                call_imports = True
                details.append(f"{call} imported it with {name}")
            if not _fails(p_out) and _fails(d_out) and d_out != "not-run":
                if not call_breaks:
                    details.append(f"deleted: {call} -> {d_out} with {name}")
                call_breaks = True
    return Observation(imported, breaks, call_imports, call_breaks, tuple(failing), "; ".join(details))


def ask_scopeguard(case: Case, present: Path, cache: Path) -> Answer:
    """`scopeguard check --format json` and `scopeguard delete-plan pkg.feat --format json`, through
    the CLI's own entry point (in this process: no interpreter start per case)."""
    from tests.inprocess import run_main

    common = ["--cache-dir", str(cache), "--jobs", "1"]
    code, out, err = run_main("check", str(present), "--format", "json", *common, cwd=present)
    if code not in (0, 1):
        raise RuntimeError(f"{case.id}: scopeguard check exited {code}: {err.strip()}")
    report = json.loads(out)
    relevant = [v for v in report["violations"] if v["code"] not in NOT_ABOUT_IMPORTS]
    codes = tuple(sorted({v["code"] + ("(lazy)" if v["code"] in ("SG205", "SG403") and LAZILY in v["message"] else "")
                          for v in relevant}))
    findings = tuple(f"{v['path']}:{v['line']} {v['code']}" for v in relevant)
    sites = tuple(sorted(
        {(v["path"], v["code"] + ("(lazy)" if v["code"] in ("SG205", "SG403") and LAZILY in v["message"] else ""))
         for v in relevant}
        | {(r["path"], r["code"]) for v in relevant for r in v.get("related", ()) if r.get("path") and r.get("code")}
    ))
    code, out, err = run_main("delete-plan", SCOPE, str(present), "--format", "json", *common, cwd=present)
    if code not in (0, 1):
        raise RuntimeError(f"{case.id}: scopeguard delete-plan exited {code}: {err.strip()}")
    plan = json.loads(out)
    return Answer(
        codes,
        findings,
        bool(plan["clean"]),
        tuple(sorted({b["module"] for b in plan["broken"]})),
        tuple(sorted({x["importer"] for x in plan["lazy"]})),
        tuple(sorted({u["path"] for u in plan.get("unknown", ())})),
        sites,
    )


# --- judging ------------------------------------------------------------------------------------


def _unknown_in(module: str, paths: tuple[str, ...]) -> bool:
    stem = module.replace(".", "/")
    return any(p.endswith((f"{stem}.py", f"{stem}/__init__.py")) for p in paths)


def judge(case: Case, o: Observation, a: Answer) -> Grade:
    codes = set(a.codes)
    said = ", ".join(a.codes) or "nothing"
    under: list[str] = []
    over: list[str] = []
    entry_modules = set(case.entries)
    if case.suppressed:
        if codes & (IMPORT_TIME_CODES | LAZY_CODES | OPTIONAL_CODES):
            over.append(f"a genuine suppression comment, yet check reports {said}")
    else:
        if o.breaks and not codes & (IMPORT_TIME_CODES | UNKNOWN_CODES):
            under.append(f"deleting the scope breaks {', '.join(o.failing_entries)} at import; check says {said}")
        if o.imported and not o.breaks and not codes & (IMPORT_TIME_CODES | OPTIONAL_CODES | UNKNOWN_CODES):
            under.append(f"the scope is imported at import time with the toggle off; check says {said}")
        if o.call_imports and not o.imported and not codes & (IMPORT_TIME_CODES | LAZY_CODES | OPTIONAL_CODES | UNKNOWN_CODES):
            under.append(f"a call imports the scope with the toggle off; check says {said}")
        if not o.imported and not o.breaks and codes & IMPORT_TIME_CODES:
            over.append(f"check says {said} (import time), but importing never loads the scope with the toggle off")
        if not o.imported and not o.breaks and not o.call_imports and codes & LAZY_CODES:
            over.append(f"check says {said}, but no call loads the scope with the toggle off")
        if o.imported and not o.breaks and codes & IMPORT_TIME_CODES and not codes & OPTIONAL_CODES:
            over.append(f"check says {said}, but the importer survives deletion (optional import)")
    if o.breaks:
        # "unknown" with the site in the failing module is an honest answer (never "clean")
        missing = [m for m in o.failing_entries if m not in a.plan_broken and not _unknown_in(m, a.plan_unknown)]
        if a.plan_clean or missing:
            under.append(
                f"delete-plan says {'clean' if a.plan_clean else 'broken=' + str(list(a.plan_broken))}, "
                f"but {', '.join(o.failing_entries)} fails to import once the scope is deleted"
            )
    elif o.call_breaks:
        hit = [m for m in entry_modules if m in a.plan_lazy or m in a.plan_broken]
        if not hit:
            under.append(f"a call breaks once the scope is deleted; delete-plan lists no lazy breakage (clean={a.plan_clean})")
    if not o.breaks and entry_modules & set(a.plan_broken):
        over.append(f"delete-plan predicts {sorted(entry_modules & set(a.plan_broken))} break at import; they do not")
    if not o.breaks and not o.call_breaks and entry_modules & set(a.plan_lazy):
        over.append("delete-plan predicts a call breaks; none does")
    verdict = "under" if under else "over" if over else "correct"
    return Grade(case, o, a, verdict, tuple(under or over))


def grade_all(cases: list[Case], work: Path) -> dict[str, Grade]:
    """Build every case, run the oracle and scopeguard, and judge: {case id: Grade}."""
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate case ids: {sorted(duplicates)}")
    folders = write_projects(cases, work / "cases")
    results = run_oracle(cases, folders, work)
    cache = work / "sgcache"
    grades = {}
    for case in cases:
        observation = observe(case, results)
        answer = ask_scopeguard(case, folders[case.id][0], cache)
        grades[case.id] = judge(case, observation, answer)
    return grades


def table(grades: Iterable[Grade]) -> str:
    """The per-family accuracy table: cases, correct, under, over."""
    rows: dict[str, list[int]] = {}
    for grade in grades:
        row = rows.setdefault(grade.case.family, [0, 0, 0, 0])
        row[0] += 1
        row[1 + ("correct", "under", "over").index(grade.verdict)] += 1
    total = [sum(r[i] for r in rows.values()) for i in range(4)]
    width = max([len("family"), len("total"), *map(len, rows)])
    lines = [f"{'family':<{width}}  cases  correct  under  over"]
    for name, (n, ok, under, over) in [*rows.items(), ("total", total)]:
        lines.append(f"{name:<{width}}  {n:>5}  {ok:>7}  {under:>5}  {over:>4}")
    return "\n".join(lines)
