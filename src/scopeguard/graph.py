"""FileFacts -> ImportGraph: which module loads which, through which import sites.

Nodes are project modules (and extra-root files, named by path). An edge carries the import sites
that create it, and `parent=True` where it also says that loading `a.b.c` first loads `a.b` (and so
`a`): Python runs every `__init__.py` on the way down.

A plain adjacency of dicts. The design first had networkx here; what scopeguard asks of a graph is
a breadth-first walk (chains, deletion, neighbourhoods), and importing networkx cost 0.1-0.2 s —
as much as a whole cached import-linter run — on every run that had to build the graph.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .model import FileFacts, ImportSite


@dataclass(frozen=True, slots=True)
class Edge:
    """One import site resolved to the project module it loads."""

    importer: str  # graph node of the importing file
    imported: str  # project module loaded
    site: ImportSite
    facts: FileFacts  # the importing file


class ImportGraph:
    def __init__(self, facts: Iterable[FileFacts]) -> None:
        self.files: dict[str, FileFacts] = {}
        for item in facts:
            self.files[item.node] = item
        # Every real module plus the namespace packages above them, which exist without a file.
        self.modules: frozenset[str] = frozenset(
            prefix
            for item in self.files.values()
            if not item.extra
            for prefix in _prefixes(item.module)
        )
        self._dunder_all = {item.module: item.dunder_all for item in self.files.values() if not item.extra}
        # importer -> imported -> {"parent": bool, "sites": [ImportSite, ...]}, in a stable order.
        self._successors: dict[str, dict[str, dict]] = {module: {} for module in sorted(self.modules)}
        for node, item in sorted(self.files.items()):
            if item.extra:
                self._successors[node] = {}
        for module in sorted(self.modules):
            parent = module.rpartition(".")[0]
            if parent:
                self._successors[module][parent] = {"parent": True, "sites": []}
        self.edges: list[Edge] = []
        for node in sorted(self.files):
            item = self.files[node]
            out = self._successors[node]
            for site in item.sites:
                for imported in self.resolve(site):
                    if imported == node:
                        continue  # `from . import x` inside x's own package for a name: no edge
                    self.edges.append(Edge(node, imported, site, item))
                    data = out.get(imported)
                    if data is None:
                        out[imported] = {"parent": False, "sites": [site]}
                    else:  # may also be a parent edge: `import a` inside `a.b`
                        data["sites"].append(site)

    def nodes(self) -> Iterator[str]:
        return iter(self._successors)

    def __contains__(self, node: str) -> bool:
        return node in self._successors

    def successors(self, node: str) -> dict[str, dict]:
        """imported -> edge data (`parent`, `sites`) for one importer; empty for unknown nodes."""
        return self._successors.get(node, {})

    def resolve(self, site: ImportSite) -> list[str]:
        """The project modules a site loads directly (parents follow from `parent` edges)."""
        if site.name is None:
            found = self._existing(site.target)
            return [found] if found else []
        if site.name == "*":
            loaded = [m for m in [self._existing(site.target)] if m]
            for name in self._dunder_all.get(site.target) or ():
                sub = f"{site.target}.{name}"
                if sub in self.modules:
                    loaded.append(sub)
            return loaded
        sub = f"{site.target}.{site.name}" if site.target else site.name
        if sub in self.modules:
            return [sub]  # `from pkg import sub` loads the submodule
        found = self._existing(site.target)
        return [found] if found else []

    def _existing(self, dotted: str) -> str | None:
        """The module itself, or for `import a.b.c` of a missing `c` the deepest existing parent."""
        while dotted:
            if dotted in self.modules:
                return dotted
            dotted = dotted.rpartition(".")[0]
        return None

    def import_edges(self) -> Iterator[Edge]:
        return iter(self.edges)

    def shortest_chains(self, start: str, follow: Callable[[ImportSite], bool]) -> dict[str, list[str]]:
        """Shortest load chains from `start` through parent edges and sites that `follow` accepts.

        Breadth-first over the adjacency in its stable order, so ties break the same way every run.
        """
        if start not in self._successors:
            return {}
        chains = {start: [start]}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for imported, data in self._successors[node].items():
                if imported in chains:
                    continue
                if data["parent"] or any(follow(site) for site in data["sites"]):
                    chains[imported] = chains[node] + [imported]
                    queue.append(imported)
        return chains

    def sites_between(self, importer: str, imported: str, follow: Callable[[ImportSite], bool]) -> list[ImportSite]:
        data = self._successors.get(importer, {}).get(imported)
        if data is None:
            return []
        return [site for site in data["sites"] if follow(site)]


def _prefixes(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]
