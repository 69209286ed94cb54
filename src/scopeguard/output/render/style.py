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
    arrowhead: str = "normal"  # Graphviz `arrowhead`: couplings end differently from imports


EDGE_STYLES: dict[EdgeKind, EdgeStyle] = {
    EdgeKind.IMPORT: EdgeStyle("#222222", "solid", "", 2.0),
    EdgeKind.LAZY: EdgeStyle("#1f5fbf", "dashed", "7 4", 1.5),
    EdgeKind.OPTIONAL: EdgeStyle("#7a4fb0", "dotted", "2 3", 1.5),
    EdgeKind.OTHER_TOGGLE: EdgeStyle("#b36b00", "dashed", "10 3 2 3", 1.5),
    EdgeKind.TOGGLE: EdgeStyle("#2a8a2a", "solid", "", 1.2),
    EdgeKind.TYPE: EdgeStyle("#9a9a9a", "dotted", "1 4", 1.2),
    # Couplings without an import statement: colours no import kind uses, and their own arrowheads.
    EdgeKind.REGISTRY_LOOKUP: EdgeStyle("#0b8a8f", "dashed", "6 3 1 3", 1.6, "empty"),
    EdgeKind.REGISTRY_REGISTRATION: EdgeStyle("#c2187a", "dashed", "4 2", 1.6, "diamond"),
    EdgeKind.MONKEYPATCH: EdgeStyle("#8c564b", "bold", "", 2.2, "tee"),
}
VIOLATION_COLOUR = "#d62728"  # a violating edge or node: red, drawn thicker
SCOPE_FILL = "#eef4fb"
SCOPE_BORDER = "#5b8cc4"


def edge_colour(kind: EdgeKind, violating: bool) -> str:
    return VIOLATION_COLOUR if violating else EDGE_STYLES[kind].colour


def edge_width(kind: EdgeKind, violating: bool) -> float:
    return EDGE_STYLES[kind].width + (1.5 if violating else 0.0)


def count_label(count: int) -> str:
    """An edge label: the number of sites (import statements or couplings) behind the edge."""
    return str(count)


def site_noun(kind: EdgeKind, count: int) -> str:
    """`3 import sites`, `1 registry lookup`: what an edge's count counts, for tooltips."""
    if not kind.coupling:
        noun = "import site"
    else:
        noun = {EdgeKind.REGISTRY_LOOKUP: "lookup", EdgeKind.REGISTRY_REGISTRATION: "registration"}.get(kind, "patch")
    plural = "es" if noun.endswith("ch") else "s"
    return f"{count} {noun}{'' if count == 1 else plural}"


LEGEND_TITLE = "legend (edge label = number of sites)"
