"""How each edge kind looks, shared by every drawing format so that a legend means the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from .view import EdgeKind


@dataclass(frozen=True)
class EdgeStyle:
    colour: str
    dot_style: str  # Graphviz `style`
    dash: str  # SVG stroke-dasharray ("" for solid)
    width: float


EDGE_STYLES: dict[EdgeKind, EdgeStyle] = {
    EdgeKind.IMPORT: EdgeStyle("#222222", "solid", "", 2.0),
    EdgeKind.LAZY: EdgeStyle("#1f5fbf", "dashed", "7 4", 1.5),
    EdgeKind.OPTIONAL: EdgeStyle("#7a4fb0", "dotted", "2 3", 1.5),
    EdgeKind.OTHER_TOGGLE: EdgeStyle("#b36b00", "dashed", "10 3 2 3", 1.5),
    EdgeKind.TOGGLE: EdgeStyle("#2a8a2a", "solid", "", 1.2),
    EdgeKind.TYPE: EdgeStyle("#9a9a9a", "dotted", "1 4", 1.2),
}
VIOLATION_COLOUR = "#d62728"  # a violating edge or node: red, drawn thicker
SCOPE_FILL = "#eef4fb"
SCOPE_BORDER = "#5b8cc4"


def edge_colour(kind: EdgeKind, violating: bool) -> str:
    return VIOLATION_COLOUR if violating else EDGE_STYLES[kind].colour


def edge_width(kind: EdgeKind, violating: bool) -> float:
    return EDGE_STYLES[kind].width + (1.5 if violating else 0.0)


def count_label(count: int) -> str:
    """An edge label: the number of import sites behind the edge."""
    return str(count)
