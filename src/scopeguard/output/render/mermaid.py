"""View -> Mermaid flowchart (renders in GitHub Markdown): scopes as subgraphs, styled links, a legend."""

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
)
from ...base.text import printable
from .view import EdgeKind, View


def render_mermaid(view: View, legend: bool = True) -> str:
    ids = {node.id: f"n{index}" for index, node in enumerate(view.nodes)}
    lines = [f"%% {printable(view.title)}", "flowchart TB"]
    clustered = set()
    for index, cluster in enumerate(view.clusters):
        lines.append(f"  subgraph s{index}[{_text(cluster.title)}]")
        for node_id in cluster.nodes:
            lines.append(f"    {ids[node_id]}{_shape(view.node(node_id).kind, view.node(node_id).label)}")
            clustered.add(node_id)
        lines.append("  end")
        lines.append(f"  style s{index} fill:{SCOPE_FILL},stroke:{SCOPE_BORDER}")
    for node in view.nodes:
        if node.id not in clustered:
            lines.append(f"  {ids[node.id]}{_shape(node.kind, node.label)}")
    styles = []
    for edge in view.edges:
        lines.append(f"  {ids[edge.source]} -->|{_text(count_label(edge.count))}| {ids[edge.target]}")
        styles.append(_link_style(edge.kind, edge.violating))
    if legend:
        kinds = [k for k in EdgeKind if any(e.kind is k for e in view.edges)] or list(EdgeKind)
        lines.append(f"  subgraph legend[{_text(LEGEND_TITLE)}]")
        samples = [(kind.value.replace("-", "_"), kind.label, kind, False) for kind in kinds]
        if any(e.violating for e in view.edges):
            samples.append(("violation", "violation (red, thick)", EdgeKind.IMPORT, True))
        for name, label, kind, violating in samples:
            lines.append(f'    legend_{name}_a[" "] -->|{_text(label)}| legend_{name}_b[" "]')
            styles.append(_link_style(kind, violating))
        lines.append("  end")
    for index, style in enumerate(styles):
        lines.append(f"  linkStyle {index} {style}")
    flagged = [ids[n.id] for n in view.nodes if n.violations]
    if flagged:
        lines.append(f"  classDef violation stroke:{VIOLATION_COLOUR},stroke-width:2px,color:{VIOLATION_COLOUR}")
        lines.append(f"  class {','.join(flagged)} violation")
    return "\n".join(lines) + "\n"


def _link_style(kind: EdgeKind, violating: bool) -> str:
    style = EDGE_STYLES[kind]
    parts = [f"stroke:{edge_colour(kind, violating)}", f"stroke-width:{edge_width(kind, violating):g}px"]
    if style.dash:
        parts.append(f"stroke-dasharray:{style.dash}")
    return ",".join(parts)


def _shape(kind: str, label: str) -> str:
    text = _text(label)
    if kind in ("package", "folder"):
        return f"[[{text}]]"  # subroutine box: several files
    if kind == "file":
        return f"[/{text}/]"
    return f"[{text}]"


def _text(text: str) -> str:
    """A quoted Mermaid label; `"` cannot be escaped with a backslash there, only as an entity. The
    one place a label is written: on one line (`printable`), with no HTML of its own."""
    text = printable(text).replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    return '"' + text + '"'
