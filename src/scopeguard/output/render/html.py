"""View -> one self-contained HTML page: an SVG laid out in Python, the JSON document, and a small
script for pan/zoom, node details, search and edge-kind filters.

The page fetches nothing (no CDN, no fonts, no images); its Content-Security-Policy forbids every
request, so a mistake here would show as a console error rather than as a silent download.
"""

from __future__ import annotations

import json
from html import escape
from importlib import resources

from ...base.text import utf8_safe, utf8_safe_data
from .json_format import view_document
from .layout import Layout, layout
from .style import (
    EDGE_STYLES,
    SCOPE_BORDER,
    count_label,
    edge_colour,
    edge_width,
    site_noun,
)
from .view import EdgeKind, View

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def render_html(view: View) -> str:
    placed = layout(view)
    document = json.dumps(utf8_safe_data(view_document(view)), separators=(",", ":"))
    # `</script>` inside a module name is impossible, but escape `<` anyway: the JSON stays valid.
    document = document.replace("<", "\\u003c")
    # Text from the tree reaches the page only through html.escape (markup) and the JSON above; the
    # page as a whole is made UTF-8 safe (a lone surrogate in a name becomes the text `\\udcff`).
    return utf8_safe(_PAGE.format(
        csp=CSP,
        title=escape(view.title),
        css=_asset("graph.css"),
        js=_asset("graph.js"),
        data=document,
        kinds=_kind_filters(view),
        svg=_svg(view, placed),
        summary=escape(_summary(view)),
    ))


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def _summary(view: View) -> str:
    sites = sum(e.count for e in view.edges if not e.kind.coupling)
    couplings = sum(e.count for e in view.edges if e.kind.coupling)
    return (
        f"{len(view.nodes)} nodes, {len(view.edges)} edges, {sites} import sites, {couplings} couplings, "
        f"{len(view.violations)} violations"
    )


def _kind_filters(view: View) -> str:
    items = []
    for kind in EdgeKind:
        style = EDGE_STYLES[kind]
        present = sum(e.count for e in view.edges if e.kind is kind)
        sample = (
            f'<svg width="30" height="10"><line x1="1" y1="5" x2="29" y2="5" stroke="{style.colour}" '
            f'stroke-width="{style.width + 0.5:g}" stroke-dasharray="{style.dash}"/></svg>'
        )
        group = "coupling" if kind.coupling else "import"
        items.append(
            f'<label title="{escape(kind.description)}" class="{group}"><input type="checkbox" data-kind="{kind.value}" '
            f"data-group=\"{group}\" checked> {sample} {escape(kind.label)} ({present})</label>"
        )
    items.append(
        '<label title="edges with a reported violation are red and thick">'
        '<input type="checkbox" id="only-violations"> only violations</label>'
    )
    return "\n".join(items)


def _svg(view: View, placed: Layout) -> str:
    w, h = max(placed.width, 200), max(placed.height, 120)
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" '
            'preserveAspectRatio="xMidYMid meet" role="img" aria-label="import graph">'
        ),
        "<defs>",
    ]
    for colour, head in sorted({(edge_colour(e.kind, e.violating), EDGE_STYLES[e.kind].arrowhead) for e in view.edges}):
        shape, fill = _ARROWHEADS[head]
        out.append(
            f'<marker id="{_marker(colour, head)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
            f'markerUnits="userSpaceOnUse" orient="auto"><path d="{shape}" fill="{fill or colour}" stroke="{colour}"/></marker>'
        )
    out.append("</defs>")
    out.append('<g class="clusters">')
    for cluster, box in zip(view.clusters, placed.clusters, strict=True):
        out.append(
            f'<g class="cluster" data-scope="{escape(cluster.scope)}"><rect x="{box.x:.1f}" y="{box.y:.1f}" '
            f'width="{box.width:.1f}" height="{box.height:.1f}" rx="8" stroke="{SCOPE_BORDER}"/>'
            f'<text x="{box.x + 8:.1f}" y="{box.y + 15:.1f}">{escape(cluster.title)}</text></g>'
        )
    out.append("</g>")
    out.append('<g class="edges">')
    for path in placed.edges:
        edge = view.edges[path.index]
        style = EDGE_STYLES[edge.kind]
        colour = edge_colour(edge.kind, edge.violating)
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        title = f"{edge.source} → {edge.target}: {edge.kind.label}, {site_noun(edge.kind, edge.count)}"
        if edge.dynamic:
            title += f" ({edge.dynamic} dynamic)"
        if edge.codes:
            title += f"; {', '.join(edge.codes)}"
        out.append(
            f'<g class="edge kind-{edge.kind.value}{" violating" if edge.violating else ""}" data-index="{path.index}" '
            f'data-kind="{edge.kind.value}"><title>{escape(title)}</title>'
            f'<path d="{path.d}" stroke="{colour}" stroke-width="{edge_width(edge.kind, edge.violating):g}"{dash} '
            f'marker-end="url(#{_marker(colour, style.arrowhead)})"/>'
            f'<text x="{path.label_x}" y="{path.label_y}" fill="{colour}">{count_label(edge.count)}</text></g>'
        )
    out.append("</g>")
    out.append('<g class="nodes">')
    for node in view.nodes:
        box = placed.nodes[node.id]
        classes = f"node kind-{node.kind}" + (" violating" if node.violations else "")
        title = f"{node.id} ({node.kind}, {node.files} file(s))"
        if node.violations:
            title += f", {len(node.violations)} violation(s)"
        out.append(
            f'<g class="{classes}" data-id="{escape(node.id)}"><title>{escape(title)}</title>'
            f'<rect x="{box.x - box.width / 2:.1f}" y="{box.y - box.height / 2:.1f}" width="{box.width:.1f}" '
            f'height="{box.height:.1f}" rx="5"/><text x="{box.x:.1f}" y="{box.y:.1f}">{escape(node.label)}</text></g>'
        )
    out.append("</g></svg>")
    return "\n".join(out)


# Graphviz arrowhead names -> SVG marker path and fill ("" = the edge's colour): the same shapes as in DOT.
_ARROWHEADS = {
    "normal": ("M0,0 L10,5 L0,10 z", ""),
    "empty": ("M1,1 L9,5 L1,9 z", "#ffffff"),
    "diamond": ("M0,5 L5,1 L10,5 L5,9 z", ""),
    "tee": ("M7,0 L10,0 L10,10 L7,10 z", ""),
}


def _marker(colour: str, head: str) -> str:
    return f"arrow-{colour[1:]}" + ("" if head == "normal" else f"-{head}")


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
<header>
<h1>{title}</h1>
<input type="search" id="search" placeholder="search modules (Enter: go to)" aria-label="search modules">
<button type="button" id="fit">fit</button>
<span id="kinds">
{kinds}
</span>
<span class="muted">{summary}</span>
</header>
<main>
<div id="canvas">
{svg}
</div>
<aside id="details" aria-live="polite"></aside>
</main>
<script type="application/json" id="graph-data">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""
