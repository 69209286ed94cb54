"""ImportGraph + config + violations -> View: the picture every output format draws.

The view is built in plain Python from the graph's import edges. Steps, in order: classify every import site (how it is guarded, seen from the module it
imports), collapse modules to packages (`depth`), group sites into one edge per (importer, imported,
kind), then narrow: only edges that cross a scope boundary (`boundary`), and/or one scope and its
neighbours (`focus`, `hops`), and/or the modules a scope's deletion breaks (`blast radius`).

Besides imports the view draws the couplings no import statement shows (issue 7): registry lookups
and registrations of a scope's names, and monkeypatches across a scope boundary. Each is an edge
kind of its own, found with the same owner logic as the rules that report them (SG207, SG102,
SG103), so that a violation marks its edge; the narrowing steps treat them like import edges.

Collapsing never merges code of two scopes, nor scope code with outside code: a module inside a
scope collapses at most to the scope itself, so clusters stay exact at any depth.
"""

from __future__ import annotations

import difflib
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ...analysis import Verdict, classify, owner
from ...analysis.registry import name_owner, registry_name
from ...base.digraph import Digraph
from ...analysis.graph import ImportGraph
from ...base.model import (
    Config,
    Execution,
    FileFacts,
    Guarded,
    NameReference,
    Patch,
    ReferenceKind,
    Scope,
    SiteKind,
    UnknownScope,
    Violation,
)
from ...base.paths import under


class EdgeKind(enum.Enum):
    """What an edge stands for.

    The first six are imports, by how they run, from the worst (unguarded at import time) to the
    harmless (type-only). For an import of a scope this is `core.classify`'s verdict; for an
    import of outside code the same questions are asked with "any toggle" in place of "the scope's
    toggle". The last three are couplings without an import statement; how each of their sites is
    guarded is kept on the site (`Site.guard`), in the same terms.
    """

    IMPORT = "import"
    LAZY = "lazy"
    OPTIONAL = "optional"
    OTHER_TOGGLE = "other-toggle"
    TOGGLE = "toggle"
    TYPE = "type"
    REGISTRY_LOOKUP = "registry-lookup"
    REGISTRY_REGISTRATION = "registry-registration"
    MONKEYPATCH = "monkeypatch"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    @property
    def description(self) -> str:
        return _KIND_DESCRIPTIONS[self]

    @property
    def coupling(self) -> bool:
        """Not an import statement: a registry name or a monkeypatch."""
        return self in COUPLING_KINDS


_KIND_LABELS = {
    EdgeKind.IMPORT: "unguarded, import time",
    EdgeKind.LAZY: "lazy (inside a function)",
    EdgeKind.OPTIONAL: "try/except ImportError",
    EdgeKind.OTHER_TOGGLE: "behind another toggle",
    EdgeKind.TOGGLE: "behind the toggle",
    EdgeKind.TYPE: "TYPE_CHECKING only",
    EdgeKind.REGISTRY_LOOKUP: "registry lookup",
    EdgeKind.REGISTRY_REGISTRATION: "registry registration",
    EdgeKind.MONKEYPATCH: "monkeypatch",
}
_KIND_DESCRIPTIONS = {
    EdgeKind.IMPORT: "runs whenever the importer is imported, with no guard",
    EdgeKind.LAZY: "runs when an enclosing function is called, with no guard",
    EdgeKind.OPTIONAL: "a failed import is caught (try/except ImportError); no toggle",
    EdgeKind.OTHER_TOGGLE: "runs only while a toggle is on, but not the imported scope's own toggle",
    EdgeKind.TOGGLE: "runs only while the imported scope's toggle is on (outside scopes: any toggle)",
    EdgeKind.TYPE: "never runs: under `if TYPE_CHECKING:`",
    EdgeKind.REGISTRY_LOOKUP: (
        "looks up a registry name the target scope owns (get_global_func, init_ffi_api): no import, "
        "fails at run time once the scope is off or deleted"
    ),
    EdgeKind.REGISTRY_REGISTRATION: (
        "registers a name under the target scope's registry prefixes (register_global_func, register_object)"
    ),
    EdgeKind.MONKEYPATCH: "sets or deletes an attribute of the target module (or of a class in it) across a scope boundary",
}
COUPLING_KINDS = frozenset({EdgeKind.REGISTRY_LOOKUP, EdgeKind.REGISTRY_REGISTRATION, EdgeKind.MONKEYPATCH})


