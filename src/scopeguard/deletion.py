"""Simulate deleting a scope: which modules fail at import time, which calls break later, and what
else names the scope.

S0 promises that a scope "is easily deprecated by removing its namespace, with no modules that come
and depend on it". This module makes the promise checkable from the facts alone: it removes the
scope's modules and extra paths from the import graph and propagates failure backwards.

A module fails at import time when, with the scope's toggle off,
- it runs an import of a deleted module at module level that nothing protects (a guard by the
  scope's toggle, `try`/`except ImportError` and `TYPE_CHECKING` protect; a guard by another
  toggle does not, since that toggle is on by default), or
- it runs such an import of a module that fails (the ImportError travels up unchanged, so the same
  guards protect against it), or
- it lives inside a package that fails (importing `a.b` runs `a/__init__.py` first).

Each broken module comes with the shortest chain that breaks it, from the module to a deleted one.
Pure: no file is read here; packaging references are found by `packaging` and passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import Execution, FileFacts, ImportSite, Scope, SiteKind
from .rules.base import Project, Verdict, classify

if TYPE_CHECKING:
    from .graph import ImportGraph


@dataclass(frozen=True, slots=True)
class Breakage:
    """A module (or an extra-root file, named by path) that fails at import time once the scope is
    deleted. ``line``/``column`` locate the import that fails in it; 0 when it fails only because
    the package it lives in fails (importing it runs that package's `__init__.py` first).
    ``chain`` runs from ``module`` to the deleted module: ("tvm", "tvm.relax", "tvm.relax.training").
    """

    module: str
    path: str
    line: int
    column: int
    chain: tuple[str, ...]
    extra: bool = False

    @property
    def via_package(self) -> bool:
        return self.line == 0

    @property
    def direct(self) -> bool:
        """It imports a deleted module itself (as opposed to one that fails in turn)."""
        return len(self.chain) == 2 and not self.via_package


@dataclass(frozen=True, slots=True)
class LazyBreak:
    """An import inside a function (or under `if __name__ == "__main__":`) of a deleted or broken
    module, in a module that itself still imports: the call breaks later, not the import."""

    path: str
    line: int
    column: int
    importer: str
    imported: str
    chain: tuple[str, ...]  # from `imported` to the deleted module; just (imported,) when deleted


@dataclass(frozen=True, slots=True)
class Reference:
    """A place outside the deleted files that names the scope and needs an edit, though nothing
    fails at import time because of it (a guarded import, a packaging entry, a dotted string)."""

    path: str
    line: int
    text: str
    why: str


@dataclass(frozen=True, slots=True)
class DeletionPlan:
    scope: Scope
    deleted_modules: tuple[str, ...]  # modules with a file, inside the scope
    deleted_paths: tuple[str, ...]  # the Python files deleted: the scope's and its extra paths'
    broken: tuple[Breakage, ...]  # fail at import time; sorted by path
    lazy: tuple[LazyBreak, ...]
    references: tuple[Reference, ...]  # edits the deletion needs: packaging, dynamic imports, strings
    guarded: tuple[Reference, ...] = ()  # imports of the scope that survive (toggle, optional, type-only)
    toggles_off: tuple[str, ...] = ()  # the toggles assumed off (the scope's own first)

    @property
    def clean(self) -> bool:
        """Deleting the scope's files is all it takes: nothing breaks and nothing else needs an edit.
        Guarded imports left behind are dead code to tidy, not breakage."""
        return not (self.broken or self.lazy or self.references)

    def breakage(self, module: str) -> Breakage | None:
        return next((b for b in self.broken if b.module == module), None)


def simulate_deletion(
    project: Project,
    scope: Scope,
    *,
    toggles_off: Iterable[str] = (),
    references: Iterable[Reference] = (),
) -> DeletionPlan:
    """What deleting `scope` (its modules and extra paths) breaks, with the scope's toggle off.

    `toggles_off` names further toggles assumed off (imports that need them on do not run);
    `references` are found elsewhere (packaging files) and merged into the plan.
    """
    graph = project.graph
    off = tuple(dict.fromkeys([*([scope.toggle] if scope.toggle else []), *toggles_off]))
    deleted_files = [f for f in graph.files.values() if _deleted(project, scope, f)]
    deleted_nodes = {m for m in graph.modules if scope.contains(m)} | {f.node for f in deleted_files}

    def runs(site: ImportSite) -> bool:
        """The site runs with the `off` toggles off, and a failed import is not caught."""
        if not site.guards:
            return True  # most sites: nothing to work out (and this runs for every edge, per scope)
        if any(site.state_required(toggle) is True for toggle in off):
            return False
        return classify(site, scope) not in (Verdict.OPTIONAL, Verdict.TYPE)

    links = _import_time_links(graph, runs)
    nearest = _nearest_deleted(links, deleted_nodes)

    broken = []
    for node, (target, site) in nearest.items():
        facts = graph.files.get(node)
        if facts is None:
            continue  # a namespace package: nothing to run, but it passes failure on (kept in chains)
        chain = _chain(node, nearest)
        line, column = (site.line, site.column) if site is not None else (0, 0)
        broken.append(Breakage(node, facts.path, line, column, chain, facts.extra))
    broken.sort(key=lambda b: (b.path, b.line, b.module))

    failing = deleted_nodes | set(nearest)
    lazy = []
    for edge in graph.import_edges():
        if edge.importer in failing or edge.imported not in failing:
            continue
        if edge.site.execution is not Execution.CALL or not runs(edge.site):
            continue
        chain = (edge.imported,) if edge.imported in deleted_nodes else _chain(edge.imported, nearest)
        lazy.append(LazyBreak(edge.facts.path, edge.site.line, edge.site.column, edge.importer, edge.imported, chain))
    lazy.sort(key=lambda x: (x.path, x.line, x.column, x.imported))

    found = list(references)
    found += _unresolved_dynamic_imports(graph, scope, deleted_nodes)
    literal, literal_guarded = _literal_references(graph, scope, deleted_nodes, off)
    found += literal
    guarded = _surviving_imports(graph, scope, deleted_nodes, runs) + literal_guarded

    return DeletionPlan(
        scope=scope,
        deleted_modules=tuple(sorted(f.module for f in deleted_files if not f.extra and scope.contains(f.module))),
        deleted_paths=tuple(sorted(f.path for f in deleted_files)),
        broken=tuple(broken),
        lazy=tuple(lazy),
        references=_sorted(found),
        guarded=_sorted(guarded),
        toggles_off=off,
    )


def _sorted(references: Iterable[Reference]) -> tuple[Reference, ...]:
    return tuple(sorted(set(references), key=lambda r: (r.path, r.line, r.text, r.why)))


def format_chain(chain: Iterable[str]) -> str:
    """`tvm -> tvm.relax -> tvm.relax.training (deleted)`."""
    return " -> ".join(chain) + " (deleted)"


def _deleted(project: Project, scope: Scope, facts: FileFacts) -> bool:
    if not facts.extra and scope.contains(facts.module):
        return True
    return any(_under(facts.path, extra) for extra in scope.extra_paths)


def _under(path: str, folder: str) -> bool:
    folder = folder.rstrip("/")
    return path == folder or path.startswith(folder + "/")


def _import_time_links(graph: ImportGraph, runs) -> dict[str, list[tuple[str, ImportSite | None]]]:
    """imported -> [(importer, site)]: who fails when `imported` fails. site None = a package link
    (importing a module first runs its package). An import site is preferred over a package link
    for the same pair, since it is the line to show."""
    links: dict[str, dict[str, ImportSite | None]] = {}
    for module in graph.modules:
        parent = module.rpartition(".")[0]
        if parent:
            links.setdefault(parent, {})[module] = None
    for edge in graph.import_edges():
        if edge.site.execution is not Execution.IMPORT or not runs(edge.site):
            continue
        known = links.setdefault(edge.imported, {})
        current = known.get(edge.importer)
        if current is None or (edge.site.line, edge.site.column) < (current.line, current.column):
            known[edge.importer] = edge.site
    return {imported: sorted(importers.items()) for imported, importers in links.items()}


def _nearest_deleted(links, deleted: set[str]) -> dict[str, tuple[str, ImportSite | None]]:
    """Breadth-first from every deleted module backwards: node -> (next link towards the nearest
    deleted module, the site of that link). Among links of the same length the one that runs first
    wins (a package before the module's own imports, then by line), as Python would fail there."""
    nearest: dict[str, tuple[str, ImportSite | None]] = {}
    level = sorted(deleted)
    while level:
        found: dict[str, tuple[str, ImportSite | None]] = {}
        for failed in level:
            for importer, site in links.get(failed, ()):
                if importer in deleted or importer in nearest:
                    continue
                current = found.get(importer)
                if current is None or _runs_first((failed, site), current):
                    found[importer] = (failed, site)
        nearest.update(found)
        level = sorted(found)
    return nearest


def _runs_first(a: tuple[str, ImportSite | None], b: tuple[str, ImportSite | None]) -> bool:
    def key(link):
        target, site = link
        return (0, 0, target) if site is None else (site.line, site.column, target)

    return key(a) < key(b)


def _chain(node: str, nearest) -> tuple[str, ...]:
    chain = [node]
    while chain[-1] in nearest:
        chain.append(nearest[chain[-1]][0])
    return tuple(chain)


_WHY = {
    Verdict.TOGGLE: "guarded by the scope's toggle, so it no longer runs; dead code once the scope is gone",
    Verdict.OPTIONAL: "inside try/except ImportError; its fallback becomes the only path",
    Verdict.TYPE: "under TYPE_CHECKING; type checking of this file breaks",
}


def _surviving_imports(graph: ImportGraph, scope: Scope, deleted: set[str], runs) -> list[Reference]:
    """Imports of the scope that survive the deletion (guarded, optional, type-only): nothing
    fails, but each names a module that is gone and should be edited with the deletion."""
    found = []
    for edge in graph.import_edges():
        if edge.importer in deleted or edge.imported not in deleted or runs(edge.site):
            continue
        verdict = classify(edge.site, scope)
        why = _WHY.get(verdict) or "guarded by a toggle that is off, so it no longer runs; dead code once the scope is gone"
        found.append(Reference(edge.facts.path, edge.site.line, _site_text(edge.site), why))
    return found


def _unresolved_dynamic_imports(graph: ImportGraph, scope: Scope, deleted: set[str]) -> list[Reference]:
    found = []
    for facts in graph.files.values():
        if facts.node in deleted:
            continue
        for item in facts.unresolved:
            prefix = item.prefix
            if not prefix or item.reason.startswith("relative import beyond"):
                continue
            if scope.name.startswith(prefix) or prefix.startswith(scope.name + ".") or prefix == scope.name:
                found.append(Reference(facts.path, item.line, item.text,
                                       "dynamic import built at run time may load the scope; check the names it can take"))
    return found


def _literal_references(graph: ImportGraph, scope: Scope, deleted: set[str], off) -> tuple[list, list]:
    """Strings outside the scope that name it (`FileFacts.references` from the scanner): dotted
    literals naming its modules, `find_spec` probes of them, and registry lookups of names that
    only the deleted files register. Returns (needing an edit, guarded by an off toggle)."""
    registered = {
        ref.text
        for facts in graph.files.values()
        if facts.node in deleted
        for ref in getattr(facts, "references", ())
        if ref.kind.value == "register" and not ref.is_prefix
    }
    imports = {(e.facts.path, e.site.line) for e in graph.import_edges() if e.imported in deleted}
    needed, guarded = [], []
    for facts in graph.files.values():
        if facts.node in deleted:
            continue
        for ref in getattr(facts, "references", ()):
            kind = ref.kind.value
            if kind in ("literal", "probe"):
                if not (scope.contains(ref.text) or (ref.is_prefix and ref.text.startswith(scope.name + "."))):
                    continue
                if (facts.path, ref.line) in imports:
                    continue  # the import on this line is reported as an import
                why = ("find_spec probe of the scope: returns None once it is gone" if kind == "probe"
                       else "string names the scope's dotted path")
            elif kind == "lookup" and not ref.is_prefix and ref.text in registered:
                why = f"registry lookup `{ref.call}` of a name only the scope registers"
            else:
                continue
            item = Reference(facts.path, ref.line, ref.text, why)
            if any(ref.state_required(toggle) is True for toggle in off):
                guarded.append(item)
            else:
                needed.append(item)
    return needed, guarded


def _site_text(site: ImportSite) -> str:
    if site.kind is SiteKind.DYNAMIC:
        return f'importlib.import_module("{site.dotted}")'
    if site.name is None:
        return f"import {site.target}"
    return f"from {site.target} import {site.name}"
