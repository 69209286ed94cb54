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

from .graph import ImportGraph, Link
from ..base.digraph import Chains
from .reachability import via as reached_via
from .registry import Attachment, AttachedUse, TableEntry, attached_uses, attachments, table_entries
from ..base.model import TYPE_CHECKING, Execution, FileFacts, ImportSite, ReferenceKind, Scope, SiteKind, UnresolvedReason
from ..base.paths import under
from .unknowns import dynamic_sites, may_run_at_import
from .verdicts import (
    ANY_IMPORT_FAILURE,
    ATTRIBUTE_ERROR,
    IMPORT_ERROR,
    MODULE_NOT_FOUND,
    Verdict,
    caught,
    classify,
    escapes,
    failure,
    survives_deletion,
)


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
    # Reached through calls: the call sites from this module's line to the import ("path:line
    # text", execution order), where the scope's name is written, and the environment tests on the
    # way that would stop it (`os.environ.get("X", "1") == "0"`: it runs by default).
    via: tuple[str, ...] = ()
    written_at: str = ""
    unless: tuple[str, ...] = ()
    # Fails reading a name the scope attaches to a module outside it (registry.attachments): the
    # name as read ("tvm.script.tirx.metal.simdgroup_load"), not an import.
    attached: str = ""

    @property
    def via_package(self) -> bool:
        return self.line == 0

    @property
    def direct(self) -> bool:
        """It imports a deleted module itself (as opposed to one that fails in turn)."""
        return len(self.chain) == 2 and not self.via_package and not self.attached


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
class Unknown:
    """A dynamic import of unknown target that may load the scope: where, why its target is unknown
    (`why`, one line a maintainer can check), and whether it may run at import time (`when` says
    how that was decided)."""

    path: str
    line: int
    text: str
    why: str
    at_import: bool = False
    when: str = ""
    # It may load the scope but cannot fail because the scope is gone (an enumerator of existing
    # modules, or a handler catching ModuleNotFoundError): it counts only while something is broken.
    harmless: bool = False


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
    # Dynamic imports whose target cannot be known and may name the scope: the plan cannot say
    # Clean (it says "unknown" and lists them, each with why and when it runs).
    unknown: tuple[Unknown, ...] = ()
    users: tuple[str, ...] = ()  # scopes that use this one: to delete or turn off first (toggles assumed off)
    # Dynamic imports with a known start that may name the scope and may run at import time
    # (listed in `references`): they leave the import-time verdict unknown.
    import_prefixed: tuple[Reference, ...] = ()
    # Entries of by-name tables that name the scope by its short name and feed an import of
    # `prefix + name` (listed in `references` too): the patch removes those alone on their lines.
    table_entries: tuple[TableEntry, ...] = ()
    # Dynamic imports of unknown target that may load the scope but cannot fail for its absence
    # (Unknown.harmless), left out of `unknown` because nothing is broken: listed, not counted.
    cannot_fail: tuple[Unknown, ...] = ()

    @property
    def clean(self) -> bool:
        """Deleting the scope's files is all it takes: nothing breaks, nothing else needs an edit and
        no dynamic import of unknown target could load it. Guarded imports left behind are dead
        code to tidy, not breakage."""
        return not (self.broken or self.lazy or self.references or self.unknown or self.users)

    @property
    def import_verdict(self) -> str:
        """What importing the remaining modules does: "not clean" (a module fails), "unknown" (a
        dynamic import that may run at import time may load the scope) or "clean"."""
        if self.broken or self.users:
            return "not clean"
        return "unknown" if self.import_prefixed or any(u.at_import for u in self.unknown) else "clean"

    @property
    def call_time_verdict(self) -> str:
        """What calling functions does afterwards: "not clean" (a lazy import fails, or code names
        the scope and needs an edit), "unknown" (a dynamic import that may name the scope) or "clean"."""
        if self.lazy or self.references or self.users:
            return "not clean"
        return "unknown" if self.unknown else "clean"

    @property
    def verdict(self) -> str:
        """"clean", "not clean" (something breaks or needs an edit) or "unknown" (only dynamic
        imports of unknown target stand between the plan and Clean)."""
        if self.broken or self.lazy or self.references or self.users:
            return "not clean"
        return "unknown" if self.unknown else "clean"


