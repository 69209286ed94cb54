"""The import graph, built on `Digraph` (FileFacts -> ImportGraph: which module loads which,
through which import sites).

Nodes are project modules (and extra-root files, named by path). An edge is a `Link`: the import
sites that create it, and `parent=True` where it also says that loading `a.b.c` first loads `a.b`
(and so `a`): Python runs every `__init__.py` on the way down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ..base.digraph import Digraph
from ..base.model import FileFacts, ImportSite
from ..base.paths import module_prefixes
from .reachability import Reach, resolve, via


@dataclass(frozen=True, slots=True)
class Edge:
    """One import site resolved to the project module it loads."""

    importer: str  # graph node of the importing file
    imported: str  # project module loaded
    site: ImportSite
    facts: FileFacts  # the importing file


@dataclass(slots=True)
class Link:
    """Everything that makes one node load another: the import sites (in file order), and whether
    the target is the source's parent package (loading `a.b` runs `a` first)."""

    parent: bool = False
    sites: list[ImportSite] = field(default_factory=list)

    def loads(self, follow: Callable[[ImportSite], bool]) -> bool:
        """The link loads its target when a parent link, or when a site `follow` accepts does."""
        return self.parent or any(follow(site) for site in self.sites)


class ImportGraph:
    """Import statements and literal dynamic imports, plus what runs through calls (analysis/reachability.py):
    `edges` holds the imports where the module name is written (rules report them there);
    `origin_edges` the same imports from the module whose import (or call) runs them, at the call
    that starts the chain (the deletion follows those instead of the written ones)."""

    def __init__(self, facts: Iterable[FileFacts], resolver: Callable[[dict[str, FileFacts], frozenset[str]], Reach] = resolve) -> None:
        """`resolver` is reachability's `resolve`, or what stands for it with the same result (the
        pipeline's stored result, keyed by the digest of its inputs)."""
        self.files: dict[str, FileFacts] = {}
        for item in facts:
            self.files[item.node] = item
        # Every real module plus the namespace packages above them, which exist without a file.
        self.modules: frozenset[str] = frozenset(
            prefix
            for item in self.files.values()
            if not item.extra
            for prefix in module_prefixes(item.module)
        )
        reach = resolver(self.files, self.modules)
        self.files = reach.files
        self.origin_edges: list[Edge] = [Edge(r.importer, r.imported, r.site, self.files[r.importer])
                                         for r in reach.origins if r.importer != r.imported]
        # origin site -> (the module that writes the name when not the importer, "path:line" written,
        # environment tests of early exits on the way)
        self.written_in: dict[ImportSite, tuple[str, str, tuple[str, ...]]] = {
            r.site: (r.written_in, r.written_at, r.unless) for r in reach.origins}
        self._runtime_links: Digraph[str, Link] | None = None
        self._dunder_all = {item.module: item.dunder_all for item in self.files.values() if not item.extra}
        # importer -> imported: a Link, nodes and edges in a stable order.
        self.links: Digraph[str, Link] = Digraph()
        for module in sorted(self.modules):
            self.links.add_node(module)
        for node, item in sorted(self.files.items()):
            if item.extra:
                self.links.add_node(node)
        for module in sorted(self.modules):
            parent = module.rpartition(".")[0]
            if parent:
                self.links.add_edge(module, parent, Link(parent=True))
        self.edges: list[Edge] = []
        for node in sorted(self.files):
            item = self.files[node]
            for site in item.sites:
                for imported in self.resolve(site):
                    if imported == node:
                        continue  # `from . import x` inside x's own package for a name: no edge
                    self.edges.append(Edge(node, imported, site, item))
                    link = self.links.edge(node, imported)
                    if link is None:
                        self.links.add_edge(node, imported, Link(sites=[site]))
                    else:  # may also be a parent link: `import a` inside `a.b`
                        link.sites.append(site)
        for found in [*reach.written, *reach.aliases]:
            if found.importer == found.imported:
                continue
            self.edges.append(Edge(found.importer, found.imported, found.site, self.files[found.importer]))
            link = self.links.edge(found.importer, found.imported)
            if link is None:
                self.links.add_edge(found.importer, found.imported, Link(sites=[found.site]))
            else:
                link.sites.append(found.site)

    def runtime_links(self) -> Digraph[str, Link]:
        """The links as Python runs them: an import reached through calls counts from the module
        that runs the chain (origin edges), not from the one that writes the name."""
        if self._runtime_links is None:
            if not self.origin_edges and not any(via(e.site) for e in self.edges):
                self._runtime_links = self.links
            else:
                links: Digraph[str, Link] = Digraph()
                for node in self.links.nodes():
                    links.add_node(node)
                for source, target, link in self.links.edges():
                    sites = [site for site in link.sites if not via(site)]
                    if link.parent or sites:
                        links.add_edge(source, target, Link(link.parent, sites))
                for edge in self.origin_edges:
                    link = links.edge(edge.importer, edge.imported)
                    if link is None:
                        links.add_edge(edge.importer, edge.imported, Link(sites=[edge.site]))
                    else:
                        link.sites.append(edge.site)
                self._runtime_links = links
        return self._runtime_links

    def nodes(self) -> Iterator[str]:
        return self.links.nodes()

    def __contains__(self, node: str) -> bool:
        return node in self.links

    def resolve(self, site: ImportSite) -> list[str]:
        """The project modules a site loads directly (parents follow from `parent` links)."""
        if site.name is None:
            found = self._existing(site.target)
            return [found] if found else []
        if site.name == "*":
            loaded = [m for m in [self._existing(site.target)] if m]
            names = self._dunder_all.get(site.target) or ()
            if "*" in names:  # `__all__` not known (computed, mutated): it may name every submodule
                prefix = f"{site.target}."
                names = sorted({m[len(prefix):].split(".")[0] for m in self.modules if m.startswith(prefix)})
            for name in names:
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
        """Shortest load chains from `start` through parent links and sites that `follow` accepts."""
        return self.links.shortest_paths(start, lambda source, target, link: link.loads(follow))

    def sites_between(self, importer: str, imported: str, follow: Callable[[ImportSite], bool]) -> list[ImportSite]:
        link = self.links.edge(importer, imported)
        if link is None:
            return []
        return [site for site in link.sites if follow(site)]
