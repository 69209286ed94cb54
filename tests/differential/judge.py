"""Run generated projects under CPython (the oracle of tests/oracle) and scopeguard, and compare
their answers module by module. See tests/test_differential.py for the mapping from findings to
"flagged"; this module implements it (`verdicts`)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tests.oracle.harness import (
    IMPORT_TIME_CODES,
    OPTIONAL_CODES,
    UNKNOWN_CODES,
    Case,
    ask_scopeguard,
    observe,
    run_oracle,
    write_projects,
)

from .generator import Module, Node, Project

# a finding at the module (or at a project module that CPython ran while importing it) that says
# "the scope may be loaded while this module is imported"
LOAD_FLAGS = IMPORT_TIME_CODES | OPTIONAL_CODES | UNKNOWN_CODES | {"SG301"}
# ... and "this module may fail to import once the scope is deleted"
BREAK_FLAGS = IMPORT_TIME_CODES | UNKNOWN_CODES | {"SG301"}
# claims of a run at import time that the over-report measure holds against CPython
RUN_CLAIMS = IMPORT_TIME_CODES | {"SG301"}


@dataclass(frozen=True)
class ModuleVerdict:
    module: str  # pkg.m0
    loads: bool  # CPython: importing it loads pkg.feat with the toggle off (some OFF state)
    breaks: bool  # CPython: it imports with the scope present and fails with it deleted (same state)
    ran: tuple[str, ...]  # project modules CPython loaded while importing it (scope present)
    sites: tuple[str, ...]  # scopeguard's codes located in the module itself
    credited: tuple[str, ...]  # codes located in the modules it ran
    under: tuple[str, ...]  # "load", "break-check", "break-plan"
    over: tuple[str, ...]  # "load", "optional", "plan"
    detail: str

    def to_json(self) -> dict:
        return {"module": self.module, "loads": self.loads, "breaks": self.breaks}


@dataclass(frozen=True)
class ProjectResult:
    project: Project
    files: dict[str, str]
    modules: tuple[ModuleVerdict, ...]
    findings: tuple[str, ...]
    plan: str

    @property
    def under(self) -> tuple[ModuleVerdict, ...]:
        return tuple(m for m in self.modules if m.under)

    @property
    def over(self) -> tuple[ModuleVerdict, ...]:
        return tuple(m for m in self.modules if m.over)

    def expected(self) -> dict:
        """CPython's answer, the pinned case's expected.json."""
        return {m.module: {"loads": m.loads, "breaks": m.breaks} for m in self.modules}

    def explain(self) -> str:
        lines = [f"check: {', '.join(self.findings) or 'nothing'}", f"delete-plan: {self.plan}"]
        for m in self.modules:
            lines.append(f"  {m.module}: python loads={m.loads} breaks={m.breaks} ran={list(m.ran)}; "
                         f"scopeguard here={list(m.sites)} via-ran={list(m.credited)}; "
                         f"under={list(m.under)} over={list(m.over)} {m.detail}")
        return "\n".join(lines)


def module_names(files: dict[str, str]) -> list[str]:
    return sorted(p[:-3].replace("/", ".") for p in files if p.startswith("pkg/m"))


def _cases(key: str, files: dict[str, str]) -> list[Case]:
    return [Case(id=f"{key}--{name.split('.')[-1]}", family="differential", code="pass\n", runtime="",
                 files=files, entries=(name,)) for name in module_names(files)]


def _path(module: str) -> str:
    return module.replace(".", "/") + ".py"


def verdicts(files: dict[str, str], cases: list[Case], results: dict, answer) -> tuple[ModuleVerdict, ...]:
    """Module by module: what CPython did, what scopeguard said, and under/over-reports."""
    sites: dict[str, set[str]] = {}
    for path, code in answer.sites:
        sites.setdefault(path, set()).add(code)
    project_modules = set(module_names(files))
    out = []
    for case in cases:
        module = case.entries[0]
        o = observe(case, results)
        ran = sorted({n for run in results[case.id] for n in run["present"].get("loaded", ())
                      if n in project_modules and n != module})
        here = sites.get(_path(module), set())
        via = set().union(*(sites.get(_path(n), set()) for n in ran)) if ran else set()
        unknown_site = any(p in answer.plan_unknown for p in (_path(n) for n in (module, *ran)))
        under, over = [], []
        if o.imported and not (here | via) & LOAD_FLAGS and module not in answer.plan_broken:
            under.append("load")
        if o.breaks and not (here | via) & BREAK_FLAGS:
            under.append("break-check")
        if o.breaks and (answer.plan_clean or (module not in answer.plan_broken and not unknown_site)):
            under.append("break-plan")
        if not o.imported and not o.breaks and here & RUN_CLAIMS:
            over.append("load")
        if o.imported and not o.breaks and here & RUN_CLAIMS and not here & OPTIONAL_CODES:
            over.append("optional")
        if not o.breaks and module in answer.plan_broken:
            over.append("plan")
        out.append(ModuleVerdict(module, o.imported, o.breaks, tuple(ran), tuple(sorted(here)), tuple(sorted(via)),
                                 tuple(under), tuple(over), o.detail))
    return tuple(out)


def run_many(file_sets: list[dict[str, str]], work: Path) -> list[ProjectResult]:
    """Each set of module files ({"pkg/m0.py": text, ...}) is one project: all of them go through one
    oracle run (every module imported on its own, in every OFF state, scope present and deleted),
    then scopeguard's check and delete-plan on each."""
    work.mkdir(parents=True, exist_ok=True)
    all_cases, per_project = [], []
    for number, files in enumerate(file_sets):
        cases = _cases(f"p{number}", files)
        all_cases.extend(cases)
        per_project.append((files, cases))
    folders = write_projects(all_cases, work / "cases")
    results = run_oracle(all_cases, folders, work) if all_cases else {}
    out = []
    for files, cases in per_project:
        answer = ask_scopeguard(cases[0], folders[cases[0].id][0], work / "sgcache")
        plan = ("clean" if answer.plan_clean else
                f"broken={list(answer.plan_broken)} lazy={list(answer.plan_lazy)} unknown={list(answer.plan_unknown)}")
        out.append(ProjectResult(Project(()), files, verdicts(files, cases, results, answer), answer.findings, plan))
    shutil.rmtree(work / "cases", ignore_errors=True)
    return out