def simulate_deletion(
    graph: ImportGraph,
    scope: Scope,
    *,
    toggles_off: Iterable[str] = (),
    references: Iterable[Reference] = (),
    users: Iterable[Scope] = (),
    packaging: Iterable[str] = (),
) -> DeletionPlan:
    """What deleting `scope` (its modules and extra paths) breaks, with the scope's toggle off.

    `toggles_off` names further toggles assumed off (imports that need them on do not run);
    `references` are found elsewhere (packaging files) and merged into the plan. `users` are the
    scopes that declare `uses = [scope]`: they are deleted or turned off first, so their toggles
    are assumed off and their files are not listed. `packaging` holds where the project's
    packaging names the scope ("path:line"): only then can an entry-point listing load it.
    """
    users = tuple(u for u in users if u.name != scope.name)
    user_toggles = [u.trusted_toggle for u in users if u.trusted_toggle]
    own = [scope.trusted_toggle] if scope.trusted_toggle else []
    off = tuple(dict.fromkeys([*own, *user_toggles, *toggles_off]))
    deleted_files = [f for f in graph.files.values() if _deleted(scope, f)]
    deleted_nodes = {m for m in graph.modules if scope.contains(m)} | {f.node for f in deleted_files}
    in_users = {f.node for f in graph.files.values() if any(_deleted(u, f) for u in users)}

    # A module that fails in turn raises what leaves the statement that fails in it: an import
    # failure, unless a handler on the way raised another error instead (or `__set_name__` wrapped
    # it): then only an importer's handler of that error absorbs it. node -> what may leave it,
    # for the modules where that is more than an import failure (worked out below, to a fixpoint).
    escape: dict[str, frozenset[str]] = {}

    def runs(site: ImportSite, imported: str | None = None) -> bool:
        """The site runs with the `off` toggles off, and a failed import is not caught."""
        return not survives_deletion(site, scope, off, escape.get(imported) if imported is not None else None)

    def fails_with(importer: str, imported: str, link: Link):
        """Whether `importer` fails at import time when `imported` fails, ranked by what runs first
        (a package before the module's own imports, then by line), as Python would fail there.
        An import site is preferred over a package link for the same pair: it is the line to show."""
        sites = [s for s in link.sites if s.execution is Execution.IMPORT and runs(s, imported)]
        if sites:
            site = min(sites, key=lambda s: (s.line, s.column))
            return (site.line, site.column, imported), site
        if link.parent:
            return (0, 0, imported), None
        return None

    # Names the scope attaches to modules outside it: a module whose import reads one fails too
    # (a start of its own, one step from the scope module that attaches the name).
    attached = attachments(graph.files.values(), deleted_nodes)
    uses = attached_uses(graph.files, graph.modules, deleted_nodes, attached, off)
    attach_starts: dict[str, AttachedUse] = {}
    for use in uses:
        if use.origin and use.origin not in in_users and use.origin in graph.files:
            attach_starts.setdefault(use.origin, use)
    owner = {f.path: f.node for f in deleted_files}

    # Breadth-first from every deleted module backwards: node -> (next link towards the nearest
    # deleted module, the site of that link; None for a package link).
    links = graph.runtime_links()
    nearest = links.nearest_backwards(deleted_nodes, fails_with)
    for _ in range(_ESCAPE_ROUNDS):
        found = _escapes(links, nearest, deleted_nodes, escape, scope, runs)
        if found == escape:
            break
        escape.clear()
        escape.update(found)
        nearest = links.nearest_backwards(deleted_nodes, fails_with)
    else:
        escape.clear()  # not settled (it should): anything may leave a failing module
        escape.update(dict.fromkeys(nearest, frozenset({"?"})))
        nearest = links.nearest_backwards(deleted_nodes, fails_with)
    attach_starts = {n: u for n, u in attach_starts.items() if n not in nearest and n not in deleted_nodes}
    if attach_starts:  # a module failing through its imports first fails there, as Python would
        nearest = dict(links.nearest_backwards(deleted_nodes | set(attach_starts), fails_with))
    for node, use in attach_starts.items():
        nearest[node] = (owner.get(use.attachment.path, scope.name), None)
    chain = Chains(nearest)  # long chains keep their ends: linear in the nodes

    broken = []
    for node, (target, site) in nearest.items():
        facts = graph.files.get(node)
        if facts is None or node in in_users:
            continue  # a namespace package: nothing to run, but it passes failure on (kept in chains)
        line, column = _statement_position(facts, site) if site is not None else (0, 0)
        found = chain(node)
        via, written_at, unless = (), "", ()
        use = attach_starts.get(node)
        if use is not None:
            line, column = (use.origin_line, 1) if use.function else (use.line, use.column)
            via = (*use.via, f"{use.path}:{use.line} {use.text}") if use.function else ()
        if site is not None and reached_via(site):
            via = reached_via(site)
            written_in, written_at, exits = graph.written_in.get(site, ("", "", ()))
            if written_in and written_in not in found:
                found = (found[0], written_in, *found[1:])
            unless = tuple(dict.fromkeys([*exits, *(g.text for g in site.guards if _environment_test(g.text))]))
        broken.append(Breakage(node, facts.path, line, column, found, facts.extra, via, written_at, unless,
                               f"{use.text} ({use.path}:{use.line}); {_attached_text(use.attachment)}" if use else ""))
    broken.sort(key=lambda b: (b.path, b.line, b.module))

    failing = deleted_nodes | set(nearest)
    found_refs = []
    seen_uses = set()
    for use in uses:
        if use.node in failing and use.node not in attach_starts:
            continue  # fails for another reason first
        if (use.path, use.line, use.text) in seen_uses or use.node in in_users:
            continue
        seen_uses.add((use.path, use.line, use.text))
        when = ("read while the module is imported" if use.origin
                else f"read when {use.function}() runs")
        found_refs.append(Reference(use.path, use.line, use.text,
                                    f"{_attached_text(use.attachment)}; {when}: delete or move this code with the "
                                    "scope (or add its file to the scope's extra_paths)"))
    lazy = []
    for edge in graph.import_edges():
        if edge.importer in failing or edge.imported not in failing or edge.importer in in_users:
            continue
        if edge.site.execution is not Execution.CALL or not runs(edge.site, edge.imported):
            continue
        chain_ = (edge.imported,) if edge.imported in deleted_nodes else chain(edge.imported)
        line, column = _statement_position(edge.facts, edge.site)
        lazy.append(LazyBreak(edge.facts.path, line, column, edge.importer, edge.imported, chain_))
    lazy.sort(key=lambda x: (x.path, x.line, x.column, x.imported))

    found = list(references) + found_refs
    skip = deleted_nodes | in_users
    user_paths = {graph.files[n].path for n in in_users if n in graph.files}
    prefixed, unknown, import_prefixed = _dynamic(graph, scope, skip, tuple(packaging))
    found += prefixed
    literal, literal_guarded = _literal_references(graph, scope, deleted_nodes, off)
    found += [r for r in literal if r.path not in user_paths]
    links = [(e.importer, e.imported) for e in graph.import_edges()]
    entries = [e for e in table_entries(graph.files.values(), links, scope.name, skip) if e.path not in user_paths]
    found += [Reference(e.path, e.line, e.text,
                        f"by-name table entry names the scope by its short name {scope.name.rpartition('.')[2]!r}; "
                        f"{e.loader} imports {scope.name.rpartition('.')[0] + '.'!r} + the name: remove the entry")
              for e in entries]
    guarded = _surviving_imports(graph, scope, deleted_nodes, runs) + literal_guarded
    guarded = [g for g in guarded if g.path not in user_paths]

    for item in attached:
        if item.name and not any(t in graph.modules for t in item.targets):
            unknown.append(Unknown(item.path, item.line, item.how,
                                   f"the scope sets `{item.name}` on {', '.join(item.targets)}, which is not a module: "
                                   "reads through its instances (or operators) cannot be followed", True,
                                   "runs when the scope is loaded"))
        elif not item.name:
            unknown.append(Unknown(item.path, item.line, item.how,
                                   f"the scope attaches a name computed at run time to {', '.join(item.targets)}: "
                                   "code that reads it there fails once the scope is gone", True,
                                   "runs when the scope is loaded"))
    narrowed = ()
    if not broken:  # with nothing broken, the scope's own absence is all these can meet
        narrowed = tuple(sorted({u for u in unknown if u.harmless}, key=lambda u: (u.path, u.line, u.text)))
        unknown = [u for u in unknown if not u.harmless]
    return DeletionPlan(
        scope=scope,
        deleted_modules=tuple(sorted(f.module for f in deleted_files if not f.extra and scope.contains(f.module))),
        deleted_paths=tuple(sorted(f.path for f in deleted_files)),
        broken=tuple(broken),
        lazy=tuple(lazy),
        references=_sorted(found),
        guarded=_sorted(guarded),
        toggles_off=off,
        unknown=tuple(sorted(set(unknown), key=lambda u: (u.path, u.line, u.text))),
        users=tuple(u.name for u in users),
        import_prefixed=_sorted(import_prefixed),
        table_entries=tuple(sorted(set(entries), key=lambda e: (e.path, e.line))),
        cannot_fail=narrowed,
    )


