"""Graphs: a small directed graph with typed edges and the walks scopeguard needs, and the import
graph built on it (FileFacts -> ImportGraph: which module loads which, through which import sites).

`Digraph` keeps nodes and edges in insertion order, so every walk breaks ties the same way on every
run. Its operations are the ones the code asks for: neighbours, shortest paths forward from one start
(SG402's chains), nearest chains backwards from several starts (deletion), the k-hop
neighbourhood of a set of nodes (graph views), collapsing nodes into groups (views at a depth),
longest-path layers with cycles broken (the HTML layout) and finding a cycle (`uses` in the config).

In the import graph, nodes are project modules (and extra-root files, named by path). An edge is a
`Link`: the import sites that create it, and `parent=True` where it also says that loading `a.b.c`
first loads `a.b` (and so `a`): Python runs every `__init__.py` on the way down.

No networkx: the design first had it here, but what scopeguard asks of a graph is a handful of
breadth- and depth-first walks, and importing networkx cost 0.1-0.2 s — as much as a whole cached
import-linter run — on every run that had to build the graph.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .model import FileFacts, ImportSite
from .paths import module_prefixes
from .reach import resolve, via

N = TypeVar("N", bound=Hashable)
D = TypeVar("D")
T = TypeVar("T")


class Digraph(Generic[N, D]):
    """Nodes and directed edges `source -> target`, each edge carrying one value of type D."""

    def __init__(self) -> None:
        self._out: dict[N, dict[N, D]] = {}
        self._in: dict[N, dict[N, D]] = {}

    @classmethod
    def of(cls, nodes: Iterable[N], edges: Iterable[tuple[N, N]]) -> Digraph[N, None]:
        """A graph of plain edges (no data); duplicate edges are one edge."""
        graph: Digraph[N, None] = Digraph()
        for node in nodes:
            graph.add_node(node)
        for source, target in edges:
            graph.add_edge(source, target, None)
        return graph

    def add_node(self, node: N) -> None:
        if node not in self._out:
            self._out[node] = {}
            self._in[node] = {}

    def add_edge(self, source: N, target: N, data: D) -> None:
        """Add (or replace the data of) the edge `source -> target`, adding missing nodes."""
        self.add_node(source)
        self.add_node(target)
        self._out[source][target] = data
        self._in[target][source] = data

    def nodes(self) -> Iterator[N]:
        return iter(self._out)

    def __contains__(self, node: object) -> bool:
        return node in self._out

    def edge(self, source: N, target: N) -> D | None:
        return self._out.get(source, {}).get(target)

    def edges(self) -> Iterator[tuple[N, N, D]]:
        for source, out in self._out.items():
            for target, data in out.items():
                yield source, target, data

    def neighbours(self, node: N) -> set[N]:
        """Nodes joined to `node` by an edge in either direction."""
        return set(self._out.get(node, ())) | set(self._in.get(node, ()))

    def shortest_paths(self, start: N, follow: Callable[[N, N, D], bool]) -> dict[N, list[N]]:
        """node -> a shortest path from `start` to it, along edges `follow(source, target, data)` accepts.

        Breadth-first in insertion order, so ties break the same way every run."""
        if start not in self._out:
            return {}
        paths = {start: [start]}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for target, data in self._out[node].items():
                if target not in paths and follow(node, target, data):
                    paths[target] = paths[node] + [target]
                    queue.append(target)
        return paths

    def nearest_backwards(
        self, starts: Iterable[N], follow: Callable[[N, N, D], tuple[Any, T] | None]
    ) -> dict[N, tuple[N, T]]:
        """Breadth-first against the edges from every node of `starts` at once.

        For each node that reaches a start, (the next node on a shortest path towards a start, what
        `follow` said of that edge). `follow(source, target, data)` returns None to ignore the edge,
        or (rank, info); among edges of the same length the one with the smallest rank wins. Chains
        are read back with `chain()`."""
        starts = set(starts)
        nearest: dict[N, tuple[N, T]] = {}
        level = sorted(starts)
        while level:
            found: dict[N, tuple[Any, N, T]] = {}
            for target in level:
                for source, data in self._in.get(target, {}).items():
                    if source in starts or source in nearest:
                        continue
                    followed = follow(source, target, data)
                    if followed is None:
                        continue
                    rank, info = followed
                    current = found.get(source)
                    if current is None or rank < current[0]:
                        found[source] = (rank, target, info)
            for source, (_, target, info) in found.items():
                nearest[source] = (target, info)
            level = sorted(found)
        return nearest

    def within(self, starts: Iterable[N], hops: int, allowed: Callable[[N], bool] = lambda node: True) -> dict[N, int]:
        """node -> its distance (in edges, either direction) from `starts`, for nodes at most `hops`
        away; only nodes `allowed` accepts are entered or kept."""
        distance = {node: 0 for node in starts if node in self._out and allowed(node)}
        frontier = list(distance)
        for step in range(1, hops + 1):
            nxt = []
            for node in frontier:
                for other in sorted(self.neighbours(node)):
                    if other not in distance and allowed(other):
                        distance[other] = step
                        nxt.append(other)
            frontier = nxt
        return distance

    def collapse(self, group: Callable[[N], N]) -> tuple[dict[N, list[N]], Digraph[N, list[D]]]:
        """Merge nodes into groups: (group -> its members in node order, the graph between groups,
        each edge carrying the data of the edges it merges). Edges inside one group disappear."""
        members: dict[N, list[N]] = {}
        for node in self._out:
            members.setdefault(group(node), []).append(node)
        collapsed: Digraph[N, list[D]] = Digraph()
        for name in members:
            collapsed.add_node(name)
        for source, target, data in self.edges():
            a, b = group(source), group(target)
            if a == b:
                continue
            merged = collapsed.edge(a, b)
            if merged is None:
                collapsed.add_edge(a, b, [data])
            else:
                merged.append(data)
        return members, collapsed

    def layers(self, order: Iterable[N]) -> dict[N, int]:
        """Longest-path layering (sources in layer 0) of the graph minus the back edges of a
        depth-first walk started from the nodes in `order`; self-loops are ignored."""
        state: dict[N, int] = {}  # 1 on the stack, 2 done
        finished: list[N] = []
        forward: dict[N, list[N]] = {}
        nodes = list(order)
        for start in nodes:
            if start in state:
                continue
            stack = [(start, iter(self._out.get(start, ())))]
            state[start] = 1
            while stack:
                node, children = stack[-1]
                for child in children:
                    if child == node or state.get(child) == 1:
                        continue  # a back edge: ignoring it breaks the cycle
                    forward.setdefault(node, []).append(child)
                    if child not in state:
                        state[child] = 1
                        stack.append((child, iter(self._out.get(child, ()))))
                        break
                else:
                    state[node] = 2
                    finished.append(node)
                    stack.pop()
        layer = {node: 0 for node in nodes}
        for node in reversed(finished):  # reverse post-order: a topological order of the forward edges
            for child in forward.get(node, ()):
                layer[child] = max(layer.get(child, 0), layer[node] + 1)
        return layer

    def find_cycle(self, order: list[N]) -> list[N]:
        """A cycle as [a, b, ..., a] starting at its earliest node in `order`, or [] when none."""
        done: set[N] = set()
        for start in order:
            if start in done:
                continue
            path = [start]
            on_path = {start}
            stack = [(start, iter(self._out.get(start, ())))]
            while stack:
                node, successors = stack[-1]
                nxt = next(successors, None)
                if nxt is None:
                    stack.pop()
                    path.pop()
                    on_path.discard(node)
                    done.add(node)
                elif nxt in on_path:
                    cycle = path[path.index(nxt):]
                    first = min(range(len(cycle)), key=lambda i: order.index(cycle[i]))
                    cycle = cycle[first:] + cycle[:first]
                    return [*cycle, cycle[0]]
                elif nxt not in done:
                    stack.append((nxt, iter(self._out.get(nxt, ()))))
                    path.append(nxt)
                    on_path.add(nxt)
        return []


def chain(node: N, nearest: Mapping[N, tuple[N, Any]]) -> tuple[N, ...]:
    """The chain from `node` to the start it is nearest, read from `Digraph.nearest_backwards`."""
    found = [node]
    while found[-1] in nearest:
        found.append(nearest[found[-1]][0])
    return tuple(found)


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
    """Import statements and literal dynamic imports, plus what runs through calls (reach.py):
    `edges` holds the imports where the module name is written (rules report them there);
    `origin_edges` the same imports from the module whose import (or call) runs them, at the call
    that starts the chain (the deletion follows those instead of the written ones)."""

    def __init__(self, facts: Iterable[FileFacts]) -> None:
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
        reach = resolve(self.files, self.modules)
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
        """Shortest load chains from `start` through parent links and sites that `follow` accepts."""
        return self.links.shortest_paths(start, lambda source, target, link: link.loads(follow))

    def sites_between(self, importer: str, imported: str, follow: Callable[[ImportSite], bool]) -> list[ImportSite]:
        link = self.links.edge(importer, imported)
        if link is None:
            return []
        return [site for site in link.sites if follow(site)]