def site_kind(site: Guarded, scope: Scope | None) -> EdgeKind:
    """How one site is guarded, `scope` being the scope of what it reaches: the edge kind of an
    import site, the `guard` of a coupling site (import sites, name references and patches share
    their guard analysis)."""
    if scope is not None:
        verdict = classify(site, scope)
        kind = {
            Verdict.TYPE: EdgeKind.TYPE,
            Verdict.TOGGLE: EdgeKind.TOGGLE,
            Verdict.OPTIONAL: EdgeKind.OPTIONAL,
            Verdict.WRONG_TOGGLE: EdgeKind.OTHER_TOGGLE,
        }.get(verdict)
        if kind is not None:
            return kind
    elif site.execution is Execution.NEVER:
        return EdgeKind.TYPE
    elif site.toggles_required_on:
        return EdgeKind.TOGGLE
    elif site.is_optional:
        return EdgeKind.OPTIONAL
    return EdgeKind.LAZY if site.execution is Execution.CALL else EdgeKind.IMPORT


@dataclass(frozen=True)
class Site:
    """One import statement (or coupling) behind an edge, with the codes of the violations reported there."""

    path: str
    line: int
    column: int
    importer: str  # the importing module (or path of an extra-root file), before collapsing
    imported: str  # the imported module (a coupling: the owning scope or patched module), before collapsing
    # What the statement names, e.g. `tvm.contrib.msc.core`; for a coupling the registry name as
    # written (ending in `*` when only its start is known or it stands for a namespace) or the
    # patched attribute (`tvm.ir.Op.hook`).
    statement: str
    kind: EdgeKind
    dynamic: bool = False  # importlib.import_module / __import__ with a literal name
    violations: tuple[str, ...] = ()  # rule codes
    guard: EdgeKind | None = None  # a coupling site: how it runs, in import terms (None: as `kind`)
    via: str = ""  # a coupling site: the callee as written, or how a patch is made (assign, setattr, ...)

    @property
    def guarded_as(self) -> EdgeKind:
        return self.guard if self.guard is not None else self.kind


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    kind: str  # "module", "package" (collapsed), "file" (extra root), "folder" (collapsed files)
    scope: str | None
    files: int  # how many files the node stands for
    violations: tuple[Violation, ...] = ()  # reported in the files this node stands for


@dataclass(frozen=True)
class Edge:
    """All import sites (or coupling sites) of one kind from one node to another."""

    source: str
    target: str
    kind: EdgeKind
    sites: tuple[Site, ...]
    boundary: bool  # the two ends belong to different scopes (or one to none)

    @property
    def count(self) -> int:
        return len(self.sites)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(sorted({code for site in self.sites for code in site.violations}))

    @property
    def violating(self) -> bool:
        return any(site.violations for site in self.sites)

    @property
    def dynamic(self) -> int:
        """How many of the sites are dynamic imports (importlib.import_module / __import__)."""
        return sum(site.dynamic for site in self.sites)


@dataclass(frozen=True)
class Cluster:
    scope: str
    toggle: str | None
    nodes: tuple[str, ...]

    @property
    def title(self) -> str:
        """How every format labels the scope's box: `scope tvm.relax (toggle relax)`."""
        return f"scope {self.scope} ({'toggle ' + self.toggle if self.toggle else 'no toggle'})"


@dataclass(frozen=True)
class Options:
    """What the user asked for; recorded in outputs so a picture says how it was made."""

    depth: int | None = None
    focus: str | None = None
    hops: int = 1
    boundary: bool = False
    blast_radius: str | None = None


@dataclass(frozen=True)
class View:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    clusters: tuple[Cluster, ...]
    violations: tuple[Violation, ...]  # the violations of the files shown
    options: Options = field(default_factory=Options)
    title: str = "scopeguard graph"

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)


class ViewError(ValueError):
    """A view option that names nothing in the project (the message suggests the near miss)."""