_ESCAPE_ROUNDS = 8
_IMPORT_FAILURES = frozenset({ANY_IMPORT_FAILURE, IMPORT_ERROR, MODULE_NOT_FOUND, ATTRIBUTE_ERROR})


def _escapes(links, nearest, deleted: set[str], escape: dict[str, frozenset[str]], scope: Scope, runs) -> dict[str, frozenset[str]]:
    """What may leave each failing module (`nearest`'s nodes) besides an import failure: the union,
    over every statement that may fail in it (any of them may run first), of what leaves that
    statement (verdicts.escapes through its handlers), and what leaves its failing package."""
    failing = deleted | set(nearest)
    out: dict[str, frozenset[str]] = {}
    for source, target, link in links.edges():
        if source not in nearest or target not in failing:
            continue
        arriving = escape.get(target)
        found: set[str] = set()
        if link.parent and arriving is not None:
            found |= arriving
        for site in link.sites:
            if site.execution is not Execution.IMPORT or not runs(site, target):
                continue
            raised = arriving if arriving is not None else frozenset({failure(site, scope)})
            left = escapes(site, raised)
            if left:
                found |= left
        if found:
            out[source] = out.get(source, frozenset()) | found
    return {node: left for node, left in out.items() if left - _IMPORT_FAILURES}


