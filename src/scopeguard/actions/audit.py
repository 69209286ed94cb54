"""The S0 readiness audit of one scope: TVM's admission criteria as a checklist, each with a verdict
and the evidence for it, and the minimal guard plan.

The criteria (TVM's process RFC): (1) isolated in its own namespace, (2) needed by some users,
(3) no disruptive change to the rest of the codebase, (4) easily deprecated by removing its
namespace, (5) can be turned off through a feature toggle; and changes touching existing modules
are discussed separately (`--diff`: SG501/SG502).

Nothing here finds anything new: the evidence is the rules' findings for the scope, the deletion
plan, the build facts and the import graph. What this module adds is the verdict per criterion
(soundly: anything not shown to hold is "fails" or "unknown", never "holds") and the guard plan,
a minimum cut of the import-time graph between the project's top-level packages and the scope.
networkx runs that cut and is imported only inside `guard_plan` (never on `check`'s path).

Pure: reads the Project and the findings it is given; words nothing a report shows beyond the
one-line summaries of the criteria.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..collect import buildopts
from ..analysis import DeletionPlan, Project
from ..analysis.graph import ImportGraph
from ..base.model import MAIN, TYPE_CHECKING, Execution, Guard, ImportSite, Scope, SiteKind, UnresolvedReason, Violation


class Verdict(str, enum.Enum):
    HOLDS = "holds"
    FAILS = "fails"
    UNKNOWN = "unknown"  # the facts cannot tell (unparsed files, dynamic imports, an unknown deletion verdict)
    NOT_CHECKABLE = "not checkable"  # no static fact answers it (needed by users)
    NOT_RUN = "not run"  # needs an input that was not given (--diff)


# The criteria, in the RFC's order: (key, title).
CRITERIA = (
    ("isolated", "Clearly isolated in its own namespace"),
    ("needed", "Clearly needed by some users"),
    ("no_disruption", "No disruptive change to the rest of the codebase"),
    ("deprecatable", "Easily deprecated by removing its namespace"),
    ("toggle", "Can be turned off through a feature toggle"),
    ("change_isolation", "Changes touching existing modules are discussed separately"),
)
TITLES = dict(CRITERIA)

# Outside code reaching into the scope, by kind: finding code -> kind.
KIND_OF_CODE = {
    "SG201": "import-time",
    "SG202": "lazy",
    "SG203": "type-only",
    "SG204": "optional",
    "SG205": "dynamic",
    "SG207": "registry",
    "SG403": "wrong-toggle",
}
KINDS = ("import-time", "lazy", "optional", "type-only", "dynamic", "registry", "wrong-toggle")
ISOLATION_CODES = ("SG101", "SG102", "SG103")
UNKNOWN_CODES = ("SG206", "SG208")  # dynamic imports that may load the scope: cannot be told
CHANGE_CODES = ("SG501", "SG502")


@dataclass(frozen=True, slots=True)
class Item:
    """One piece of evidence: a finding or a site, at path:line."""

    kind: str  # a finding's code, or what the site is (e.g. "import-time", "cmake-option")
    path: str
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Criterion:
    key: str
    verdict: Verdict
    summary: str  # one line
    items: tuple[Item, ...] = ()

    @property
    def title(self) -> str:
        return TITLES[self.key]

    @property
    def checkable(self) -> bool:
        return self.verdict not in (Verdict.NOT_CHECKABLE, Verdict.NOT_RUN)


@dataclass(frozen=True, slots=True)
class Statement:
    """One import statement of a guard plan: the line to put behind the scope's toggle."""

    path: str
    line: int
    importer: str
    text: str
    loads: tuple[str, ...]  # the project modules it loads directly
    also_on_line: tuple[str, ...] = ()  # other names the same line imports: split the line to guard only this


@dataclass(frozen=True, slots=True)
class GuardPlan:
    """The smallest set of import statements that, guarded by the scope's toggle, stop `import
    <root>` from loading the scope with the toggle off (a minimum cut; ties broken towards the
    scope). ``cuttable`` is False when no set of statements does it (a chain of package links only).
    """

    statements: tuple[Statement, ...]
    loaded_before: bool  # `import <root>` loads the scope today (with the toggle off)
    cuttable: bool
    verified: bool  # re-running the reachability with the plan's lines guarded: the scope is not loaded
    chokepoints: tuple[str, ...]  # outside modules every loading chain passes through, root first
    also_unloads: tuple[str, ...]  # outside modules `import <root>` stops loading too (lines others need)
    every_module: tuple[Statement, ...]  # more lines to guard so that no outside module loads it on its own
    direct: int  # import statements of the scope in outside modules that run with the toggle off


