"""View -> JSON, for other tools. The schema is docs/graph-json-schema.json (JSON Schema 2020-12); the tests validate against it.

SCHEMA_VERSION changes whenever a field is removed or changes meaning; adding a field does not
change it, so consumers should ignore keys they do not know. Version 2 (issue 7): an edge is no
longer always an import; the kinds registry-lookup, registry-registration and monkeypatch are
couplings without an import statement (`edge_kinds[].group`), their sites say how they are guarded
(`guard`) and through what (`via`). Version 3 (issue 16): the version key is `schema_version`, as in
`check --format json`; a violation carries `names` and `related` (its consequences, with their
located chains).
"""

from __future__ import annotations

import json

from ...base.text import utf8_safe_data
from typing import Any

from ... import __version__
from ...run.findings import violation_record
from .view import EdgeKind, View

SCHEMA = "scopeguard-graph"
SCHEMA_VERSION = 3


def view_document(view: View) -> dict[str, Any]:
    """The view as plain JSON data (also embedded in the HTML page)."""
    options = view.options
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generator": f"scopeguard {__version__}",
        "title": view.title,
        "view": {
            "depth": options.depth,
            "scope": options.focus,
            "hops": options.hops if options.focus is not None else None,
            "boundary": options.boundary,
            "blast_radius": options.blast_radius,
        },
        "edge_kinds": [
            {"id": k.value, "label": k.label, "description": k.description, "group": "coupling" if k.coupling else "import"}
            for k in EdgeKind
        ],
        "scopes": [{"name": c.scope, "toggle": c.toggle, "nodes": list(c.nodes)} for c in view.clusters],
        "nodes": [
            {
                "id": n.id,
                "label": n.label,
                "kind": n.kind,
                "scope": n.scope,
                "files": n.files,
                "violations": [violation_record(v) for v in n.violations],
            }
            for n in view.nodes
        ],
        "edges": [
            {
                "source": e.source,
                "target": e.target,
                "kind": e.kind.value,
                "count": e.count,
                "boundary": e.boundary,
                "dynamic": e.dynamic,
                "violations": list(e.codes),
                "sites": [
                    {
                        "path": s.path,
                        "line": s.line,
                        "column": s.column,
                        "importer": s.importer,
                        "imported": s.imported,
                        "statement": s.statement,
                        "dynamic": s.dynamic,
                        "guard": s.guarded_as.value,
                        "via": s.via,
                        "violations": list(s.violations),
                    }
                    for s in e.sites
                ],
            }
            for e in view.edges
        ],
        "violations": [violation_record(v) for v in view.violations],
    }


def render_json(view: View) -> str:
    """The document as JSON text: ASCII, with lone surrogates written as the text `\\udcff`
    (`utf8_safe_data`), so every JSON reader accepts it."""
    return json.dumps(utf8_safe_data(view_document(view)), indent=2) + "\n"
