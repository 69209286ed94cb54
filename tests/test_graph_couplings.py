"""`scopeguard graph` on fixtures/tvm_ffi: couplings without an import statement (registry lookups,
registrations, monkeypatches) as edge kinds of their own, marked by the violations of SG102, SG103
and SG207, in every format and every view."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from scopeguard.config import find_config, load_config
from scopeguard.analysis.graph import ImportGraph
from scopeguard.run.pipeline import collect
from scopeguard.output.render.dot import render_dot
from scopeguard.output.render.html import render_html
from scopeguard.output.render.json_format import view_document
from scopeguard.output.render.mermaid import render_mermaid
from scopeguard.output.render.style import EDGE_STYLES
from scopeguard.output.render.view import EdgeKind, Options, build_view
from scopeguard.rules import Project, run, selected

from .conftest import FIXTURES, REPO

PROJECT = FIXTURES / "tvm_ffi"
LOOKUP, REGISTRATION, PATCH = EdgeKind.REGISTRY_LOOKUP, EdgeKind.REGISTRY_REGISTRATION, EdgeKind.MONKEYPATCH

# (source, target, kind) -> [(line, name shown, how the site is guarded, codes)], for the whole project.
COUPLINGS = {
    ("tests/python/test_driver.py", "tvm.relax", "registry-lookup"): [
        (5, "relax.transform.fuse_ops", "lazy", ["SG207"]),
    ],
    ("tvm.contrib.cutlass.build", "tvm.contrib.msc", "registry-lookup"): [
        (37, "msc.core.run", "lazy", ["SG207"]),  # cutlass does not list msc in `uses`
    ],
    ("tvm.contrib.cutlass.build", "tvm.ir", "monkeypatch"): [
        (40, "tvm.ir.Op.cutlass_attr", "import", ["SG103"]),
        (41, "tvm.ir.Op.cutlass_hook", "import", ["SG103"]),
        (46, "tvm.ir.Op.profile", "lazy", []),  # inside a function: drawn, not reported
    ],
    ("tvm.contrib.cutlass.build", "tvm.relax", "registry-lookup"): [
        (18, "relax.contrib.extract_arg_idx", "lazy", []),  # cutlass `uses` relax
    ],
    ("tvm.contrib.cutlass.build", "tvm.relax", "registry-registration"): [
        (31, "relax.CutlassAttrs", "import", ["SG102"]),
    ],
    ("tvm.driver._ffi_api", "tvm.relax", "registry-lookup"): [
        (3, "relax.transform.*", "import", ["SG207"]),  # init_ffi_api binds a namespace
    ],
    ("tvm.driver.build", "tvm.contrib.cutlass", "registry-lookup"): [
        (15, "relax.ext.cutlass", "optional", []),  # allow_missing=True; "relax.ext.cutlass" beats "relax."
        (22, "contrib.cutlass.compile", "lazy", ["SG207"]),
        (28, "contrib.cutlass.compile", "toggle", []),
    ],
    ("tvm.driver.build", "tvm.relax", "registry-lookup"): [
        (12, "relax.transform.fuse_ops", "import", ["SG207"]),
        (14, "relax.build", "toggle", []),
        (32, "relax.ext.*", "lazy", ["SG207"]),  # an f-string: only its start is known
        (50, "relax.vm.alloc", "lazy", ["SG207"]),
    ],
}


@pytest.fixture(scope="module")
def project():
    config = load_config(find_config(PROJECT))
    facts = collect(config)
    graph = ImportGraph(facts.files)
    return config, graph, run(Project(config, graph, facts.build), selected())


def view_of(project, blast=None, **options):
    config, graph, violations = project
    return build_view(config, graph, violations, Options(**options), blast=blast)


def couplings(view):
    return {(e.source, e.target, e.kind.value): e for e in view.edges if e.kind.coupling}


def table(document):
    kinds = {k["id"] for k in document["edge_kinds"] if k["group"] == "coupling"}
    return {
        (e["source"], e["target"], e["kind"]): [(s["line"], s["statement"], s["guard"], s["violations"]) for s in e["sites"]]
        for e in document["edges"]
        if e["kind"] in kinds
    }


def test_coupling_edges_kinds_counts_and_marks(project):
    view = view_of(project)
    edges = couplings(view)
    assert {key: [(s.line, s.statement, s.guarded_as.value, list(s.violations)) for s in e.sites]
            for key, e in edges.items()} == COUPLINGS
    assert all(e.boundary for e in edges.values())
    violating = {key for key, e in edges.items() if e.violating}
    assert violating == set(COUPLINGS) - {("tvm.contrib.cutlass.build", "tvm.relax", "registry-lookup")}
    # Not drawn: lookups and registrations of the file's own scope's names (cutlass registers
    # "contrib.cutlass.compile", relax binds "relax"), names no scope owns ("support.GetLibInfo"),
    # and a patch inside the scope (`_ffi_api.patched_here`).
    assert not any(e.target == e.source or (e.kind.coupling and e.target == "tvm.contrib.cutlass._ffi_api")
                   for e in view.edges)
    assert "tvm.support" not in {e.source for e in edges.values()}


def test_every_coupling_violation_marks_its_edge_but_a_registration_nobody_owns(project):
    """The graph and `check` agree: each SG102/SG103/SG207 finding is on a coupling site, except a
    registration of a name no scope owns, which has no edge and shows on its node."""
    view = view_of(project)
    marked = {(s.path, s.line, c) for e in view.edges if e.kind.coupling for s in e.sites for c in s.violations}
    reported = {(v.path, v.line, v.code) for v in project[2] if v.code in ("SG102", "SG103", "SG207")}
    assert reported - marked == {("python/tvm/contrib/cutlass/build.py", 28, "SG102")}  # 'tvm.ir.cutlass_hook'
    assert marked <= reported
    assert "SG102" in [v.code for v in view.node("tvm.contrib.cutlass.build").violations]


def test_views_follow_coupling_edges(project):
    # --depth: couplings collapse with their ends, never past a scope.
    depth = couplings(view_of(project, depth=2))
    assert {k: e.count for k, e in depth.items()} == {
        ("tests/python/test_driver.py", "tvm.relax", "registry-lookup"): 1,
        ("tvm.contrib.cutlass", "tvm.contrib.msc", "registry-lookup"): 1,
        ("tvm.contrib.cutlass", "tvm.ir", "monkeypatch"): 3,
        ("tvm.contrib.cutlass", "tvm.relax", "registry-lookup"): 1,
        ("tvm.contrib.cutlass", "tvm.relax", "registry-registration"): 1,
        ("tvm.driver", "tvm.contrib.cutlass", "registry-lookup"): 3,
        ("tvm.driver", "tvm.relax", "registry-lookup"): 5,  # build.py's 4 and _ffi_api.py's 1
    }
    # --scope: cutlass.build is msc's neighbour through a lookup alone (no import links them);
    # driver.build through a dynamic import.
    msc = view_of(project, focus="tvm.contrib.msc", hops=1)
    assert {n.id for n in msc.nodes} == {"tvm.contrib.msc", "tvm.contrib.msc.core", "tvm.contrib.cutlass.build", "tvm.driver.build"}
    assert [(e.source, e.target, e.kind) for e in msc.edges] == [
        ("tvm.contrib.cutlass.build", "tvm.contrib.msc", LOOKUP), ("tvm.contrib.msc", "tvm.contrib.msc.core", EdgeKind.IMPORT),
        ("tvm.driver.build", "tvm.contrib.msc", EdgeKind.LAZY),
    ]
    # --boundary keeps every coupling edge (each crosses one).
    assert couplings(view_of(project, boundary=True)).keys() == COUPLINGS.keys()
    # --blast-radius: the links from a broken module into the scope, couplings included.
    blast = view_of(project, blast={"tvm.driver.build"}, blast_radius="tvm.relax")
    assert [(e.source, e.target, e.kind, e.count) for e in blast.edges] == [("tvm.driver.build", "tvm.relax", LOOKUP, 4)]


def test_dynamic_imports_stay_imports_and_say_so(project):
    view = view_of(project)
    dynamic = {(e.source, e.target, e.kind.value, e.dynamic) for e in view.edges if e.dynamic}
    assert dynamic == {
        ("tvm.driver.build", "tvm.contrib", "import", 1),  # find_spec("tvm.contrib.msc") imports the parent
        ("tvm.driver.build", "tvm.contrib.msc", "lazy", 1),
        ("tvm.driver.build", "tvm.driver.helpers", "import", 1),
    }
    document = view_document(view)
    lazy = next(e for e in document["edges"] if (e["source"], e["target"], e["kind"]) == ("tvm.driver.build", "tvm.contrib.msc", "lazy"))
    assert lazy["dynamic"] == 1 and [(s["line"], s["dynamic"], s["violations"]) for s in lazy["sites"]] == [(54, True, ["SG205"])]
    assert '"tvm.driver.build" -> "tvm.contrib.msc" [label="1", color="#d62728"' in render_dot(view)
    assert "lazy (inside a function): 1 import site (1 dynamic, through importlib)" in render_dot(view)


def test_json_coupling_edges_and_schema(project):
    document = json.loads(json.dumps(view_document(view_of(project))))
    assert document["schema_version"] == 3
    assert table(document) == COUPLINGS
    lookup = next(e for e in document["edges"] if (e["source"], e["target"], e["kind"]) == ("tvm.driver._ffi_api", "tvm.relax", "registry-lookup"))
    assert lookup["sites"] == [{
        "path": "python/tvm/driver/_ffi_api.py", "line": 3, "column": 1, "importer": "tvm.driver._ffi_api",
        "imported": "tvm.relax", "statement": "relax.transform.*", "dynamic": False, "guard": "import",
        "via": "tvm_ffi.init_ffi_api", "violations": ["SG207"],
    }]
    assert lookup["count"] == 1 and lookup["violations"] == ["SG207"] and lookup["dynamic"] == 0
    patch = next(e for e in document["edges"] if e["kind"] == "monkeypatch")
    assert [s["via"] for s in patch["sites"]] == ["assign", "setattr", "assign"]
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "docs" / "graph-json-schema.json").read_text())
    for options in ({}, {"depth": 2}, {"focus": "tvm.relax", "hops": 1}, {"boundary": True}):
        jsonschema.validate(json.loads(json.dumps(view_document(view_of(project, **options)))), schema)


def _dot_edges(text: str) -> dict[tuple[str, str, str], dict[str, str]]:
    found = {}
    for source, target, attrs in re.findall(r'^\s*"([^"]+)" -> "([^"]+)" \[(.*)\];$', text, re.MULTILINE):
        fields = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', attrs))
        if "label" not in fields:
            continue  # the legend's invisible spacers
        found[source, target, fields.get("tooltip", fields["label"]).split(":")[0]] = fields
    return found


def test_dot_draws_each_coupling_kind_in_its_own_style(project):
    text = render_dot(view_of(project))
    edges = _dot_edges(text)
    drawn = {(s, t, k): (a["label"], a["color"], a["style"], a.get("arrowhead", "normal"))
             for (s, t, k), a in edges.items() if not s.startswith("legend_") and k in {x.label for x in (LOOKUP, REGISTRATION, PATCH)}}
    red = "#d62728"
    assert drawn == {
        ("tests/python/test_driver.py", "tvm.relax", "registry lookup"): ("1", red, "dashed", "empty"),
        ("tvm.contrib.cutlass.build", "tvm.contrib.msc", "registry lookup"): ("1", red, "dashed", "empty"),
        ("tvm.contrib.cutlass.build", "tvm.ir", "monkeypatch"): ("3", red, "bold", "tee"),
        ("tvm.contrib.cutlass.build", "tvm.relax", "registry lookup"): ("1", EDGE_STYLES[LOOKUP].colour, "dashed", "empty"),
        ("tvm.contrib.cutlass.build", "tvm.relax", "registry registration"): ("1", red, "dashed", "diamond"),
        ("tvm.driver._ffi_api", "tvm.relax", "registry lookup"): ("1", red, "dashed", "empty"),
        ("tvm.driver.build", "tvm.contrib.cutlass", "registry lookup"): ("3", red, "dashed", "empty"),
        ("tvm.driver.build", "tvm.relax", "registry lookup"): ("4", red, "dashed", "empty"),
    }
    tooltip = edges["tvm.driver.build", "tvm.contrib.cutlass", "registry lookup"]["tooltip"]
    assert tooltip == "registry lookup: 3 lookups: relax.ext.cutlass, contrib.cutlass.compile; SG207"
    legend = [(a["label"], a.get("arrowhead", "normal")) for (s, _, _), a in edges.items() if s.startswith("legend_")]
    assert [label for label, _ in legend] == [
        "unguarded, import time", "lazy (inside a function)", "behind the toggle",
        "registry lookup", "registry registration", "monkeypatch", "violation (red, thick)",
    ]
    assert dict(legend)["monkeypatch"] == "tee"
    # Every coupling kind has a style of its own: no two kinds share colour, dash and arrowhead.
    looks = [(s.colour, s.dash, s.arrowhead) for s in EDGE_STYLES.values()]
    assert len(set(looks)) == len(looks) == len(EdgeKind)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed (Debian: apt-get install graphviz)")
def test_dot_with_couplings_is_accepted_by_graphviz(project):
    view = view_of(project)
    done = subprocess.run(["dot", "-Tjson"], input=render_dot(view), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    laid_out = json.loads(done.stdout)
    drawn = [e for e in laid_out["edges"] if not laid_out["objects"][e["tail"]]["name"].startswith("legend_")]
    assert len(drawn) == len(view.edges) == 26


def test_mermaid_and_html_show_the_coupling_kinds(project):
    view = view_of(project)
    mermaid = render_mermaid(view)
    legend = re.findall(r'^\s+legend_(\w+)_a\[" "\] -->\|"([^"]*)"\|', mermaid, re.MULTILINE)
    assert ("registry_lookup", "registry lookup") in legend and ("monkeypatch", "monkeypatch") in legend
    styles = re.findall(r"^  linkStyle (\d+) (.*)$", mermaid, re.MULTILINE)
    index = next(i for i, e in enumerate(view.edges) if (e.source, e.target, e.kind) == ("tvm.contrib.cutlass.build", "tvm.relax", LOOKUP))
    assert styles[index][1] == "stroke:#0b8a8f,stroke-width:1.6px,stroke-dasharray:6 3 1 3"
    page = render_html(view)
    boxes = re.findall(r'<input type="checkbox" data-kind="([\w-]+)" data-group="(\w+)" checked> .*? \((\d+)\)</label>', page)
    assert boxes[-3:] == [("registry-lookup", "coupling", "11"), ("registry-registration", "coupling", "1"),
                          ("monkeypatch", "coupling", "3")]
    assert len(re.findall(r'<g class="edge kind-registry-lookup[ "]', page)) == 6
    assert 'marker-end="url(#arrow-8c564b-tee)"' not in page  # the only patch edge is violating: red tee
    assert 'marker-end="url(#arrow-d62728-tee)"' in page and 'id="arrow-0b8a8f-empty"' in page
    assert "20 import sites, 15 couplings" in page


def test_layout_keeps_scopes_apart_with_coupling_edges(project):
    from scopeguard.output.render.layout import layout

    for options in ({}, {"depth": 2}, {"boundary": True}):
        view = view_of(project, **options)
        placed = layout(view)
        assert set(placed.nodes) == {n.id for n in view.nodes} and len(placed.edges) == len(view.edges)
        for cluster, box in zip(view.clusters, placed.clusters, strict=True):
            for node in view.nodes:
                b = placed.nodes[node.id]
                inside = box.x <= b.x - b.width / 2 and b.x + b.width / 2 <= box.x + box.width and box.y <= b.y <= box.y + box.height
                assert inside == (node.id in cluster.nodes), (options, cluster.scope, node.id)