@dataclass(frozen=True, slots=True)
class Switch:
    toggle: str | None
    cmake: bool  # the project has CMake files
    options: tuple[Item, ...]  # CMake options named as the toggle's spellings
    environment: tuple[Item, ...]  # environment variables named so, read or set by the code


@dataclass(frozen=True, slots=True)
class ScopeAudit:
    scope: Scope
    registered: bool
    criteria: tuple[Criterion, ...]
    files: int
    lines: int
    kinds: dict  # kind -> count of outside sites reaching in (KINDS order)
    guarded: int  # outside imports of the scope behind its toggle (fine)
    deletion: DeletionPlan
    switch: Switch
    root_chain: tuple[str, ...]  # a shortest chain by which `import <root>` loads the scope; () if none
    plan: GuardPlan

    @property
    def holds(self) -> bool:
        """Every checkable criterion holds."""
        return all(c.verdict is Verdict.HOLDS for c in self.criteria if c.checkable)

    def criterion(self, key: str) -> Criterion:
        return next(c for c in self.criteria if c.key == key)


def audit_scope(
    project: Project,
    scope: Scope,
    findings: Sequence[Violation],
    deletion: DeletionPlan,
    *,
    registered: bool = True,
    sizes: dict[str, int] | None = None,
    change_findings: Sequence[Violation] | None = None,
) -> ScopeAudit:
    """The checklist for `scope`. `findings` are the tree rules' findings of the project (all
    scopes); `deletion` the scope's deletion plan; `sizes` path -> line count of the scope's files;
    `change_findings` the SG5xx findings of `--diff` (None: not run)."""
    graph = project.graph
    sizes = sizes or {}
    mine = [v for v in findings if _concerns(project, scope, v)]
    unparsed_in = [f for f in graph.files.values() if f.error is not None and _owned(project, scope, f)]
    unparsed_out = [f for f in graph.files.values() if f.error is not None and not _owned(project, scope, f)]

    # (1) isolated
    isolation = [v for v in mine if v.code in ISOLATION_CODES]
    files = len(deletion.deleted_paths)
    lines = sum(sizes.get(p, 0) for p in deletion.deleted_paths)
    items = [_item(v) for v in isolation] + _unparsed(unparsed_in)
    if isolation:
        isolated = Criterion("isolated", Verdict.FAILS, f"{len(isolation)} finding(s) of SG1xx; {files} file(s), {lines} line(s)", tuple(items))
    elif unparsed_in:
        isolated = Criterion("isolated", Verdict.UNKNOWN, f"{len(unparsed_in)} file(s) of the scope could not be parsed", tuple(items))
    else:
        isolated = Criterion("isolated", Verdict.HOLDS, f"own namespace: {files} file(s), {lines} line(s); no SG1xx finding")

    # (2) needed by users
    needed = Criterion("needed", Verdict.NOT_CHECKABLE,
                       "not checkable from the code: the RFC's champion and reviewers judge it")

    # (3) no disruptive change
    reaching = [v for v in mine if v.code in KIND_OF_CODE]
    unknown = [v for v in findings if v.code in UNKNOWN_CODES and (v.scope == scope.name or (v.code == "SG208" and not v.scope))]
    kinds = {kind: 0 for kind in KINDS}
    for v in reaching:
        kinds[KIND_OF_CODE[v.code]] += 1
    guarded = sum(1 for e, s, verdict in project.outside_imports() if s.name == scope.name and verdict.name == "TOGGLE")
    items = [Item(KIND_OF_CODE[v.code], v.path, v.line, v.message) for v in reaching]
    items += [Item(v.code, v.path, v.line, v.message) for v in unknown]
    items += _unparsed(unparsed_out)
    counted = ", ".join(f"{n} {k}" for k, n in kinds.items() if n)
    if reaching:
        disruption = Criterion("no_disruption", Verdict.FAILS, f"outside code reaches in without the toggle: {counted}", tuple(items))
    elif unknown or unparsed_out:
        why = f"{len(unknown)} dynamic import(s) may load it" if unknown else f"{len(unparsed_out)} file(s) outside could not be parsed"
        disruption = Criterion("no_disruption", Verdict.UNKNOWN, why, tuple(items))
    else:
        disruption = Criterion("no_disruption", Verdict.HOLDS,
                               f"outside code reaches in only through the toggle ({guarded} guarded import(s))")

    # (4) easily deprecated
    deprecatable = _deprecation(deletion)

    # (5) turned off by a toggle
    switch = _switch(project, scope)
    chain = root_chain(graph, scope)
    plan = guard_plan(graph, scope)
    toggle = _toggle(project, scope, switch, chain, plan, unparsed_out)

    # change isolation
    if change_findings is None:
        change = Criterion("change_isolation", Verdict.NOT_RUN, "not checked: give --diff BASE to judge a change")
    else:
        found = [v for v in change_findings if v.code in CHANGE_CODES and (v.scope == scope.name or scope.name in v.message)]
        if found:
            change = Criterion("change_isolation", Verdict.FAILS, f"{len(found)} finding(s) of SG5xx",
                               tuple(_item(v) for v in found))
        else:
            change = Criterion("change_isolation", Verdict.HOLDS, "the change keeps edits to existing modules apart")

    return ScopeAudit(scope, registered, (isolated, needed, disruption, deprecatable, toggle, change), files, lines,
                      kinds, guarded, deletion, switch, chain, plan)