def _attached_text(item: Attachment) -> str:
    name = f"`{item.name}`" if item.name else "a name"
    return f"{name} is attached by the deleted {item.path}:{item.line} ({item.how})"


def _statement_position(facts: FileFacts, site: ImportSite) -> tuple[int, int]:
    """Where a break is shown: an import statement's first line (a `from x import (a, b)` over
    several lines is one statement, reported there by `check` too); a dynamic import's call where
    it is."""
    at = facts.statement_at(site.line) if site.kind is not SiteKind.DYNAMIC else None
    return at if at is not None else (site.line, site.column)


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


def _environment_test(text: str) -> bool:
    return "environ" in text or "getenv" in text


def _dynamic(graph: ImportGraph, scope: Scope, skip: set[str], packaging: tuple[str, ...]):
    """Open dynamic imports outside the deleted files, judged against the scope (analysis/unknowns.py):
    (references: a known start that may name it; unknowns: nothing known, or an entry-point
    listing where the project's packaging names the scope; the references that may run at import
    time). One whose known start cannot name the scope is left out: it cannot load it."""
    prefixed, unknown, import_prefixed = [], [], []
    for site in dynamic_sites(graph):
        if site.node in skip:
            continue
        at_import = may_run_at_import(site)
        when = site.when
        if at_import:
            registered = _registered_only(graph, site)
            if registered:
                at_import, when = False, registered
        if site.entry_points:
            if packaging:
                unknown.append(Unknown(site.path, site.line, site.text,
                                       f"{site.why}; the project's packaging names the scope ({', '.join(packaging)})",
                                       at_import, when))
            continue
        starts = [site.prefix] if not site.unknown else []
        starts += [a for a in site.alternatives if a not in starts]
        harmless = _cannot_fail(graph, site)
        for start in starts:
            if scope.may_contain(start):
                if harmless.startswith(_LISTS) and not site.unknown:  # no edit either: it lists what exists
                    unknown.append(Unknown(site.path, site.line, site.text,
                                           f"its name may start with {start!r}; {harmless}", at_import, when, True))
                    break
                ref = Reference(site.path, site.line, site.text,
                                f"dynamic import built at run time may load the scope (its name may start with "
                                f"{start!r}); check the names it can take")
                prefixed.append(ref)
                if at_import:
                    import_prefixed.append(ref)
                break
        if site.unknown and site.reason is not UnresolvedReason.BEYOND_ROOT:
            why = site.why
            if site.reason is UnresolvedReason.HOOKED:
                text = f"import {site.text}"
            else:
                text = site.text
            if harmless:
                why = f"{why}; {harmless}"
            unknown.append(Unknown(site.path, site.line, text, why, at_import, when, bool(harmless)))
    return prefixed, unknown, import_prefixed


