"""What runs when (issue 15), project-level: string values through calls, and the imports they
make, found from the per-file facts of facts/calls.py. Pure: facts in, edges and updated facts out.

- Value flow: a function's parameters take the values its call sites pass (literals, entries of
  module-level tables, module constants, through wrapper chains and across modules by import
  bindings); a public entry point (listed in its module's `__all__`, or, without `__all__`, a
  public name of a public module; dunders such as `__getattr__`) may take any value.
- Import-time execution: every call made while a module is imported (module level, class bodies,
  decorators, default arguments) is followed through the project's functions; a dynamic import
  reached that way runs at import time, with every guard, early exit and catching handler met on
  the way. The call sites, in execution order, are the site's `via`.
- Module registries and lazy tables: a module `__getattr__` that imports `TABLE[name]` (a dict
  literal, or a registry its functions fill from their callers) makes `from M import key` an
  import of `TABLE[key]`; so does a package that replaces itself with a lazy module serving names
  from a table (`FileFacts.lazy`: transformers' `_LazyModule`), its names read from the table or
  from its folder's files (`lazy_tables`).

Three kinds of edges come out:
- *written* edges, at the line that writes the scope's name (the literal argument, the table
  entry), from the module that writes it: what rules report (SG205, SG402, lazy breakage);
- *origin* edges, from the module whose import (or call) runs the chain, at the call that starts
  it: what the deletion simulation follows (`ImportGraph.origin_edges`);
- *alias* edges: `from M import key` served by M's `__getattr__` table or M's lazy-module table.
Dynamic imports whose values are all known leave `FileFacts.unresolved`; those with a known
prefix get it (SG206 instead of SG208).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from ..base.model import (
    CallFact,
    DynamicImportFact,
    FileFacts,
    FunctionFact,
    Guard,
    GuardKind,
    ImportSite,
    SiteKind,
    Term,
    UnresolvedImport,
    UnresolvedReason,
)

from .import_time import analysis_of, within

_MAX_VALUES = 256  # values of one term; beyond, only their common prefix is kept
_MAX_DEPTH = 16  # calls followed from one origin
_MAX_STEPS = 200_000  # functions entered over the whole project; beyond, what is left stays unknown


@dataclass(frozen=True, slots=True)
class ReachedSite(ImportSite):
    """An import reached through calls, tables or registries (never cached: built with the graph).
    ``via`` holds the call sites from the code that runs first to the import, "path:line text" in
    execution order."""

    via: tuple[str, ...] = ()


def via(site: ImportSite) -> tuple[str, ...]:
    return site.via if isinstance(site, ReachedSite) else ()


@dataclass(frozen=True, slots=True)
class Value:
    text: str
    complete: bool
    where: tuple[str, int] | None = None  # (path, line) that writes the part not in the import's own file
    open: bool = False  # a parameter of the walk's first function: the callers' walks give it


ANY = Value("", False)
OPEN = Value("", False, None, True)


@dataclass(frozen=True, slots=True)
class ReachEdge:
    importer: str
    imported: str
    site: ImportSite
    written_in: str = ""  # the module that writes the name, when not the importer (origin edges)
    written_at: str = ""  # "path:line" that writes the name (origin edges)
    unless: tuple[str, ...] = ()  # environment tests of early exits on the way (origin edges)


@dataclass
class Reach:
    files: dict[str, FileFacts]  # node -> facts, unresolved updated
    written: list[ReachEdge]
    origins: list[ReachEdge]
    aliases: list[ReachEdge]


def resolve(files: dict[str, FileFacts], modules: frozenset[str]) -> Reach:
    resolver = _Resolver(files, modules)
    reach = resolver.run()
    written, origins = _import_time_edges(reach.files, modules)
    return dataclasses.replace(reach, files=_lazy_unknown(_hooked(reach.files, modules), modules, resolver.lazy()),
                               written=[*reach.written, *written], origins=[*reach.origins, *origins])


def visible_sites(facts: FileFacts, modules: frozenset[str]) -> tuple[ImportSite, ...]:
    """The import sites of a file that reachability and the import-time analysis (or whatever reads
    their result: the open dynamic imports) can see; the others change neither.

    A plain `import X` at module level (no imported name, not inside a function) is read by no
    reader unless X is under one of the project's top-level packages without being one of its
    modules (`_hooked`), or it is the import-time copy of a site inside a function
    (import_time.function_sites leaves such sites out). Every site with a name (`from X import n`:
    re-exports, `__getattr__` and lazy tables read them), and every site inside a function, is seen.
    Order is kept (the first matching site wins where a name is resolved)."""
    sites = facts.sites
    inner = None
    out = []
    for site in sites:
        if site.name is not None or any(g.kind is GuardKind.FUNCTION for g in site.guards):
            out.append(site)
            continue
        if site.target not in modules and site.target.partition(".")[0] in _tops(modules):
            out.append(site)
            continue
        if inner is None:
            inner = {(s.line, s.column, s.target, s.name) for s in sites
                     if any(g.kind is GuardKind.FUNCTION for g in s.guards)}
        if (site.line, site.column, site.target, site.name) in inner:
            out.append(site)
    return tuple(out) if len(out) != len(sites) else sites


_TOPS: tuple[frozenset[str], frozenset[str]] | None = None


def _tops(modules: frozenset[str]) -> frozenset[str]:
    global _TOPS
    if _TOPS is None or _TOPS[0] is not modules:
        _TOPS = (modules, frozenset(m.partition(".")[0] for m in modules))
    return _TOPS[1]


def _import_time_edges(files: dict[str, FileFacts], modules: frozenset[str]) -> tuple[list[ReachEdge], list[ReachEdge]]:
    """Import statements inside functions that run while another module (or their own) is
    imported (analysis/import_time.py): an edge from the module whose import runs them, at its
    statement that starts the chain, the chain through the function as `via`."""
    if not any(f.effects for f in files.values()):
        return [], []
    analysis = analysis_of(files, modules)
    sites = analysis.function_sites()
    written: dict[tuple, ReachEdge] = {}
    origins: dict[tuple, ReachEdge] = {}
    for reached in analysis.reached():
        owner, _ = analysis.defs[reached.function]
        origin = files[reached.origin]
        for site in sites.get(reached.function, ()):
            imported = _site_module(site, modules)
            if imported is None or imported == reached.origin:
                continue
            guards = (*reached.guards, *(_env_guard(g) for g in within(site.guards) if g.kind is not GuardKind.FUNCTION))
            chain = (*reached.via, f"{owner.path}:{site.line} import {site.dotted}")
            placed = ReachedSite(site.target, site.name, reached.line, reached.column, site.kind, guards,
                                 site.raises, via=chain)
            key = (origin.node, imported, reached.line, reached.column, guards)
            if key not in written:
                written[key] = ReachEdge(origin.node, imported, placed)
                origins[key] = ReachEdge(origin.node, imported, placed,
                                         owner.node if owner.node != origin.node else "", f"{owner.path}:{site.line}")
    return list(written.values()), list(origins.values())


def _site_module(site: ImportSite, modules: frozenset[str]) -> str | None:
    """The project module a site loads (what ImportGraph.resolve says, without `*`'s names)."""
    if site.name and site.name != "*":
        sub = f"{site.target}.{site.name}" if site.target else site.name
        if sub in modules:
            return sub
    return _existing(site.target, modules)


def _hooked(files: dict[str, FileFacts], modules: frozenset[str]) -> dict[str, FileFacts]:
    """Where the project installs an import hook (`sys.meta_path.append(Finder())`), an import of a
    module under a project package that is not in the tree is served by the hook - with any module
    it likes (TVM's `tvm.script.parser.<dialect>` is the dialect's package). Such an import is
    unknown (UnresolvedReason.HOOKED), never silently nothing."""
    if not any(u.reason is UnresolvedReason.INSTALLS_HOOK for f in files.values() for u in f.unresolved):
        return files
    tops = {m.partition(".")[0] for m in modules}
    out = dict(files)
    for node, facts in files.items():
        hooked, seen = [], set()
        for site in facts.sites:  # one per module a file imports so: the same decision (sites in order)
            if site.target in modules or site.target.partition(".")[0] not in tops or site.target in seen:
                continue
            seen.add(site.target)
            hooked.append(UnresolvedImport(site.line, site.column, site.target, "", UnresolvedReason.HOOKED,
                                           site.guards))
        if hooked:
            out[node] = dataclasses.replace(facts, unresolved=(*facts.unresolved, *hooked))
    return out


def _env_guard(guard: Guard) -> Guard:
    """A guard whose test reads the environment with a default (`os.environ.get(X, "1") == "0"`)
    holds in the code's default state too: it is no toggle guard on a call chain."""
    text = guard.text
    if guard.knowledge and ("environ.get(" in text or "getenv(" in text) and "," in text:
        return dataclasses.replace(guard, knowledge=frozenset())
    return guard


class _Resolver:
    def __init__(self, files: dict[str, FileFacts], modules: frozenset[str]) -> None:
        self.files = files
        self.modules = modules
        self.by_module = {f.module: f for f in files.values() if not f.extra}
        self.functions: dict[str, tuple[FileFacts, FunctionFact]] = {}
        self.calls: dict[tuple[str, str], list[CallFact]] = {}
        self.dynamic: dict[tuple[str, str], list[DynamicImportFact]] = {}
        self.tables: dict[tuple[str, str], object] = {}
        self.registry: dict[tuple[str, str], list[tuple[Value, Value]]] = {}
        self._registry_has: dict[tuple[str, str], set[tuple[Value, Value]]] = {}  # the same, for lookups
        self.steps = 0
        self._by_path = {}  # path -> facts, the first file of that path (as a scan in files' order)
        self._stores: dict[tuple[str, str], list] = {}  # (node, function) -> its stores, in order
        for facts in files.values():
            self._by_path.setdefault(facts.path, facts)
            for store in facts.stores:
                self._stores.setdefault((facts.node, store.function), []).append(store)
            node = facts.node
            if not facts.extra:
                for fn in facts.functions:
                    self.functions[f"{facts.module}.{fn.name}"] = (facts, fn)
                for table in facts.tables:
                    self.tables[(facts.module, table.name)] = table
            for call in facts.calls:
                self.calls.setdefault((node, call.function), []).append(call)
            for item in facts.dynamic:
                self.dynamic.setdefault((node, item.function), []).append(item)
        self._callee_cache: dict[str, str | None] = {}
        self._lazy: dict[str, LazyTable] | None = None
        # per dynamic import (node, line, column): values seen, and records of complete ones
        self.seen: dict[tuple[str, int, int], list[Value]] = {}
        self.written: dict[tuple, ReachEdge] = {}
        self.origins: dict[tuple, ReachEdge] = {}

    # names

    def callee(self, dotted: str, depth: int = 0) -> str | None:
        if dotted in self._callee_cache:
            return self._callee_cache[dotted]
        found = None
        if dotted in self.functions:
            found = dotted
        elif depth < 6:
            module, _, name = dotted.rpartition(".")
            facts = self.by_module.get(module)
            if facts is not None:  # a name the module imports: `from .loader import load`
                for site in facts.sites:
                    if site.name == name and site.kind is SiteKind.FROM:
                        found = self.callee(f"{site.target}.{name}", depth + 1)
                        break
            elif module and depth < 6:  # `pkg.mod.Class.method` or a module attribute path
                found = None
        self._callee_cache[dotted] = found
        return found

    def public(self, qualified: str) -> bool:
        facts, fn = self.functions[qualified]
        top = fn.name.split(".")[0]
        if fn.name.split(".")[-1].startswith("__"):
            return True
        if facts.dunder_all is not None:
            return top in facts.dunder_all or "*" in facts.dunder_all  # "*": not known (any name)
        if any(part.startswith("_") and not part.startswith("__") for part in facts.module.split(".")):
            return False
        return not any(part.startswith("_") for part in fn.name.split("."))

    # values

    def table_values(self, module: str, name: str, kind: str) -> list[Value]:
        table = self.tables.get((module, name))
        facts = self.by_module.get(module)
        if table is None or facts is None:
            return [ANY]
        is_dict = any(key for key, _, _ in table.entries) or (module, name) in self.registry or not table.entries
        if kind == "iter":
            kind = "key" if is_dict and any(key for key, _, _ in table.entries) else "elem"
        found = []
        for key, value, line in table.entries:
            found.append(Value(key if kind == "key" else value, True, (facts.path, line)))
        for key, value in self.registry.get((module, name), ()):
            found.append(key if kind == "key" else value)
        if not table.complete:
            found.append(ANY)
        return found

    def evaluate(self, term: Term, env: dict[str, list[Value]], facts: FileFacts, here) -> list[Value]:
        values = [Value("", True)]
        for kind, text in term:
            if kind == "lit":
                part = [Value(text, True, here)]
            elif kind == "param":
                part = env.get(text, [ANY])
            elif kind in ("elem", "key", "iter"):
                part = self.table_values(facts.module, text, kind)
            elif kind == "item":
                part = self.table_values(facts.module, text.partition("|")[0], "elem")
            else:
                part = [ANY]
            values = _concat(values, part)
        return values

    # the walk

    def env_for(self, qualified: str) -> dict[str, list[Value]]:
        _, fn = self.functions[qualified]
        value = [ANY] if self.public(qualified) else [OPEN]
        return {p: value for p in fn.params}

    def bind(self, target: str, call: CallFact, env, facts: FileFacts) -> dict[str, list[Value]]:
        _, fn = self.functions[target]
        params = list(fn.params)
        if "." in fn.name and params and params[0] in ("self", "cls"):
            params = params[1:]
        here = (facts.path, call.line)
        bound: dict[str, list[Value]] = {p: [ANY] for p in params}
        for param, term in zip(params, call.args):
            bound[param] = self.evaluate(term, env, facts, here)
        for name, term in call.keywords:
            if name in bound:
                bound[name] = self.evaluate(term, env, facts, here)
        return bound

    def walk(self, target, env, origin, chain, modules, guards, stack, done, unless=()) -> None:
        """Run `target` with `env`: record its dynamic imports, follow its calls."""
        self.steps += 1
        if self.steps > _MAX_STEPS or len(stack) > _MAX_DEPTH:
            return
        key = (target, tuple(sorted((k, tuple(v)) for k, v in env.items())))
        if key in done:
            return
        done.add(key)
        facts, fn = self.functions[target]
        for item in self.dynamic.get((facts.node, fn.name), ()):
            self.record(item, facts, self.evaluate(item.term, env, facts, None), env, origin,
                        (*chain, f"{facts.path}:{item.line} import_module"), modules, (*guards, *within(item.guards)), unless)
        for call in self.calls.get((facts.node, fn.name), ()):
            self.follow(call, facts, env, origin, chain, modules, guards, stack, done, unless)
        for store in self._stores.get((facts.node, fn.name), ()):
            keys = self.evaluate(store.key, env, facts, None)
            values = self.evaluate(store.value, env, facts, None)
            if len(keys) * len(values) <= _MAX_VALUES:
                entries = self.registry.setdefault((facts.module, store.table), [])
                has = self._registry_has.setdefault((facts.module, store.table), set())
                for k in keys:
                    for v in values:
                        if (k, v) not in has and not (k.open or v.open):
                            has.add((k, v))
                            entries.append((k, v))

    def follow(self, call, facts, env, origin, chain, modules, guards, stack, done, unless=()) -> None:
        target = self.callee(call.callee)
        if target is None or target in stack or target not in self.relevant:
            return
        callee_facts, fn = self.functions[target]
        name = fn.name.split(".")[-1]
        self.walk(target, self.bind(target, call, env, facts), origin,
                  (*chain, f"{facts.path}:{call.line} {name}()"), (*modules, callee_facts.node),
                  (*guards, *within(call.guards)), stack | {target}, done, (*unless, *call.unless))

    def record(self, item, facts, values, env, origin, chain, modules, guards, unless=()) -> None:
        """Values reaching one dynamic import, from one origin."""
        key = (facts.node, item.line, item.column)
        seen = self.seen.setdefault(key, [])
        package = None
        if item.package:
            packages = self.evaluate(item.package, env, facts, None)
            package = packages[0].text if len(packages) == 1 and packages[0].complete else None
        origin_facts, origin_line, origin_column, execution_import = origin
        for value in values:
            if value.open:
                continue
            text = value.text
            if value.complete and text.startswith("."):
                if package is None:
                    value = ANY
                else:
                    text = _relative(package, text)
                    value = dataclasses.replace(value, text=text)
            seen.append(value)
            if not value.complete or not text:
                continue
            imported = _existing(text, self.modules)
            if imported is None:
                continue
            where = value.where or (facts.path, item.line)
            writer = self._by_path.get(where[0], facts)
            if execution_import:
                kept = tuple(_env_guard(g) for g in guards if g.kind is not GuardKind.FUNCTION)
            else:
                kept = tuple(_env_guard(g) for g in guards)
            column = item.column if where == (facts.path, item.line) else 1
            if writer is origin_facts and where[1] == origin_line:
                column = origin_column
            site = ReachedSite(text, None, where[1], column, SiteKind.DYNAMIC, kept, via=tuple(chain))
            wkey = (writer.node, imported, where[1], execution_import)
            if wkey not in self.written:
                self.written[wkey] = ReachEdge(writer.node, imported, site)
            if origin_facts is not None:
                osite = ReachedSite(text, None, origin_line, origin_column, SiteKind.DYNAMIC, kept, via=tuple(chain))
                okey = (origin_facts.node, imported, origin_line, origin_column, execution_import)
                if okey not in self.origins:
                    written_in = writer.node if writer.node != origin_facts.node else ""
                    self.origins[okey] = ReachEdge(origin_facts.node, imported, osite, written_in,
                                                   f"{where[0]}:{where[1]}", tuple(dict.fromkeys(unless)))

    # the whole

    def run(self) -> Reach:
        if not any(f.dynamic or f.stores for f in self.files.values()):
            return Reach(self.files, [], [], self._lazy_aliases())
        everything = self._relevant()
        # Registries first (their values feed the lookups): a pass through the functions that can
        # fill one; then every origin with what they hold.
        if any(f.stores for f in self.files.values()):
            self.relevant = self._relevant(stores_only=True)
            self._origins()
        self.relevant = everything
        self._origins()
        files = self._updated_unresolved()
        aliases = self._aliases() + self._lazy_aliases()
        return Reach(files, list(self.written.values()), list(self.origins.values()), aliases)

    def _relevant(self, stores_only: bool = False) -> set[str]:
        """Functions that can reach a dynamic import or fill a registry (only the latter with
        `stores_only`)."""
        relevant = set()
        for qualified, (facts, fn) in self.functions.items():
            if (not stores_only and self.dynamic.get((facts.node, fn.name))) or (facts.node, fn.name) in self._stores:
                relevant.add(qualified)
        callers: dict[str, set[str]] = {}
        for (node, function), calls in self.calls.items():
            if not function:
                continue
            facts = self.files[node]
            if facts.extra:
                continue
            caller = f"{facts.module}.{function}"
            for call in calls:
                target = self.callee(call.callee)
                if target is not None:
                    callers.setdefault(target, set()).add(caller)
        work = list(relevant)
        while work:
            target = work.pop()
            for caller in callers.get(target, ()):
                if caller in self.functions and caller not in relevant:
                    relevant.add(caller)
                    work.append(caller)
        return relevant

    def _env_in(self, facts: FileFacts, function: str):
        """The values a function's names may hold ({} at module level); None for a function that is
        not followed (nested, or in an extra-root file)."""
        if not function:
            return {}
        qualified = f"{facts.module}.{function}"
        if facts.extra or qualified not in self.functions:
            return None
        return self.env_for(qualified)

    def _origins(self) -> None:
        self.seen.clear()
        for (node, function), calls in self.calls.items():
            facts = self.files[node]
            env = self._env_in(facts, function)
            if env is None:
                continue
            for call in calls:
                target = self.callee(call.callee)
                if target is None or target not in self.relevant:
                    continue
                at_import = not function and all(g.kind is not GuardKind.FUNCTION for g in call.guards) \
                    and call.execution.value == "import"
                origin = (facts, call.line, call.column, at_import)
                self.follow(call, facts, env, origin, (), (facts.node,), tuple(call.guards), frozenset(), set())
        for qualified in sorted(self.relevant):  # public entry points: called from anywhere with anything
            if self.public(qualified):
                facts, fn = self.functions[qualified]
                origin = (facts, fn.line, 1, False)
                self.walk(qualified, self.env_for(qualified), origin, (), (facts.node,), (), frozenset({qualified}),
                          set())
        for (node, function), items in self.dynamic.items():
            facts = self.files[node]
            env = self._env_in(facts, function)
            if env is None:
                continue
            for item in items:
                at_import = not function and item.execution.value == "import"
                origin = (facts, item.line, item.column, at_import)
                self.record(item, facts, self.evaluate(item.term, env, facts, None), env, origin,
                            (f"{facts.path}:{item.line} import_module",), (facts.node,), tuple(item.guards))

    def _updated_unresolved(self) -> dict[str, FileFacts]:
        files = dict(self.files)
        for node, facts in self.files.items():
            if not facts.dynamic or not facts.unresolved:
                continue
            changed, kept = False, []
            for item in facts.unresolved:
                values = self.seen.get((node, item.line, item.column))
                if values is None or self.steps > _MAX_STEPS:
                    kept.append(item)
                    continue
                unknown = [v for v in values if not v.complete]
                if not values:
                    kept.append(item)
                elif not unknown:
                    changed = True  # every value known: written edges stand for it
                else:
                    prefix = _common_prefix([v.text for v in unknown])
                    # never widen what the call spells (a relative start the scanner resolved
                    # against the package argument, "pkg.sub.", is narrower than ".")
                    widens = item.prefix.startswith(prefix) or (prefix.startswith(".") and item.prefix
                                                                and not item.prefix.startswith("."))
                    if prefix != item.prefix and not widens:
                        changed = True
                        kept.append(dataclasses.replace(item, prefix=prefix))
                    else:
                        kept.append(item)
            if changed:
                files[node] = dataclasses.replace(facts, unresolved=tuple(kept))
        return files

    def _aliases(self) -> list[ReachEdge]:
        """`from M import key` where M's `__getattr__` imports TABLE[key]."""
        served: dict[str, dict[str, tuple[str, ImportSite | None]]] = {}
        for qualified, (facts, fn) in self.functions.items():
            if fn.name != "__getattr__" or not fn.lookup_param:
                continue
            for item in self.dynamic.get((facts.node, fn.name), ()):
                parts = [text for kind, text in item.term if kind == "item"]
                if len(item.term) != 1 or not parts:
                    continue
                table, _, param = parts[0].partition("|")
                if param != fn.lookup_param:
                    continue
                entries = [(Value(k, True), Value(v, True, (facts.path, line)))
                           for k, v, line in getattr(self.tables.get((facts.module, table)), "entries", ())]
                entries += self.registry.get((facts.module, table), [])
                package = None
                if item.package:
                    packages = self.evaluate(item.package, {}, facts, None)
                    package = packages[0].text if len(packages) == 1 and packages[0].complete else None
                for key, value in entries:
                    if not (key.complete and value.complete and key.text):
                        continue
                    text = value.text
                    if text.startswith("."):
                        if package is None:
                            continue
                        text = _relative(package, text)
                    imported = _existing(text, self.modules)
                    if imported is not None:
                        served.setdefault(facts.module, {})[key.text] = (imported, None)
        found = []
        if not served:
            return found
        for facts in self.files.values():
            for site in facts.sites:
                table = served.get(site.target)
                if table is None or site.name not in table or f"{site.target}.{site.name}" in self.modules:
                    continue
                imported, _ = table[site.name]
                found.append(ReachEdge(facts.node, imported, site))
        return found


    def lazy(self) -> dict[str, LazyTable]:
        if self._lazy is None:
            self._lazy = lazy_tables(self.files.values(), self.modules)
        return self._lazy

    def _lazy_aliases(self) -> list[ReachEdge]:
        """`from P import Name` where P replaces itself with a lazy module (FileFacts.lazy): an import
        of the module P's table maps Name to; of each module whose names are not all known, when
        Name is not listed; `from P import *` of every module the table names (the lazy object's
        `__all__`). A table that is not known in full leaves a name it does not list unknown
        (`_lazy_unknown`)."""
        tables = self.lazy()
        found = []
        if not tables:
            return found
        for facts in self.files.values():
            for site in facts.sites:
                table = tables.get(site.target)
                if table is None or site.name is None:
                    continue
                for imported in _served(tables, table, site.name, self.modules):
                    if imported != facts.node:
                        found.append(ReachEdge(facts.node, imported, site))
        return found


@dataclass(frozen=True, slots=True)
class LazyTable:
    """What a lazy module (FileFacts.lazy) serves: name -> the modules that may serve it."""

    package: str
    served: dict[str, tuple[str, ...]]
    fallback: tuple[str, ...]  # modules whose names are not all known: they may serve any name not listed
    complete: bool  # False: a name not listed may be served by anything (unknown)

    def serving(self, name: str, modules: frozenset[str]) -> tuple[str, ...]:
        """The modules `from package import name` imports through the table (a submodule of that
        name is imported by the import system itself, not through the table)."""
        if name == "*":
            return tuple(dict.fromkeys([m for found in self.served.values() for m in found] + list(self.fallback)))
        if f"{self.package}.{name}" in modules:
            return ()
        return self.served.get(name) or self.fallback


def _served(tables: dict[str, LazyTable], table: LazyTable, name: str, modules: frozenset[str]) -> list[str]:
    """The modules importing `name` through `table` loads: a lazy package it maps the name to
    serves it in turn from its own table (`getattr(module, name)`: transformers'
    `"generation": ["GenerationMixin"]`), transitively."""
    found: list[str] = []
    work = [(table, name)]
    seen = set()
    while work:
        current, wanted = work.pop()
        for module in current.serving(wanted, modules):
            if module in seen:
                continue
            seen.add(module)
            found.append(module)
            inner = tables.get(module)
            if inner is not None and wanted != "*":
                work.append((inner, wanted))
    return found


def lazy_tables(files: Iterable[FileFacts], modules: frozenset[str]) -> dict[str, LazyTable]:
    """Every lazy module of the project, its table read: literal entries (name -> package + "." +
    key), and the structures read from a folder's files (each module under it serves the names of
    its `__all__`, or its public top-level defs without one; an `__all__` not known serves any)."""
    files = [f for f in files if not f.extra]
    lazy = [f for f in files if f.lazy is not None]
    if not lazy:
        return {}
    children: dict[str, list[FileFacts]] = {}
    for facts in files:
        children.setdefault(facts.module.rpartition(".")[0], []).append(facts)
    out = {}
    for facts in lazy:
        fact, package = facts.lazy, facts.module
        served: dict[str, list[str]] = {}
        fallback: list[str] = []

        def add(name: str, key: str) -> None:
            module = _existing(f"{package}.{key}", modules)
            if module is not None and module != package:
                served.setdefault(name, []).append(module)

        for name, key, _ in fact.entries:
            add(name, key)
        for key in fact.keys:
            module = _existing(f"{package}.{key}", modules)
            if module is not None and module != package:
                fallback.append(module)
        for folder, prefix in fact.folders:
            base = ".".join([package, *folder.split("/")]) if folder else package
            work = [base]
            while work:
                parent = work.pop()
                for child in children.get(parent, ()):
                    work.append(child.module)
                    if child.is_package:
                        continue  # define_import_structure reads a folder's modules, not its __init__
                    rel = child.module[len(base) + 1:]
                    key = f"{prefix}.{rel}" if prefix else rel
                    names = child.dunder_all if child.dunder_all is not None else child.defined
                    if "*" in names:
                        fallback.append(child.module)
                        continue
                    for name in names:
                        add(name, key)
        out[package] = LazyTable(package, {k: tuple(dict.fromkeys(v)) for k, v in served.items()},
                                 tuple(dict.fromkeys(fallback)), fact.complete)
    return out


def _lazy_unknown(files: dict[str, FileFacts], modules: frozenset[str], tables: dict[str, LazyTable]) -> dict[str, FileFacts]:
    """`from P import Name` where P's lazy table is not known in full and does not list Name: any
    module under P may serve it. Unknown (an UnresolvedImport with the start P + "."), never nothing."""
    tables = {p: t for p, t in tables.items() if not t.complete}
    if not tables:
        return files
    out = dict(files)
    for node, facts in files.items():
        found = []
        for site in facts.sites:
            table = tables.get(site.target)
            if table is None or site.name is None or table.serving(site.name, modules) \
                    or f"{site.target}.{site.name}" in modules:
                continue
            found.append(UnresolvedImport(site.line, site.column, f"from {site.target} import {site.name}",
                                          f"{site.target}.", UnresolvedReason.NOT_LITERAL, site.guards))
        if found:
            out[node] = dataclasses.replace(facts, unresolved=tuple(sorted(
                (*facts.unresolved, *found), key=lambda u: (u.line, u.column))))
    return out


def _concat(left: list[Value], right: list[Value]) -> list[Value]:
    out = []
    for a in left:
        if not a.complete or a.open:
            out.append(a)
            continue
        for b in right:
            if b.open:
                out.append(b)
            else:
                out.append(Value(a.text + b.text, b.complete, a.where or b.where))
    out = list(dict.fromkeys(out))
    if len(out) > _MAX_VALUES:
        return [Value(_common_prefix([v.text for v in out]), False)]
    return out


def _common_prefix(texts: Iterable[str]) -> str:
    texts = list(texts)
    if not texts:
        return ""
    first, last = min(texts), max(texts)
    i = 0
    while i < len(first) and i < len(last) and first[i] == last[i]:
        i += 1
    return first[:i]


def _relative(package: str, name: str) -> str:
    level = len(name) - len(name.lstrip("."))
    base = package.split(".")
    if level > 1:
        base = base[: len(base) - (level - 1)]
    rest = name[level:]
    return ".".join([*base, rest]) if rest else ".".join(base)


def _existing(dotted: str, modules: frozenset[str]) -> str | None:
    while dotted:
        if dotted in modules:
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None