def _unparsed(files) -> list[Item]:
    """Files whose facts are missing: what they import is unknown."""
    return [Item("SG001", f.path, 1, "could not be parsed, so what it imports is unknown") for f in files]


def _item(v: Violation) -> Item:
    return Item(v.code, v.path, v.line, v.message)


def _owned(project: Project, scope: Scope, facts) -> bool:
    owner = project.owner(facts)
    return owner is not None and owner.name == scope.name


def _concerns(project: Project, scope: Scope, v: Violation) -> bool:
    """A finding about this scope: SG101 by the importing scope (its own isolation), others by the
    scope they name."""
    if v.code == "SG101":
        facts = project.graph.files.get(v.importer)
        return facts is not None and _owned(project, scope, facts)
    return v.scope == scope.name


def _deprecation(plan: DeletionPlan) -> Criterion:
    """Read the plan defensively: a verdict other than clean (e.g. "unknown") never holds."""
    verdict = getattr(plan, "verdict", None)
    verdict = str(getattr(verdict, "value", verdict) or "").lower()
    unknown_items = tuple(getattr(plan, "unknown", ()) or ())
    items = [Item("broken", b.path, b.line, " -> ".join(b.chain) + " (deleted)") for b in plan.broken]
    items += [Item("lazy", x.path, x.line, f"{x.importer} imports {x.imported}") for x in plan.lazy]
    items += [Item("edit", r.path, r.line, f"{r.text}: {r.why}") for r in plan.references]
    for u in unknown_items:
        items.append(Item("unknown", getattr(u, "path", ""), getattr(u, "line", 0), getattr(u, "text", str(u))))
    summary = (f"deleting {len(plan.deleted_paths)} file(s): {len(plan.broken)} break at import time, "
               f"{len(plan.lazy)} call(s) break later, {len(plan.references)} edit(s) elsewhere")
    if "unknown" in verdict or (unknown_items and plan.clean):
        return Criterion("deprecatable", Verdict.UNKNOWN, summary + "; the deletion's outcome is unknown", tuple(items))
    if plan.clean and verdict in ("", "clean"):
        tidy = f" ({len(plan.guarded)} guarded import(s) to tidy)" if plan.guarded else ""
        return Criterion("deprecatable", Verdict.HOLDS, summary + tidy, tuple(items))
    return Criterion("deprecatable", Verdict.FAILS, summary, tuple(items))