def _registered_only(graph: ImportGraph, site) -> str:
    """Why a dynamic import the import-time analysis may reach runs only when called ("" when it may
    run at import time): its function is reached only from the decorator that registers it by name
    in a registry (`@register_global_func("x.y")`, a configured registry function outside the
    project, which the closed world takes as a possible call), and every lookup of that name
    (`get_global_func("x.y")`) sits in a function no import runs. (Code outside Python calling
    the name back at import time is not seen.)"""
    from .import_time import analysis_of
    from .unknowns import enclosing_function

    facts = graph.files.get(site.node)
    if facts is None or not site.function:
        return ""
    registered = {r.line: r.text for r in facts.references if r.kind is ReferenceKind.REGISTER and not r.is_prefix}
    if not registered:
        return ""
    analysis = analysis_of(graph.files, graph.modules)
    qualified = f"{facts.module}.{site.function}"
    items = [i for i in analysis.reached([qualified]) if i.function == qualified]
    if not items or any(i.origin != site.node or i.line not in registered for i in items):
        return ""
    names = {registered[i.line] for i in items}
    lookups = []
    for other in graph.files.values():
        by_line = {fn.line: fn for fn in other.functions}
        for ref in other.references:
            if ref.kind is ReferenceKind.LOOKUP and (ref.text in names or (ref.is_prefix and any(n.startswith(ref.text) for n in names))):
                function = enclosing_function(other, [ref], by_line)
                if not function:
                    return ""  # looked up at module level: may be called at import time
                lookups.append(f"{other.module}.{function}")
    if lookups and any(i.function in lookups for i in analysis.reached(lookups)):
        return ""
    where = ", ".join(f"{facts.path}:{i.line}" for i in items[:2])
    return (f"only when called: {site.function}() is registered by name ({', '.join(sorted(names))}, {where}) and "
            "looked up only in functions no import runs")


_ENUMERATORS = ("walk_packages", "iter_modules")
_LISTS = "it imports only packages that exist"


def _cannot_fail(graph: ImportGraph, site) -> str:
    """Why a dynamic import of unknown target cannot fail because the scope is gone, as long as no
    remaining module fails ("" when it can): it only lists and imports modules that exist
    (`pkgutil.walk_packages`: a deleted package is not listed), or every copy of it sits in a
    handler that catches the ModuleNotFoundError a deleted module raises. (A remaining module that
    fails in turn may raise anything: the plan keeps these unknown when something is broken.)"""
    head = site.text.partition("(")[0].rpartition(".")[2]
    if head in _ENUMERATORS:
        return f"{_LISTS}: a deleted one is not listed, so the deletion cannot make it fail"
    facts = graph.files.get(site.node)
    items = [u for u in (facts.unresolved if facts is not None else ()) if (u.line, u.column) == (site.line, site.column)]
    if items and all(caught(u, MODULE_NOT_FOUND) for u in items):
        return "every copy of it is inside a handler catching the ModuleNotFoundError a deleted module raises"
    return ""


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