def build_view(
    config: Config,
    graph,
    violations: Sequence[Violation] = (),
    options: Options = Options(),
    *,
    blast: Iterable[str] | None = None,
    title: str = "scopeguard graph",
) -> View:
    """The view of `graph` (an ImportGraph) that `options` ask for.

    `blast`, with `options.blast_radius`, is the set of graph nodes a deletion of that scope breaks
    (`blast_nodes(core.simulate_deletion(...))`): the view keeps the scope and those nodes only.
    """
    if options.depth is not None and options.depth < 1:
        raise ViewError(f"--depth must be at least 1, not {options.depth}")
    if options.hops < 0:
        raise ViewError(f"--hops must be 0 or more, not {options.hops}")
    facts_by_node: dict[str, FileFacts] = dict(graph.files)

    def scope_of(node: str) -> Scope | None:
        item = facts_by_node.get(node)
        return owner(config, item) if item is not None else config.scope_of(node)

    # A focused scope keeps one level of its own structure whatever --depth says: the point of
    # `--scope S --depth N` is to see S's parts against a collapsed rest of the tree.
    expanded = next((s for s in config.scopes if s.name == options.focus), None)

    def group(node: str) -> str:
        return _collapse(node, facts_by_node.get(node), scope_of(node), config, options.depth, expanded)

    # Every node of the graph, with its import and coupling sites on the edges, then collapsed:
    # namespace packages without a file count as zero files; sites inside one group are not drawn.
    by_site = _violations_by_site(violations)
    drawn: Digraph[str, list[Site]] = Digraph()
    for node in graph.nodes():
        drawn.add_node(node)
    for edge in graph.import_edges():
        kind = site_kind(edge.site, config.scope_of(edge.imported))
        codes = by_site.get((edge.importer, edge.site.line, edge.imported), ())
        _add_site(drawn, Site(
            edge.facts.path, edge.site.line, edge.site.column, edge.importer, edge.imported, edge.site.dotted,
            kind, edge.site.kind is SiteKind.DYNAMIC, codes,
        ))
    for site in coupling_sites(config, graph, by_site):
        _add_site(drawn, site)  # a scope with no module node gets one: draw it anyway
    members, collapsed = drawn.collapse(group)
    grouped: dict[tuple[str, str, EdgeKind], list[Site]] = defaultdict(list)
    for source, target, merged in collapsed.edges():
        for sites in merged:
            for site in sites:
                grouped[source, target, site.kind].append(site)

    node_scope = {name: _scope_name(scope_of(nodes[0])) for name, nodes in members.items()}
    edges = [
        Edge(source, target, kind, tuple(sorted(sites, key=_site_order)), node_scope[source] != node_scope[target])
        for (source, target, kind), sites in grouped.items()
    ]
    keep = set(members)
    if options.boundary:
        edges = [e for e in edges if e.boundary]
        keep = {n for e in edges for n in (e.source, e.target)}
    if options.focus is not None:
        focus = _focus_nodes(options.focus, config, members, node_scope)
        keep, edges = _neighbourhood(focus, edges, options.hops, keep)
    if options.blast_radius is not None:
        scope = _scope_named(options.blast_radius, config)
        broken = {group(node) for node in blast or ()}
        inside = {n for n in members if node_scope[n] == scope.name}
        keep &= inside | broken
        # The links along which the failure travels: from a broken module into the scope or into
        # another broken module (each edge still says by its kind whether it runs).
        edges = [e for e in edges if e.source in broken and e.target in keep]
    edges = [e for e in edges if e.source in keep and e.target in keep]
    if options.boundary or options.focus is not None:
        # A narrowed view shows what is connected; a lone node there is noise.
        linked = {n for e in edges for n in (e.source, e.target)}
        keep = {n for n in keep if n in linked or (options.focus and _in_focus(n, options.focus, node_scope))}

    by_importer: dict[str, list[Violation]] = defaultdict(list)
    for violation in violations:
        by_importer[violation.importer].append(violation)
    nodes = []
    for name in sorted(keep):
        files = [m for m in members[name] if m in facts_by_node]
        found = tuple(sorted((v for m in members[name] for v in by_importer.get(m, ())), key=lambda v: v.sort_key))
        nodes.append(Node(name, name, _node_kind(name, members[name], facts_by_node), node_scope[name], len(files), found))
    clusters = tuple(
        Cluster(scope.name, scope.toggle, tuple(n.id for n in nodes if n.scope == scope.name))
        for scope in config.scopes
        if any(n.scope == scope.name for n in nodes)
    )
    shown = tuple(v for n in nodes for v in n.violations)
    edges.sort(key=lambda e: (e.source, e.target, list(EdgeKind).index(e.kind)))
    return View(tuple(nodes), tuple(edges), clusters, tuple(sorted(shown, key=lambda v: v.sort_key)), options, title)