def _switch(project: Project, scope: Scope) -> Switch:
    toggle = project.config.toggle(scope.toggle) if scope.toggle else None
    build = project.build
    cmake = bool(build and build.cmake)
    if toggle is None:
        return Switch(scope.toggle, cmake, (), ())
    options = buildopts.options(build) if build is not None else []
    environment = buildopts.environment_variables(project.graph.files.values())
    found, variables = buildopts.backing(toggle, options, environment)
    return Switch(
        toggle.name,
        cmake,
        tuple(Item("cmake-option", o.path, o.line, o.name) for o in found),
        tuple(Item("environment", path, line, name) for name in variables for path, line in environment[name]),
    )


def _toggle(project, scope, switch: Switch, chain, plan: GuardPlan, unparsed_out) -> Criterion:
    if scope.toggle is None:
        return Criterion("toggle", Verdict.FAILS, "no toggle: the scope cannot be turned off")
    items = [*switch.options, *switch.environment]
    if chain:
        site = _entry_site(project.graph, scope, chain)
        items.insert(0, Item("root-loads", site[0], site[1], " -> ".join(chain)))
        lines = ", ".join(f"{s.path}:{s.line}" for s in plan.statements) or "none found"
        return Criterion("toggle", Verdict.FAILS,
                         f"`import {chain[0]}` loads the scope with toggle {scope.toggle} off; guard plan: {lines}",
                         tuple(items))
    if switch.cmake and not (switch.options or switch.environment):
        return Criterion("toggle", Verdict.FAILS,
                         f"toggle {scope.toggle} has no CMake option or environment variable behind it (SG404)",
                         tuple(items))
    inside = _toggle_inside(project, scope)
    if inside:
        items = [*inside, *items]
        return Criterion("toggle", Verdict.FAILS,
                         f"toggle {scope.toggle} is read from inside the scope ({inside[0].text}): importing the "
                         "switch loads the scope, and deleting the scope deletes the switch; define it outside "
                         "the scope (where the project keeps its build options)", tuple(items))
    maybe = dynamic_loads(project, scope)
    if maybe or unparsed_out:
        items += maybe + _unparsed(unparsed_out)
        why = (f"{len(maybe)} dynamic import(s) run at import time and may load it" if maybe
               else f"{len(unparsed_out)} file(s) outside could not be parsed")
        return Criterion("toggle", Verdict.UNKNOWN, f"toggle {scope.toggle}; not loaded by a static import, but {why}",
                         tuple(items))
    names = [f"CMake option {i.text}" for i in switch.options]
    names += [f"environment variable {name}" for name in dict.fromkeys(i.text for i in switch.environment)]
    how = ("switch: " + ", ".join(names)) if names else \
        "no CMake option or environment variable behind it; the project has no CMake files, so a constant in the code is its build configuration"
    return Criterion("toggle", Verdict.HOLDS, f"toggle {scope.toggle} ({how}); `import <root>` does not load the scope",
                     tuple(items))


def _toggle_inside(project, scope: Scope) -> list[Item]:
    """Where code outside the scope takes the scope's toggle from a module inside it
    (`from tvm.contrib.msc.config import USE_MSC`, or a spelling `tvm.contrib.msc.USE_MSC`)."""
    toggle = project.config.toggle(scope.toggle)
    if toggle is None:
        return []
    spellings = {*toggle.on_when_true, *toggle.on_when_false}
    found = [Item("toggle-inside", "", 0, f"spelling {name}") for name in sorted(spellings)
             if scope.contains(name.rpartition(".")[0])]
    for facts in project.graph.files.values():
        if scope.contains(facts.module) and not facts.extra:
            continue
        for site in facts.sites:
            if site.kind is SiteKind.FROM and site.name in spellings and scope.contains(site.target):
                found.append(Item("toggle-inside", facts.path, site.line, f"from {site.target} import {site.name}"))
    return found


def _entry_site(graph: ImportGraph, scope: Scope, chain) -> tuple[str, int]:
    importer, entered = chain[-2], chain[-1]
    facts = graph.files.get(importer)
    sites = graph.sites_between(importer, entered, lambda s: runs_toggle_off(s, scope))
    if facts is None or not sites:
        return (facts.path if facts else importer, 0)
    return facts.path, min(s.line for s in sites)


