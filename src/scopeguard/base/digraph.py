"""A small directed graph with typed edges and the walks scopeguard needs.

`Digraph` keeps nodes and edges in insertion order, so every walk breaks ties the same way on every
run. Its operations are the ones the code asks for: neighbours, shortest paths forward from one start
(SG402's chains), nearest chains backwards from several starts (deletion), the k-hop
neighbourhood of a set of nodes (graph views), collapsing nodes into groups (views at a depth),
longest-path layers with cycles broken (the HTML layout) and finding a cycle (`uses` in the config).

No networkx: the design first had it here, but what scopeguard asks of a graph is a handful of
breadth- and depth-first walks, and importing networkx cost 0.1-0.2 s — as much as a whole cached
import-linter run — on every run that had to build the graph.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

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


CHAIN_SHOWN = 32  # modules of a chain kept whole; a longer chain keeps its ends around a marker


def elided(count: int) -> str:
    """What stands for `count` modules left out of the middle of a long chain (no module name has a space)."""
    return f"... {count} more ..."


class Chains:
    """Every node's chain read from `Digraph.nearest_backwards`, in time and space linear in the
    nodes: a chain of more than `limit` modules keeps its first `limit // 2` and its last ones around
    `elided(n)` (a chain of n unguarded imports would otherwise give n chains of O(n) links: output
    and memory quadratic in what the analysed tree holds). Tails are shared, read once."""

    def __init__(self, nearest: Mapping[str, tuple[str, Any]], limit: int = CHAIN_SHOWN) -> None:
        self.nearest = nearest
        self.head = limit // 2
        self.tail = limit - self.head - 1
        self.limit = limit
        self._ends: dict[str, tuple[int, tuple[str, ...]]] = {}  # node -> (length, last `tail` modules)

    def _end(self, node: str) -> tuple[int, tuple[str, ...]]:
        path = []
        while node not in self._ends and node in self.nearest:
            path.append(node)
            node = self.nearest[node][0]
        length, tail = self._ends.get(node, (1, (node,)))
        for item in reversed(path):
            length += 1
            tail = (item, *tail)[: self.tail] if len(tail) < self.tail else tail
            self._ends[item] = (length, tail)
        return length, tail

    def __call__(self, node: str) -> tuple[str, ...]:
        length, tail = self._end(node)
        if length <= self.limit:
            return chain(node, self.nearest)
        head = [node]
        while len(head) < self.head:
            head.append(self.nearest[head[-1]][0])
        return (*head, elided(length - self.head - len(tail)), *tail)
