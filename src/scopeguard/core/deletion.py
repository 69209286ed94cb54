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

from ..graph import ImportGraph, Link, chain
from ..model import Execution, FileFacts, ImportSite, ReferenceKind, Scope, SiteKind, UnresolvedReason
from ..paths import under
from .guards import Verdict, classify, survives_deletion


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


def simulate_deletion(
    graph: ImportGraph,
    scope: Scope,
    *,
    toggles_off: Iterable[str] = (),
    references: Iterable[Reference] = (),
) -> DeletionPlan:
    """What deleting `scope` (its modules and extra paths) breaks, with the scope's toggle off.

    `toggles_off` names further toggles assumed off (imports that need them on do not run);
    `references` are found elsewhere (packaging files) and merged into the plan.
    """
    off = tuple(dict.fromkeys([*([scope.toggle] if scope.toggle else []), *toggles_off]))
    deleted_files = [f for f in graph.files.values() if _deleted(scope, f)]
    deleted_nodes = {m for m in graph.modules if scope.contains(m)} | {f.node for f in deleted_files}

    def runs(site: ImportSite) -> bool:
        """The site runs with the `off` toggles off, and a failed import is not caught."""
        return not survives_deletion(site, scope, off)

    def fails_with(importer: str, imported: str, link: Link):
        """Whether `importer` fails at import time when `imported` fails, ranked by what runs first
        (a package before the module's own imports, then by line), as Python would fail there.
        An import site is preferred over a package link for the same pair: it is the line to show."""
        sites = [s for s in link.sites if s.execution is Execution.IMPORT and runs(s)]
        if sites:
            site = min(sites, key=lambda s: (s.line, s.column))
            return (site.line, site.column, imported), site
        if link.parent:
            return (0, 0, imported), None
        return None

    # Breadth-first from every deleted module backwards: node -> (next link towards the nearest
    # deleted module, the site of that link; None for a package link).
    nearest = graph.links.nearest_backwards(deleted_nodes, fails_with)

    broken = []
    for node, (target, site) in nearest.items():
        facts = graph.files.get(node)
        if facts is None:
            continue  # a namespace package: nothing to run, but it passes failure on (kept in chains)
        line, column = (site.line, site.column) if site is not None else (0, 0)
        broken.append(Breakage(node, facts.path, line, column, chain(node, nearest), facts.extra))
    broken.sort(key=lambda b: (b.path, b.line, b.module))

    failing = deleted_nodes | set(nearest)
    lazy = []
    for edge in graph.import_edges():
        if edge.importer in failing or edge.imported not in failing:
            continue
        if edge.site.execution is not Execution.CALL or not runs(edge.site):
            continue
        chain_ = (edge.imported,) if edge.imported in deleted_nodes else chain(edge.imported, nearest)
        lazy.append(LazyBreak(edge.facts.path, edge.site.line, edge.site.column, edge.importer, edge.imported, chain_))
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


def _deleted(scope: Scope, facts: FileFacts) -> bool:
    if not facts.extra and scope.contains(facts.module):
        return True
    return any(under(facts.path, extra) for extra in scope.extra_paths)


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
            if not prefix or item.reason is UnresolvedReason.BEYOND_ROOT:
                continue
            if scope.may_contain(prefix):
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
        for ref in facts.references
        if ref.kind is ReferenceKind.REGISTER and not ref.is_prefix
    }
    imports = {(e.facts.path, e.site.line) for e in graph.import_edges() if e.imported in deleted}
    needed, guarded = [], []
    for facts in graph.files.values():
        if facts.node in deleted:
            continue
        for ref in facts.references:
            kind = ref.kind
            if kind in (ReferenceKind.LITERAL, ReferenceKind.PROBE):
                if not (scope.contains(ref.text) or (ref.is_prefix and ref.text.startswith(scope.name + "."))):
                    continue
                if (facts.path, ref.line) in imports:
                    continue  # the import on this line is reported as an import
                why = ("find_spec probe of the scope: returns None once it is gone" if kind is ReferenceKind.PROBE
                       else "string names the scope's dotted path")
            elif kind is ReferenceKind.LOOKUP and not ref.is_prefix and ref.text in registered:
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