def runs_toggle_off(site: ImportSite, scope: Scope) -> bool:
    """The site runs at import time with the scope's toggle off (optional imports run; so do imports
    behind other toggles, on by default) — what SG402 follows."""
    return site.execution is Execution.IMPORT and not (scope.toggle and site.state_required(scope.toggle) is True)


def roots(graph: ImportGraph, scope: Scope) -> list[str]:
    return sorted(m for m in graph.modules if "." not in m and not scope.contains(m))


def loaded(graph: ImportGraph, scope: Scope, guarded: Iterable[tuple[str, str, int]] = ()) -> dict[str, list[str]]:
    """node -> a shortest chain from a top-level package that loads it at import time with the
    toggle off, treating the import statements `guarded` ((importer, imported, line)) as guarded by
    the toggle. Nodes inside the scope end the chains (entering it is enough)."""
    guarded = set(guarded)

    def follow(source, target, link) -> bool:
        if scope.contains(source):
            return False
        return link.parent or any(runs_toggle_off(s, scope) and (source, target, s.line) not in guarded
                                  for s in link.sites)

    found: dict[str, list[str]] = {}
    for root in roots(graph, scope):
        for node, path in graph.links.shortest_paths(root, follow).items():
            if node not in found or (len(path), path) < (len(found[node]), found[node]):
                found[node] = path
    return found


def root_chain(graph: ImportGraph, scope: Scope, guarded: Iterable[tuple[str, str, int]] = ()) -> tuple[str, ...]:
    """The shortest chain by which `import <root>` loads the scope with its toggle off; () if none."""
    chains = [path for node, path in loaded(graph, scope, guarded).items() if scope.contains(node)]
    return tuple(min(chains, key=lambda p: (len(p), p))) if chains else ()


def _running(graph: ImportGraph, scope: Scope) -> dict[tuple[str, str], dict[int, list[ImportSite]]]:
    """(importer, imported) -> line -> the sites of the import statements on that line that run at
    import time with the toggle off. Links out of the scope are left out: entering it is enough."""
    found: dict[tuple[str, str], dict[int, list[ImportSite]]] = {}
    for source, target, link in graph.links.edges():
        if scope.contains(source):
            continue
        for site in link.sites:
            if runs_toggle_off(site, scope):
                found.setdefault((source, target), {}).setdefault(site.line, []).append(site)
    return found


def _statement(graph: ImportGraph, importer: str, line: int, sites: list[ImportSite], loads) -> Statement:
    facts = graph.files.get(importer)
    names: dict[str, list[str]] = {}
    text = []
    for site in sites:
        if site.kind is SiteKind.DYNAMIC:
            text.append(f'importlib.import_module("{site.dotted}")')
        elif site.name is None:
            text.append(f"import {site.target}")
        else:
            names.setdefault(site.target, []).append(site.name)
    text += [f"from {t} import {', '.join(dict.fromkeys(n))}" for t, n in names.items()]
    mine = set(sites)
    others = tuple(dict.fromkeys(s.dotted for s in (facts.sites if facts else ()) if s.line == line and s not in mine))
    return Statement(facts.path if facts else importer, line, importer, "; ".join(dict.fromkeys(text)),
                     tuple(sorted(set(loads))), others)


def _statements(graph: ImportGraph, running, keys: Iterable[tuple[str, str]]) -> tuple[Statement, ...]:
    """The statements on the links `keys`, one per (importer, line), in path and line order."""
    lines: dict[tuple[str, int], tuple[list[ImportSite], set[str]]] = {}
    for importer, imported in keys:
        for line, sites in running[(importer, imported)].items():
            entry = lines.setdefault((importer, line), ([], set()))
            entry[0].extend(sites)
            entry[1].add(imported)
    found = [_statement(graph, importer, line, sites, loads) for (importer, line), (sites, loads) in lines.items()]
    return tuple(sorted(found, key=lambda s: (s.path, s.line)))