def run_projects(projects: Iterable[Project], work: Path) -> list[ProjectResult]:
    projects = list(projects)
    results = run_many([p.files() for p in projects], work)
    return [ProjectResult(p, r.files, r.modules, r.findings, r.plan) for p, r in zip(projects, results)]


# --- shrinking ------------------------------------------------------------------------------------


def _simpler_nodes(node: Node) -> Iterable[Node]:
    """Smaller or plainer variants of one node, most aggressive first."""
    if node.child is not None:
        if node.kind not in ("func", "special", "class-body") or not _has(node.child, "early-exit"):
            yield node.child  # unwrap (a function's body moves to the enclosing block)
        if node.child.kind not in ("payload", "dep", "pass"):
            yield Node(node.kind, node.arg, Node("payload", "from"), node.where)  # drop the middle
        for smaller in _simpler_nodes(node.child):
            yield Node(node.kind, node.arg, smaller, node.where)
        if node.where == "next":
            yield Node(node.kind, node.arg, node.child, "here")
    if node.kind == "payload" and node.arg != "from":
        yield Node("payload", "from")
    if node.kind == "dep":
        yield Node("payload", "from")


def _has(node: Node | None, kind: str) -> bool:
    return node is not None and (node.kind == kind or _has(node.child, kind))


def _candidates(project: Project) -> Iterable[Project]:
    modules = list(project.modules)
    for i in range(len(modules)):  # drop a module nobody depends on
        rest = modules[:i] + modules[i + 1:]
        if rest and not any(_uses(m, modules[i].index) for m in rest):
            yield Project(tuple(rest))
    for i, module in enumerate(modules):
        for j in range(len(module.items)):
            if len(module.items) > 1:
                yield _replace(project, i, module.items[:j] + module.items[j + 1:], module.future)
        for j, item in enumerate(module.items):
            for simpler in _simpler_nodes(item):
                yield _replace(project, i, module.items[:j] + (simpler,) + module.items[j + 1:], module.future)
        if module.future:
            yield _replace(project, i, module.items, False)


def _uses(module: Module, index: int) -> bool:
    def walk(node: Node | None) -> bool:
        return node is not None and ((node.kind == "dep" and node.arg == str(index)) or walk(node.child))
    return any(walk(item) for item in module.items)


def _replace(project: Project, i: int, items: tuple[Node, ...], future: bool) -> Project:
    modules = list(project.modules)
    modules[i] = Module(modules[i].index, items, future)
    return Project(tuple(modules))


def _size(project: Project) -> int:
    def count(node: Node | None) -> int:
        if node is None:
            return 0
        plainer = (node.kind == "payload" and node.arg != "from") + (node.kind == "dep") + (node.where == "next")
        return 1 + plainer + count(node.child)
    return sum(1 + sum(count(i) for i in m.items) + m.future for m in project.modules)


def shrink(project: Project, still_fails: Callable[[Project], bool], budget: int = 60) -> Project:
    """Greedy: take the first candidate that still fails, until none does or the budget is spent."""
    seen: set[Project] = set()
    current = project
    while budget > 0:
        for candidate in _candidates(current):
            if candidate in seen or _size(candidate) >= _size(current):
                continue
            seen.add(candidate)
            budget -= 1
            if still_fails(candidate):
                current = candidate
                break
            if budget <= 0:
                break
        else:
            break
    return current


STRENGTH = ("break-plan", "break-check", "load")


def failure_key(result: ProjectResult) -> str | None:
    """The strongest kind of under-report a project shows (a shrunk project must keep it)."""
    kinds = {kind for m in result.under for kind in m.under}
    return next((k for k in STRENGTH if k in kinds), None)


def family(project: Project) -> str:
    """A minimised counterexample's construct family: its items' shapes, module numbers kept."""
    number = {m.index: i for i, m in enumerate(project.modules)}
    return " + ".join(f"m{number[m.index]}:{item.shape()}" for m in project.modules for item in m.items)


def save_case(directory: Path, result: ProjectResult, reason: str, shapes: Iterable[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in result.files.items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    expected = {"python": result.expected(), "under": {m.module: list(m.under) for m in result.under},
                "reason": reason, "shapes": list(shapes)}
    (directory / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n", encoding="utf-8")