def coupling_sites(config: Config, graph: ImportGraph, by_site: dict[tuple[str, int, str], tuple[str, ...]] | None = None):
    """The couplings without an import statement, as sites from a graph node to a module.

    - a registry lookup (`get_global_func`, `init_ffi_api`) of a name a scope owns, from code
      outside that scope -> the scope's module (SG207 reports the unguarded ones);
    - a registration of a name another scope owns -> that scope's module (SG102 reports those made
      by scope code);
    - an attribute set or deleted on a project module, or a class in it, whose scope differs from
      the patching file's -> the patched module (SG103 reports those a scope makes at import time).

    Owners are decided as the rules decide them (`core.registry.name_owner`, longest prefix), so
    a violation at (file, line, name) finds its site.
    """
    by_site = by_site or {}
    modules = graph.modules
    for node, facts in sorted(graph.files.items()):
        mine = owner(config, facts)
        for reference in facts.references:
            if reference.kind in (ReferenceKind.LOOKUP, ReferenceKind.INIT_API):
                kind = EdgeKind.REGISTRY_LOOKUP
            elif reference.kind is ReferenceKind.REGISTER:
                kind = EdgeKind.REGISTRY_REGISTRATION
            else:
                continue
            owned = name_owner(config, registry_name(reference))
            if owned is None or (mine is not None and mine.name == owned[0].name):
                continue  # nobody's name, or the file's own scope's
            scope = owned[0]
            yield Site(
                facts.path, reference.line, reference.column, node, scope.name, _registry_shown(reference), kind,
                violations=by_site.get((node, reference.line, reference.text), ()),
                guard=site_kind(reference, scope), via=reference.call,
            )
        for patch in facts.patches:
            module = _patched_module(patch, modules)
            if module is None:
                continue
            patched_scope = config.scope_of(module)
            if _scope_name(mine) == _scope_name(patched_scope):
                continue  # within one scope, or outside code patching outside code
            yield Site(
                facts.path, patch.line, patch.column, node, module, patch.dotted, EdgeKind.MONKEYPATCH,
                violations=by_site.get((node, patch.line, patch.target), ()),
                guard=site_kind(patch, patched_scope), via=patch.how,
            )


def _add_site(drawn: Digraph[str, list[Site]], site: Site) -> None:
    sites = drawn.edge(site.importer, site.imported)
    if sites is None:
        drawn.add_edge(site.importer, site.imported, [site])
    else:
        sites.append(site)


def _registry_shown(reference: NameReference) -> str:
    """The registry name as the site shows it: `*` marks a name known by its start or a namespace."""
    if reference.kind is ReferenceKind.INIT_API:
        return reference.text + ".*"
    return reference.text + "*" if reference.is_prefix else reference.text


def _patched_module(patch: Patch, modules) -> str | None:
    """The project module a patch changes: the longest module prefix of its target (`tvm.ir.Op` -> `tvm.ir`)."""
    parts = patch.target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def blast_nodes(plan) -> set[str]:
    """The graph nodes a DeletionPlan breaks: at import time, or when one of their functions runs."""
    return {b.module for b in plan.broken} | {lazy.importer for lazy in plan.lazy}


def _collapse(
    node: str, facts: FileFacts | None, scope: Scope | None, config: Config, depth: int | None,
    expanded: Scope | None = None,
) -> str:
    """The node `node` is drawn as: its package at `depth`, never coarser than its scope, and one
    level below the scope when that scope is the one in focus (`expanded`)."""
    if depth is None:
        return node
    if facts is not None and facts.extra:
        return _collapse_path(facts.path, scope, config, depth)
    parts = node.split(".")
    keep = depth
    if scope is not None:
        keep = max(keep, scope.name.count(".") + (2 if expanded is not None and scope.name == expanded.name else 1))
    return ".".join(parts[:keep])


def _collapse_path(path: str, scope: Scope | None, config: Config, depth: int) -> str:
    """An extra-root file collapses to the folder `depth` levels below its root (as `tests/python/relax/`),
    or to the scope's extra path that holds it when that is deeper."""
    root = next((r.rstrip("/") for r in config.extra_roots if under(path, r) and path != r.rstrip("/")), "")
    rest = path[len(root) + 1 :].split("/") if root else path.split("/")
    if len(rest) <= depth:
        return path
    folder = "/".join(filter(None, [root, *rest[:depth]]))
    if scope is not None:
        for extra in scope.extra_paths:
            extra = extra.rstrip("/")
            if under(path, extra) and path != extra and len(extra) > len(folder):
                folder = extra
    return folder + "/"


def _node_kind(name: str, members: list[str], facts: dict[str, FileFacts]) -> str:
    if name.endswith("/"):
        return "folder"
    item = facts.get(name)
    if item is not None and item.extra:
        return "file"
    if members == [name]:
        return "module"
    return "package"


def _scope_name(scope: Scope | None) -> str | None:
    return scope.name if scope is not None else None


def _site_order(site: Site) -> tuple:
    return (site.path, site.line, site.column, site.imported, site.statement)


