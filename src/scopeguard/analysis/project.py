"""The analysis context: the validated configuration and the import graph, and the questions every
consumer asks of them — which scope a file belongs to, which imports of a scope come from outside
code (with their verdicts), and what deleting each scope would break.

Rules read a Project; so do the graph views and the commands. Nothing here words a message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from .graph import Edge, ImportGraph
from .reachability import via
from ..base.model import BuildFacts, Config, FileFacts, GuardKind, Scope, SiteKind
from ..base.paths import under
from .simulation import DeletionPlan, simulate_deletion
from .toggle_writes import mark_written, written_toggles
from .verdicts import Verdict, classify


def owner(config: Config, facts: FileFacts) -> Scope | None:
    """The scope a file belongs to: by module, or by the scope's extra paths (its tests)."""
    if not facts.extra:
        scope = config.scope_of(facts.module)
        if scope is not None:
            return scope
    for scope in config.scopes:
        for extra in scope.extra_paths:
            if under(facts.path, extra):
                return scope
    return None


@dataclass
class Project:
    """What rules see: the validated config and the import graph."""

    config: Config
    graph: ImportGraph
    build: BuildFacts | None = None  # packaging and CMake files (SG303, SG404); None: not collected
    stale_declarations: tuple = ()  # [[dynamic_imports]] that match no site (declarations.Stale; SG006)
    _outside: list | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A scope whose toggle code turns on at import time is not kept out by its guards: every
        # consumer reads the scopes from here, so they all see it (analysis/toggle_writes.py).
        written = written_toggles(self.graph.files, self.graph.modules, self.config.toggles)
        if written:
            self.config = dataclasses.replace(self.config, scopes=mark_written(self.config.scopes, written))

    def owner(self, facts: FileFacts) -> Scope | None:
        """The scope a file belongs to: by module, or by the scope's extra paths (its tests)."""
        return owner(self.config, facts)

    def toggle_inside(self, scope: Scope) -> tuple[str, str] | None:
        """(name, "path:line") when the scope's toggle is spelled by a function the scope itself
        defines (transformers' `is_deepspeed_available` lives in `integrations/deepspeed.py`): a
        guard must import it from the scope it guards, so guarding comes after moving it out."""
        memo = self.__dict__.setdefault("_toggle_inside", {})
        if scope.name in memo:
            return memo[scope.name]
        found = None
        toggle = self.config.toggle(scope.toggle) if scope.toggle else None
        if toggle is not None:
            names = {s.removesuffix("()").rpartition(".")[2] for s in (*toggle.on_when_true, *toggle.on_when_false)
                     if s.endswith("()")}
            for facts in sorted(self.graph.files.values(), key=lambda f: f.path):
                if facts.extra or not scope.contains(facts.module) or not names:
                    continue
                function = next((f for f in facts.functions if f.name in names), None)
                if function is not None:
                    found = (function.name, f"{facts.path}:{function.line}")
                    break
        memo[scope.name] = found
        return found

    def outside_imports(self) -> Iterator[tuple[Edge, Scope, Verdict]]:
        """Imports of a scope from code that belongs to no scope and is not an allowed entry point.

        (Code of another scope importing it is an isolation matter: SG101.) Computed once: most
        rules ask for it, and on a big tree walking every edge per rule is the slowest part of `check`.
        """
        if self._outside is None:
            found = []
            for edge in self.graph.import_edges():
                scope = self.config.scope_of(edge.imported)
                if scope is None or self.owner(edge.facts) is not None or self.allowed(scope, edge.facts):
                    continue
                found.append((edge, scope, classify(edge.site, scope)))
            self._outside = found
        return iter(self._outside)

    def loaded_before(self, edge: Edge) -> str | None:
        """"path:line" of an import that has surely loaded `edge.imported` before `edge`'s import can
        run, when its import sits inside a function: a statement of the module defining that
        function, with no guard at all (module or class body, not under if/try/with-handler/early
        exit), written above the function's `def`, whose import loads the module or a submodule of
        it. A function exists only once its `def` ran, and by then every such statement above it
        has run (or the module failed and the function never exists), so that import cannot be
        what loads the module: the statement above is the decision, and is reported itself.
        Otherwise None. Holds for an import written in the function (`edge.site`'s own guards)
        and for one reached through calls (the function that holds it, per graph.written_in)."""
        site = edge.site
        owner, line = edge.importer, site.line
        if via(site):
            written = self.graph.written_in.get(site)
            if written is None or not written[1]:
                return None
            owner = written[0] or edge.importer
            try:
                line = int(written[1].rpartition(":")[2])
            except ValueError:
                return None
        facts = self.graph.files.get(owner)
        if facts is None or facts.extra:
            return None
        # The function holding the import: its own guards, or (the import-time copy of a site in a
        # function its module calls, and a site reached through calls) the same import in the file's
        # facts inside a function; the earliest such `def` where a line holds more than one.
        defined = min((min(g.line for g in s.guards if g.kind is GuardKind.FUNCTION) for s in facts.sites
                       if s.line == line and s.target == site.target and s.name == site.name
                       and any(g.kind is GuardKind.FUNCTION for g in s.guards)), default=None)
        if defined is None:
            return None
        prefix = edge.imported + "."
        for earlier in facts.sites:
            if earlier.guards or earlier.line >= defined or earlier.kind is SiteKind.DYNAMIC:
                continue
            if any(m == edge.imported or m.startswith(prefix) for m in self.graph.resolve(earlier)):
                return f"{facts.path}:{earlier.line}"
        return None

    @cached_property
    def deletion_plans(self) -> list[DeletionPlan]:
        """What deleting each scope would break, in config order; computed once, shared by the
        SG3xx rules (a plan walks every import edge, so once per scope is what it may cost)."""
        return [simulate_deletion(self.graph, scope, users=self.users(scope), packaging=self.packaging_entry_points(scope))
                for scope in self.config.scopes]

    def packaging_entry_points(self, scope: Scope) -> tuple[str, ...]:
        """Where the project's own packaging names the scope ("path:line"): only then can an
        entry-point listing (`importlib.metadata.entry_points()`) load it."""
        from .unknowns import packaging_names

        return packaging_names(self.build, scope)

    def users(self, scope: Scope) -> list[Scope]:
        """The scopes that declare `uses = [scope]`: turned off first when the scope is deleted."""
        return [s for s in self.config.scopes if scope.name in s.uses and s.name != scope.name]

    def allowed(self, scope: Scope, facts: FileFacts) -> bool:
        """The importer is one of the scope's approved integration points."""
        if facts.extra:
            return False
        return any(facts.module == entry or facts.module.startswith(entry + ".") for entry in scope.allow)