def guard_plan(graph: ImportGraph, scope: Scope) -> GuardPlan:
    """The minimal guard plan: a minimum cut between the top-level packages and the scope in the
    import-time graph with the toggle off, each link's capacity the number of import statements
    that make it (each is a line to guard); package links (`a.b` runs `a` first) cannot be cut.
    Of the minimum cuts, the one nearest the scope is taken: it guards the lines that load the
    scope rather than lines that load other code on the way."""
    import networkx as nx
    from networkx.algorithms.flow import edmonds_karp

    running = _running(graph, scope)
    source, sink = ("<roots>",), ("<scope>",)
    net = nx.DiGraph()
    for a, b, link in graph.links.edges():
        if scope.contains(a):
            continue
        if link.parent:
            net.add_edge(a, b)  # no capacity: infinite
        elif (a, b) in running:
            net.add_edge(a, b, capacity=len(running[(a, b)]))
    for root in roots(graph, scope):
        net.add_edge(source, root)
    for node in list(net.nodes):
        if isinstance(node, str) and scope.contains(node):
            net.add_edge(node, sink)
    crossing = sorted(key for key in running
                      if scope.contains(key[1]) and key[0] in graph.files and not graph.files[key[0]].extra)
    direct = sum(len(running[key]) for key in crossing)
    before = loaded(graph, scope)
    if not any(scope.contains(n) for n in before) or sink not in net:
        return GuardPlan((), False, True, True, (), (), _statements(graph, running, crossing), direct)
    residual = edmonds_karp(net, source, sink)
    if residual.graph["flow_value"] >= residual.graph["inf"]:
        return GuardPlan((), True, False, False, _chokepoints(net, source, sink, scope), (),
                         _statements(graph, running, crossing), direct)
    # The sink side: nodes that still reach the sink in the residual graph; the cut is the links
    # into it from the rest (all saturated: their capacities sum to the flow).
    sink_side = {sink}
    stack = [sink]
    while stack:
        v = stack.pop()
        for u, data in residual.pred[v].items():
            if u not in sink_side and data["capacity"] - data["flow"] > 0:
                sink_side.add(u)
                stack.append(u)
    cut = sorted((a, b) for a, b in net.edges if a not in sink_side and b in sink_side)
    guarded = {(a, b, line) for a, b in cut for line in running[(a, b)]}
    after = loaded(graph, scope, guarded=guarded)
    verified = not any(scope.contains(n) for n in after)
    also = tuple(sorted(n for n in before if n not in after and not scope.contains(n)))
    planned = {(a, line) for a, b, line in guarded}
    every = tuple(s for s in _statements(graph, running, crossing) if (s.importer, s.line) not in planned)
    return GuardPlan(_statements(graph, running, cut), True, True, verified, _chokepoints(net, source, sink, scope),
                     also, every, direct)


def _chokepoints(net, source, sink, scope: Scope) -> tuple[str, ...]:
    """Outside modules (not top-level packages) on every chain from the roots to the scope: the
    dominators of the scope in the import-time graph, root first."""
    import networkx as nx

    idom = nx.immediate_dominators(net, source)
    if sink not in idom:
        return ()
    found = []
    node = idom[sink]
    while node != source:
        if isinstance(node, str) and "." in node and not scope.contains(node):
            found.append(node)
        node = idom[node]
    return tuple(reversed(found))


def dynamic_loads(project: Project, scope: Scope) -> list[Item]:
    """Dynamic imports whose target is not known and that may load the scope, at import time with
    the toggle off, in outside modules `import <root>` loads: they may load it; no import says so."""
    graph = project.graph
    reached = loaded(graph, scope)
    found = []
    for node in reached:
        facts = graph.files.get(node)
        if facts is None or facts.extra or _owned(project, scope, facts):
            continue
        for item in facts.unresolved:
            if item.reason in (UnresolvedReason.BEYOND_ROOT, UnresolvedReason.INSTALLS_HOOK):
                continue
            if item.prefix and not scope.may_contain(item.prefix):
                continue
            if not _runs_at_import(item.guards, scope.toggle):
                continue
            found.append(Item("dynamic", facts.path, item.line, item.text))
    return sorted(found, key=lambda i: (i.path, i.line))


def _runs_at_import(guards: tuple[Guard, ...], toggle: str | None) -> bool:
    def state(name: str):
        for guard in guards:
            for known, value in guard.knowledge:
                if known == name:
                    return value
        return None

    if state(TYPE_CHECKING) is True or state(MAIN) is True:
        return False
    if any(g.kind.name == "FUNCTION" for g in guards):
        return False
    return not (toggle and state(toggle) is True)