def _violations_by_site(violations: Iterable[Violation]) -> dict[tuple[str, int, str], tuple[str, ...]]:
    """Codes reported at (importer, line, imported): the key an import site is matched by (a
    coupling site by its registry name or patch target, which its rule reports as `imported`)."""
    found: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    for v in violations:
        if v.importer and v.imported:
            found[v.importer, v.line, v.imported].add(v.code)
    return {key: tuple(sorted(codes)) for key, codes in found.items()}


def _scope_named(name: str, config: Config) -> Scope:
    try:
        return config.scope_named(name)
    except UnknownScope as error:
        raise ViewError(f"--blast-radius {error}") from None


def _in_focus(node: str, focus: str, node_scope: dict[str, str | None]) -> bool:
    if node_scope.get(node) == focus:
        return True
    return node == focus or node.startswith(focus + ".")


def _focus_nodes(focus: str, config: Config, members: dict[str, list[str]], node_scope) -> set[str]:
    """The view nodes of a scope (its modules and its tests) or of any module prefix."""
    inside = {n for n in members if _in_focus(n, focus, node_scope)}
    if not inside:
        # Collapsed deeper than the node: `--scope tvm.relax.frontend --depth 2` focuses on tvm.relax.
        inside = {n for n, nodes in members.items() if any(_in_focus(m, focus, node_scope) for m in nodes)}
    if not inside:
        candidates = sorted({s.name for s in config.scopes} | {m for nodes in members.values() for m in nodes})
        near = difflib.get_close_matches(focus, candidates, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise ViewError(f"--scope {focus!r} names no scope or module of the project{hint}")
    return inside


def _neighbourhood(focus: set[str], edges: list[Edge], hops: int, allowed: set[str]) -> tuple[set[str], list[Edge]]:
    """Nodes within `hops` edges (imports or couplings) of `focus` (either direction), and the edges seen on the
    way: those with one end nearer than `hops`. Edges between two nodes on the horizon are left
    out, or a one-hop view would draw every import among the scope's neighbours."""
    drawn = Digraph.of(allowed, ((e.source, e.target) for e in edges))
    distance = drawn.within(focus, hops, allowed.__contains__)
    kept = [
        e for e in edges
        if e.source in distance and e.target in distance and min(distance[e.source], distance[e.target]) < max(hops, 1)
    ]
    return set(distance), kept


# -- narrowed views added for issue 17 (graph command: --inbound, --blast-radius chains) ----------


def _node_for(module: str, ids: set[str]) -> str | None:
    """The view node that stands for `module`: itself, or the deepest collapsed package holding it."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in ids:
            return candidate
    return module if module in ids else None


def inbound_only(view: View, focus: str) -> View:
    """Only what comes into `focus` (a scope or module prefix) from outside it: the edges into it,
    their two ends, and the focus node itself. The reviewer's question "who depends on
    this scope?" without what the scope itself imports."""
    inside = {n.id for n in view.nodes if n.scope == focus or n.id == focus or n.id.startswith(focus + ".")}
    if not inside:
        raise ViewError(f"--inbound: {focus!r} has no node in this view")
    edges = tuple(e for e in view.edges if e.target in inside and e.source not in inside)
    # The parts of the scope that something reaches, and the scope itself even when nothing does.
    keep = {n for e in edges for n in (e.source, e.target)} | ({focus} & inside)
    return _restricted(view, keep, edges)


def along_chains(view: View, chains) -> View:
    """Only the edges that lie on a breaking chain (`Breakage.chain`, `LazyBreak.chain`: module
    after module down to the deleted scope), so a blast-radius picture shows how the failure
    travels rather than every import among the broken modules."""
    ids = {n.id for n in view.nodes}
    pairs = set()
    for chain in chains:
        mapped = [_node_for(m, ids) for m in chain]
        for a, b in zip(mapped, mapped[1:]):
            if a is not None and b is not None and a != b:
                pairs.add((a, b))
    edges = tuple(e for e in view.edges if (e.source, e.target) in pairs)
    # The chains' nodes, and the scope itself even when nothing breaks (a clean deletion).
    keep = {n for e in edges for n in (e.source, e.target)} | {n.id for n in view.nodes if n.id == view.options.blast_radius}
    return _restricted(view, keep, edges)


def _restricted(view: View, keep: set[str], edges) -> View:
    nodes = tuple(n for n in view.nodes if n.id in keep)
    clusters = tuple(
        Cluster(c.scope, c.toggle, tuple(n for n in c.nodes if n in keep)) for c in view.clusters if any(n in keep for n in c.nodes)
    )
    shown = tuple(v for n in nodes for v in n.violations)
    return View(nodes, tuple(edges), clusters, tuple(sorted(shown, key=lambda v: v.sort_key)), view.options, view.title)
