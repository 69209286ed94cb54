"""View -> Graphviz DOT: scopes as clusters, one edge per (importer, imported, kind), a legend."""

from __future__ import annotations

from .style import (
    EDGE_STYLES,
    LEGEND_TITLE,
    SCOPE_BORDER,
    SCOPE_FILL,
    VIOLATION_COLOUR,
    count_label,
    edge_colour,
    edge_width,
    site_noun,
)
from ...base.text import printable
from .view import Edge, EdgeKind, Node, View

_SHAPES = {"module": "box", "package": "folder", "file": "note", "folder": "folder"}


def render_dot(view: View, legend: bool = True) -> str:
    lines = [
        "digraph scopeguard {",
        (
            f"  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=11, label={_quote(view.title)}, labelloc=t, "
            "compound=true, newrank=true, nodesep=0.3, ranksep=0.6];"
        ),
        '  node [fontname="Helvetica", fontsize=10, style="rounded,filled", fillcolor="#ffffff", color="#555555"];',
        '  edge [fontname="Helvetica", fontsize=9, arrowsize=0.7];',
    ]
    clustered = set()
    for index, cluster in enumerate(view.clusters):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(
            f"    label={_quote(cluster.title)}; style=\"rounded,filled\"; "
            f"fillcolor=\"{SCOPE_FILL}\"; color=\"{SCOPE_BORDER}\";"
        )
        for node_id in cluster.nodes:
            lines.append("    " + _node(view.node(node_id)))
            clustered.add(node_id)
        lines.append("  }")
    for node in view.nodes:
        if node.id not in clustered:
            lines.append("  " + _node(node))
    for edge in view.edges:
        style = EDGE_STYLES[edge.kind]
        attrs = {
            "label": count_label(edge.count),
            "color": edge_colour(edge.kind, edge.violating),
            "fontcolor": edge_colour(edge.kind, edge.violating),
            "style": style.dot_style,
            "penwidth": f"{edge_width(edge.kind, edge.violating):g}",
            "tooltip": _edge_tooltip(edge),
        }
        if style.arrowhead != "normal":
            attrs["arrowhead"] = style.arrowhead
        if edge.kind is EdgeKind.TYPE:
            attrs["constraint"] = "false"  # type-only imports should not shape the layering
        lines.append(f"  {_quote(edge.source)} -> {_quote(edge.target)} [{_attrs(attrs)}];")
    if legend:
        lines += _legend(view)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _edge_tooltip(edge: Edge) -> str:
    text = f"{edge.kind.label}: {site_noun(edge.kind, edge.count)}"
    if edge.dynamic:
        text += f" ({edge.dynamic} dynamic, through importlib)"
    if edge.kind.coupling:
        text += ": " + ", ".join(dict.fromkeys(site.statement for site in edge.sites))
    if edge.codes:
        text += f"; {', '.join(edge.codes)}"
    return text


def _node(node: Node) -> str:
    attrs = {"label": node.label, "shape": _SHAPES[node.kind], "tooltip": _tooltip(node)}
    if node.violations:
        attrs.update(color=VIOLATION_COLOUR, penwidth="2", fontcolor=VIOLATION_COLOUR)
    return f"{_quote(node.id)} [{_attrs(attrs)}];"


def _tooltip(node: Node) -> str:
    text = f"{node.id}: {node.kind}, {node.files} file(s)"
    if node.violations:
        text += f", {len(node.violations)} violation(s)"
    return text


def _legend(view: View) -> list[str]:
    """A cluster of labelled sample edges: the kinds drawn, plus 'violation' when one is shown."""
    kinds = [k for k in EdgeKind if any(e.kind is k for e in view.edges)] or list(EdgeKind)
    lines = ['  subgraph cluster_legend {', f'    label={_quote(LEGEND_TITLE)}; style="rounded"; color="#bbbbbb";',
             '    node [shape=point, width=0.05, label=""];']
    samples = [(kind.value, kind.label, EDGE_STYLES[kind].colour, EDGE_STYLES[kind].dot_style, EDGE_STYLES[kind].width,
                EDGE_STYLES[kind].arrowhead) for kind in kinds]
    if any(e.violating for e in view.edges):
        samples.append(("violation", "violation (red, thick)", VIOLATION_COLOUR, "solid", 3.0, "normal"))
    previous = None
    for name, label, colour, dot_style, width, arrowhead in samples:
        a, b = _quote(f"legend_{name}_a"), _quote(f"legend_{name}_b")
        # Each sample on its own row, drawn left to right, rows stacked by invisible edges.
        lines.append(f"    {{ rank=same; {a}; {b}; }}")
        attrs = {"label": label, "color": colour, "fontcolor": colour, "style": dot_style, "penwidth": f"{width:g}"}
        if arrowhead != "normal":
            attrs["arrowhead"] = arrowhead
        lines.append(f"    {a} -> {b} [{_attrs(attrs)}, minlen=3];")
        if previous is not None:
            lines.append(f"    {previous} -> {a} [style=invis];")
        previous = a
    lines.append("  }")
    return lines


def _attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{key}={_quote(value)}" for key, value in attrs.items())


def _quote(text: str) -> str:
    """A DOT quoted string: the one place a name is written, on one line (`printable`)."""
    return '"' + printable(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
