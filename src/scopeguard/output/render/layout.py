"""A layered layout computed in Python, so that the HTML page needs no layout library.

Importers sit above what they import (layers by longest path, cycles broken where a depth-first
walk meets them, type-only edges ignored). Each scope owns a vertical band of its own and the code
outside scopes another, so a scope's box never overlaps a node that is not in it. Inside a band,
nodes are ordered by the mean position of their neighbours (a few up and down sweeps), and a layer
wider than `max_columns` wraps onto extra rows instead of making the picture wider.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from ...base.digraph import Digraph
from .view import EdgeKind, View

NODE_HEIGHT = 28
CHAR_WIDTH = 6.6  # of the 12px sans-serif labels, generously
ROW_GAP = 16
LAYER_GAP = 64
COLUMN_GAP = 22
BAND_GAP = 48
CLUSTER_PAD = 14
CLUSTER_TITLE = 22


@dataclass(frozen=True)
class Box:
    x: float  # centre
    y: float  # centre
    width: float
    height: float


@dataclass(frozen=True)
class ClusterBox:
    scope: str
    x: float  # left
    y: float  # top
    width: float
    height: float


@dataclass(frozen=True)
class EdgePath:
    index: int  # into view.edges
    d: str  # SVG path
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Layout:
    nodes: dict[str, Box]
    clusters: tuple[ClusterBox, ...]
    edges: tuple[EdgePath, ...]
    width: float
    height: float


def node_width(label: str) -> float:
    return round(len(label) * CHAR_WIDTH + 20)


def layout(view: View, max_columns: int = 6) -> Layout:
    ids = [n.id for n in view.nodes]
    layer = Digraph.of(ids, ((e.source, e.target) for e in view.edges if e.kind is not EdgeKind.TYPE)).layers(ids)
    band_of = {n.id: n.scope or "" for n in view.nodes}
    bands = [""] + [c.scope for c in view.clusters]  # outside code first, then the scopes in config order
    layers = max(layer.values(), default=-1) + 1

    # cells[band][layer] = ordered node ids
    cells: dict[str, list[list[str]]] = {b: [[] for _ in range(layers)] for b in bands}
    for node_id in ids:
        cells[band_of[node_id]][layer[node_id]].append(node_id)
    _order(cells, view, layers)

    widths = {n.id: node_width(n.label) for n in view.nodes}
    column_width = {b: max((widths[n] for row in cells[b] for n in row), default=0) + COLUMN_GAP for b in bands}
    columns = {b: min(max_columns, max((len(row) for row in cells[b]), default=0)) for b in bands}
    rows_in_layer = [max((math.ceil(len(cells[b][k]) / max_columns) for b in bands), default=1) or 1 for k in range(layers)]

    titles = {c.scope: c.title for c in view.clusters}
    for b in bands[1:]:  # a scope's band is at least as wide as its title
        title = len(titles[b]) * CHAR_WIDTH + 16
        if columns[b] and columns[b] * column_width[b] < title:
            column_width[b] = title / columns[b]
    band_left: dict[str, float] = {}
    x = CLUSTER_PAD
    for b in bands:
        if columns[b] == 0:
            continue
        band_left[b] = x + (CLUSTER_PAD if b else 0)
        x = band_left[b] + columns[b] * column_width[b] + (CLUSTER_PAD if b else 0) + BAND_GAP
    width = x - BAND_GAP + CLUSTER_PAD

    layer_top = []
    y = CLUSTER_TITLE + CLUSTER_PAD + 8
    for k in range(layers):
        layer_top.append(y)
        y += rows_in_layer[k] * (NODE_HEIGHT + ROW_GAP) - ROW_GAP + LAYER_GAP
    height = y - LAYER_GAP + CLUSTER_PAD + 8

    boxes: dict[str, Box] = {}
    for b in bands:
        for k in range(layers):
            row = cells[b][k]
            for i, node_id in enumerate(row):
                sub, col = divmod(i, max_columns)
                in_this_row = min(max_columns, len(row) - sub * max_columns)
                offset = (columns[b] - in_this_row) * column_width[b] / 2  # centre a short row in its band
                cx = band_left[b] + offset + col * column_width[b] + column_width[b] / 2
                cy = layer_top[k] + sub * (NODE_HEIGHT + ROW_GAP) + NODE_HEIGHT / 2
                boxes[node_id] = Box(cx, cy, widths[node_id], NODE_HEIGHT)

    clusters = []
    for cluster in view.clusters:
        member_boxes = [boxes[n] for n in cluster.nodes]
        top = min(bx.y - bx.height / 2 for bx in member_boxes) - CLUSTER_PAD - CLUSTER_TITLE
        bottom = max(bx.y + bx.height / 2 for bx in member_boxes) + CLUSTER_PAD
        left = band_left[cluster.scope] - CLUSTER_PAD
        right = band_left[cluster.scope] + columns[cluster.scope] * column_width[cluster.scope] + CLUSTER_PAD
        clusters.append(ClusterBox(cluster.scope, left, top, right - left, bottom - top))

    return Layout(boxes, tuple(clusters), tuple(_edge_paths(view, boxes)), width, height)


def _order(cells: dict[str, list[list[str]]], view: View, layers: int) -> None:
    """Barycentre ordering inside each band's layer, sweeping down then up."""
    drawn = Digraph.of((n.id for n in view.nodes), ((e.source, e.target) for e in view.edges))
    neighbours = {node: drawn.neighbours(node) for node in drawn.nodes()}
    for row in (row for band in cells.values() for row in band):
        row.sort()
    for sweep in range(4):
        position = {n: i for band in cells.values() for row in band for i, n in enumerate(row)}
        span = range(1, layers) if sweep % 2 == 0 else range(layers - 2, -1, -1)
        for k in span:
            for band in cells.values():
                row = band[k]

                def key(node: str, position=position) -> tuple[float, str]:
                    near = [position[m] for m in neighbours[node] if m in position]
                    return (sum(near) / len(near) if near else position[node], node)

                row.sort(key=key)


def _edge_paths(view: View, boxes: dict[str, Box]) -> list[EdgePath]:
    """Cubic curves from the importer's bottom to the imported's top; parallel edges fanned out."""
    pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, e in enumerate(view.edges):
        pairs[e.source, e.target].append(index)
    paths = []
    for (source, target), indices in pairs.items():
        a, b = boxes[source], boxes[target]
        for slot, index in enumerate(indices):
            spread = (slot - (len(indices) - 1) / 2) * 10
            if b.y > a.y:  # downwards: the usual direction
                x0, y0, x3, y3 = a.x + spread, a.y + a.height / 2, b.x + spread, b.y - b.height / 2
                bend = max(30.0, (y3 - y0) / 2)
                x1, y1, x2, y2 = x0, y0 + bend, x3, y3 - bend
            else:  # upwards or sideways (a cycle, or a type-only edge): leave by the top, loop aside
                x0, y0, x3, y3 = a.x + spread, a.y - a.height / 2, b.x + spread, b.y + b.height / 2
                bend = max(40.0, (y0 - y3) / 2)
                side = 50.0 if b.x >= a.x else -50.0
                x1, y1, x2, y2 = x0 + side, y0 - bend, x3 + side, y3 + bend
            mid_x = (x0 + 3 * x1 + 3 * x2 + x3) / 8
            mid_y = (y0 + 3 * y1 + 3 * y2 + y3) / 8
            d = f"M{x0:.1f},{y0:.1f} C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} {x3:.1f},{y3:.1f}"
            paths.append(EdgePath(index, d, round(mid_x, 1), round(mid_y, 1)))
    paths.sort(key=lambda p: p.index)
    return paths
