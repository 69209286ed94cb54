"""`scopeguard graph` on fixtures/tvm_like: the view model (kinds, counts, collapsing, focus,
boundary) and the structure of every format (json, dot, mermaid, html, svg)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from scopeguard.config import find_config, load_config
from scopeguard.analysis.graph import ImportGraph
from scopeguard.run.pipeline import collect
from scopeguard.output.render.dot import render_dot
from scopeguard.output.render.html import render_html
from scopeguard.output.render.json_format import SCHEMA_VERSION, view_document
from scopeguard.output.render.layout import layout
from scopeguard.output.render.mermaid import render_mermaid
from scopeguard.output.render.view import EdgeKind, Options, ViewError, build_view
from scopeguard.rules import Project, run, selected

from .conftest import FIXTURES

PROJECT = FIXTURES / "tvm_like"


@pytest.fixture(scope="module")
def project():
    config = load_config(find_config(PROJECT))
    facts = collect(config)
    graph = ImportGraph(facts.files)
    return config, graph, run(Project(config, graph, facts.build), selected())


def view_of(project, **options):
    config, graph, violations = project
    return build_view(config, graph, violations, Options(**options))


def edge_table(view):
    return {(e.source, e.target, e.kind.value): e for e in view.edges}


# ---- the view model ----

def test_full_view_kinds_counts_and_violations(project):
    view = view_of(project)
    assert len(view.nodes) == 26 and len(view.edges) == 39
    sites_by_kind = Counter()
    for e in view.edges:
        sites_by_kind[e.kind] += e.count
    assert sites_by_kind == {
        EdgeKind.IMPORT: 36, EdgeKind.TOGGLE: 8, EdgeKind.LAZY: 1, EdgeKind.OPTIONAL: 1,
        EdgeKind.OTHER_TOGGLE: 1, EdgeKind.TYPE: 1,
    }
    edges = edge_table(view)
    # One edge per kind between the same two modules, each with its sites.
    driver_core = {k: e for (s, t, k), e in edges.items() if (s, t) == ("tvm.driver.build", "tvm.contrib.msc.core")}
    assert {k: e.count for k, e in driver_core.items()} == {"import": 2, "other-toggle": 1, "toggle": 3}
    assert [(s.line, s.violations) for s in driver_core["other-toggle"].sites] == [(18, ("SG403",))]
    # Line 28 carries `# scopeguard: ignore[SG201]`: drawn, not marked.
    assert [(s.line, s.violations) for s in driver_core["import"].sites] == [(24, ("SG201",)), (28, ())]
    assert [(s.path, s.line, s.dynamic) for s in edges["tvm.driver.build", "tvm.contrib.msc", "import"].sites] == [
        ("python/tvm/driver/build.py", 21, False), ("python/tvm/driver/build.py", 26, True),
    ]
    assert edges["tvm.ir.printer", "tvm.relax", "type"].codes == ("SG203",)
    # the SG402 of this import is a related note of its SG204 (issue 16: one decision, one finding)
    assert edges["tvm.contrib.cutlass.build", "tvm.contrib.msc", "optional"].codes == ("SG204",)
    assert edges["tvm.contrib.cutlass.build", "tvm.contrib.msc.core", "lazy"].codes == ("SG202",)
    # Guarded imports stay silent; allowed `uses` (msc -> relax) is no violation.
    assert not edges["tvm", "tvm.relax", "toggle"].violating
    assert not edges["tvm.contrib.msc.core", "tvm.relax", "import"].violating
    violating = {(e.source, e.target, e.kind.value) for e in view.edges if e.violating}
    # Every mark comes from a reported violation at that very site...
    reported = {(v.importer, v.line, v.imported, v.code) for v in project[2]}
    assert all((s.importer, s.line, s.imported, c) in reported for e in view.edges for s in e.sites for c in s.violations)
    # ...and these (the SG1/SG2/SG4 findings of the fixture) are marked; other rules may mark more.
    assert violating >= {
        ("tests/python/ir/test_ir.py", "tvm.contrib.msc.core", "import"),
        ("tvm.contrib.cutlass.build", "tvm.contrib.msc", "optional"),
        ("tvm.contrib.cutlass.build", "tvm.contrib.msc.core", "lazy"),
        ("tvm.driver.build", "tvm.contrib.msc", "import"),
        ("tvm.driver.build", "tvm.contrib.msc.core", "import"),
        ("tvm.driver.build", "tvm.contrib.msc.core", "other-toggle"),
        ("tvm.ir.printer", "tvm.relax", "type"),
        ("tvm.relax.frontend.onnx", "tvm.contrib.msc.core", "import"),
        ("tvm.script.parser.relax", "tvm.relax", "import"),
    }
    # SG206 (a non-literal dynamic import) has no edge: it is shown on its node.
    assert [v.code for v in view.node("tvm.driver.build").violations] == ["SG403", "SG201", "SG201", "SG205", "SG206"]
    assert view.violations == tuple(sorted(project[2], key=lambda v: v.sort_key))  # every file is shown
    assert [(c.scope, c.toggle, c.nodes) for c in view.clusters] == [
        ("tvm.relax", "relax", ("tests/python/relax/test_expr.py", "tvm.relax", "tvm.relax.expr", "tvm.relax.frontend",
                                "tvm.relax.frontend.onnx", "tvm.relax.transform")),
        ("tvm.contrib.msc", "msc", ("tests/python/contrib/test_msc/test_core.py", "tvm.contrib.msc", "tvm.contrib.msc.core")),
    ]


def test_depth_collapses_to_packages_but_never_past_a_scope(project):
    view = view_of(project, depth=1)
    assert [(n.id, n.kind, n.files) for n in view.nodes] == [
        ("tests/python/contrib/test_msc/", "folder", 1),
        ("tests/python/ir/", "folder", 1),
        ("tests/python/relax/", "folder", 1),
        ("tvm", "package", 16),
        ("tvm.contrib.msc", "package", 2),  # depth 1 would say `tvm`: the scope keeps it apart
        ("tvm.relax", "package", 5),
    ]
    edges = edge_table(view)
    assert edges["tvm", "tvm.contrib.msc", "import"].count == 4
    assert edges["tvm", "tvm.contrib.msc", "import"].codes == ("SG201", "SG205")
    assert edges["tvm", "tvm.contrib.msc", "toggle"].count == 5
    assert not any(e.source == e.target for e in view.edges)  # imports inside a package vanish
    depth2 = view_of(project, depth=2)
    assert edge_table(depth2)["tvm.driver", "tvm.contrib.msc", "import"].count == 4
    assert depth2.node("tvm.ir").kind == "package" and depth2.node("tvm.support").kind == "module"


def test_scope_focus_with_hops(project):
    view = view_of(project, focus="tvm.relax", hops=1)
    outside = sorted(n.id for n in view.nodes if n.scope != "tvm.relax")
    assert outside == [
        "tests/python/contrib/test_msc/test_core.py", "tvm", "tvm.contrib.msc.core", "tvm.driver.build",
        "tvm.ir.printer", "tvm.script.parser.relax",
    ]
    # Every edge touches the scope: edges among its neighbours are beyond a one-hop horizon.
    assert all("tvm.relax" in (view.node(e.source).scope, view.node(e.target).scope) for e in view.edges)
    assert len(view.edges) == 10
    assert "tvm.relax.frontend" in {n.id for n in view.nodes}  # in the scope, though unconnected
    two = view_of(project, focus="tvm.relax", hops=2)
    assert {"tvm.contrib.msc", "tvm.contrib.cutlass", "tvm.script.parser"} <= {n.id for n in two.nodes}
    alone = view_of(project, focus="tvm.contrib.msc", hops=0)
    assert sorted(n.id for n in alone.nodes) == [
        "tests/python/contrib/test_msc/test_core.py", "tvm.contrib.msc", "tvm.contrib.msc.core",
    ]
    assert len(alone.edges) == 2


def test_boundary_keeps_crossing_edges_only(project):
    view = view_of(project, boundary=True)
    assert view.edges and all(e.boundary for e in view.edges)
    assert len(view.edges) == 18
    assert "tvm.ir.transform" not in {n.id for n in view.nodes}  # no boundary edge there
    # Inside one scope is not a crossing; outside -> outside neither.
    assert ("tvm.relax", "tvm.relax.expr", "import") not in edge_table(view)
    assert ("tvm", "tvm.ir", "import") not in edge_table(view)


def test_view_errors_suggest_the_near_miss(project):
    with pytest.raises(ViewError, match=r"'tvm.relx' names no scope or module.*did you mean 'tvm.relax'"):
        view_of(project, focus="tvm.relx")
    with pytest.raises(ViewError, match="--depth must be at least 1"):
        view_of(project, depth=0)


# ---- formats ----

def test_json_document(project):
    document = json.loads(json.dumps(view_document(view_of(project, depth=2))))
    assert document["schema"] == "scopeguard-graph" and document["schema_version"] == SCHEMA_VERSION == 3
    assert document["view"] == {"depth": 2, "scope": None, "hops": None, "boundary": False, "blast_radius": None}
    assert [(k["id"], k["group"]) for k in document["edge_kinds"]] == [
        ("import", "import"), ("lazy", "import"), ("optional", "import"), ("other-toggle", "import"), ("toggle", "import"),
        ("type", "import"), ("registry-lookup", "coupling"), ("registry-registration", "coupling"), ("monkeypatch", "coupling"),
    ]
    assert [s["name"] for s in document["scopes"]] == ["tvm.relax", "tvm.contrib.msc"]
    ids = {n["id"] for n in document["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in document["edges"])
    assert all(e["count"] == len(e["sites"]) for e in document["edges"])
    driver = next(e for e in document["edges"] if (e["source"], e["target"], e["kind"]) == ("tvm.driver", "tvm.contrib.msc", "other-toggle"))
    assert driver["sites"] == [{
        "path": "python/tvm/driver/build.py", "line": 18, "column": 33, "importer": "tvm.driver.build",
        "imported": "tvm.contrib.msc.core", "statement": "tvm.contrib.msc.core", "dynamic": False,
        "guard": "other-toggle", "via": "", "violations": ["SG403"],
    }]
    codes = [v["code"] for v in document["violations"]]
    assert codes == [v.code for v in sorted(project[2], key=lambda v: v.sort_key)]
    assert {"SG101", "SG201", "SG202", "SG203", "SG204", "SG205", "SG206", "SG402", "SG403"} <= set(codes)


def _dot_edges(text: str) -> list[tuple[str, str, dict[str, str]]]:
    found = []
    for source, target, attrs in re.findall(r'^\s*"([^"]+)" -> "([^"]+)" \[(.*)\];$', text, re.MULTILINE):
        found.append((source, target, dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', attrs))))
    return found


def test_dot_structure(project):
    view = view_of(project)
    text = render_dot(view)
    clusters = re.findall(r'subgraph (cluster_\w+) \{\n\s*label="([^"]*)"', text)
    assert clusters == [("cluster_0", "scope tvm.relax (toggle relax)"), ("cluster_1", "scope tvm.contrib.msc (toggle msc)"),
                        ("cluster_legend", "legend (edge label = number of sites)")]
    relax_block = text.split("subgraph cluster_0 {")[1].split("}")[0]
    assert re.findall(r'^\s*"([^"]+)" \[', relax_block, re.MULTILINE) == list(view.clusters[0].nodes)
    edges = [e for e in _dot_edges(text) if not e[0].startswith("legend_")]
    assert len(edges) == 39
    styles = {(s, t, a["style"], a["label"], a["color"]) for s, t, a in edges}
    assert ("tvm.contrib.cutlass.build", "tvm.contrib.msc.core", "dashed", "1", "#d62728") in styles  # lazy, violating
    assert ("tvm.ir.printer", "tvm.relax", "dotted", "1", "#d62728") in styles  # type-only, violating
    assert ("tvm.driver.build", "tvm.contrib.msc.core", "solid", "3", "#2a8a2a") in styles  # toggle, 3 sites
    legend = [a["label"] for s, t, a in _dot_edges(text) if s.startswith("legend_") and "label" in a]
    assert legend == [k.label for k in EdgeKind if not k.coupling] + ["violation (red, thick)"]  # kinds drawn only
    assert re.search(r'"tvm.driver.build" \[label="tvm.driver.build", shape="box", tooltip="[^"]*", color="#d62728"', text)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed (Debian: apt-get install graphviz)")
def test_dot_is_accepted_by_graphviz(project):
    for options in ({}, {"depth": 1}, {"focus": "tvm.relax", "hops": 2}, {"boundary": True}):
        text = render_dot(view_of(project, **options))
        done = subprocess.run(["dot", "-Tjson"], input=text, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        laid_out = json.loads(done.stdout)
        names = {o["name"] for o in laid_out["objects"]}
        assert {"cluster_legend"} <= names
        assert len([e for e in laid_out["edges"] if not laid_out["objects"][e["tail"]]["name"].startswith("legend_")]) == len(
            view_of(project, **options).edges
        )


def test_mermaid_structure(project):
    view = view_of(project)
    text = render_mermaid(view)
    assert text.splitlines()[1] == "flowchart TB"
    assert re.findall(r'^  subgraph (\w+)\["([^"]*)"\]', text, re.MULTILINE) == [
        ("s0", "scope tvm.relax (toggle relax)"), ("s1", "scope tvm.contrib.msc (toggle msc)"),
        ("legend", "legend (edge label = number of sites)"),
    ]
    links = re.findall(r'^\s+(\w+)(?:\[" "\])? -->\|"([^"]*)"\| (\w+)', text, re.MULTILINE)
    styles = re.findall(r"^  linkStyle (\d+) (.*)$", text, re.MULTILINE)
    assert len(links) == 39 + 7 and [int(i) for i, _ in styles] == list(range(len(links)))
    ids = dict(re.findall(r'^\s+(n\d+)\S*?"([^"]+)"', text, re.MULTILINE))
    first = view.edges[0]
    assert (ids[links[0][0]], links[0][1], ids[links[0][2]]) == (first.source, str(first.count), first.target)
    violating = [i for i, e in enumerate(view.edges) if e.violating]
    assert all("stroke:#d62728" in styles[i][1] for i in violating)
    flagged = re.search(r"^  class (\S+) violation$", text, re.MULTILINE).group(1).split(",")
    assert sorted(ids[n] for n in flagged) == sorted(n.id for n in view.nodes if n.violations)


def test_html_is_self_contained(project):
    view = view_of(project)
    page = render_html(view)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    urls = set(re.findall(r"""(?:https?:)?//[\w.-]+[^\s"'<>)]*""", page))
    assert urls == {"http://www.w3.org/2000/svg"}  # the SVG namespace name, never fetched
    assert not re.search(r"<(?:link|img|iframe)\b|\bsrc=", page)
    data = json.loads(re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', page, re.DOTALL).group(1))
    assert len(data["nodes"]) == 26 and len(data["edges"]) == 39
    svg = ET.fromstring(re.search(r"<svg xmlns.*?</svg>\n?(?=</div>)", page, re.DOTALL).group(0))
    ns = "{http://www.w3.org/2000/svg}"
    groups = [g for g in svg.iter(f"{ns}g")]
    assert sorted(g.get("data-id") for g in groups if "node" in g.get("class", "").split()) == sorted(n.id for n in view.nodes)
    assert len([g for g in groups if "edge" in g.get("class", "").split()]) == 39
    assert [g.get("data-scope") for g in groups if g.get("class") == "cluster"] == ["tvm.relax", "tvm.contrib.msc"]


def test_layout_keeps_every_node_in_its_own_cluster_box(project):
    for options in ({}, {"depth": 2}, {"focus": "tvm.relax", "hops": 2}):
        view = view_of(project, **options)
        placed = layout(view)
        for cluster, box in zip(view.clusters, placed.clusters, strict=True):
            for node in view.nodes:
                b = placed.nodes[node.id]
                inside = box.x <= b.x - b.width / 2 and b.x + b.width / 2 <= box.x + box.width and box.y <= b.y <= box.y + box.height
                overlaps = not (b.x + b.width / 2 < box.x or b.x - b.width / 2 > box.x + box.width
                                or b.y + b.height / 2 < box.y or b.y - b.height / 2 > box.y + box.height)
                assert inside if node.id in cluster.nodes else not overlaps, (cluster.scope, node.id)
        # Importers sit above what they import; an edge may point up only to close a cycle.
        successors = {}
        for e in view.edges:
            successors.setdefault(e.source, set()).add(e.target)

        def reaches(start, goal, successors=successors):
            seen, todo = set(), [start]
            while todo:
                node = todo.pop()
                if node == goal:
                    return True
                if node not in seen:
                    seen.add(node)
                    todo.extend(successors.get(node, ()))
            return False

        for e in view.edges:
            if e.kind is not EdgeKind.TYPE and placed.nodes[e.source].y >= placed.nodes[e.target].y:
                assert reaches(e.target, e.source), (e.source, e.target)


# ---- the command ----

def test_cli_formats_from_suffix(run_cli, tmp_path):
    for name, check in (
        ("g.json", lambda t: json.loads(t)["schema_version"] == 3),
        ("g.dot", lambda t: t.startswith("digraph scopeguard {")),
        ("g.mmd", lambda t: "flowchart TB" in t),
        ("g.html", lambda t: t.startswith("<!DOCTYPE html>")),
    ):
        code, out, err = run_cli("graph", str(PROJECT), "--no-cache", "-o", str(tmp_path / name))
        assert code == 0 and out == "", err
        assert check((tmp_path / name).read_text()), name
        assert "wrote" in err
    code, out, _ = run_cli("graph", str(PROJECT), "--no-cache", "--scope", "tvm.contrib.msc", "--hops", "0")
    assert code == 0 and out.startswith("digraph scopeguard {") and '"tvm.relax"' not in out


def test_cli_usage_errors(run_cli, tmp_path):
    code, _, err = run_cli("graph", str(PROJECT), "--no-cache", "-o", str(tmp_path / "g.txt"))
    assert code == 2 and "cannot tell the format of" in err and not (tmp_path / "g.txt").exists()
    code, _, err = run_cli("graph", str(PROJECT), "--no-cache", "--scope", "tvm.relx")
    assert code == 2 and "did you mean 'tvm.relax'?" in err
    code, _, err = run_cli("graph", str(PROJECT), "--no-cache", "-o", str(tmp_path / "g.svg"), env={"PATH": str(tmp_path)})
    assert code == 2 and "apt-get install graphviz" in err and not (tmp_path / "g.svg").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed (Debian: apt-get install graphviz)")
def test_cli_svg_and_png_through_graphviz(run_cli, tmp_path):
    code, _, err = run_cli("graph", str(PROJECT), "--no-cache", "--boundary", "-o", str(tmp_path / "g.svg"))
    assert code == 0, err
    svg = ET.parse(tmp_path / "g.svg").getroot()
    ns = "{http://www.w3.org/2000/svg}"
    titles = {g.findtext(f"{ns}title") for g in svg.iter(f"{ns}g") if g.get("class") == "cluster"}
    assert {"cluster_0", "cluster_1", "cluster_legend"} == titles
    code, _, err = run_cli("graph", str(PROJECT), "--no-cache", "--depth", "2", "-o", str(tmp_path / "g.png"))
    assert code == 0, err
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_validates_against_the_documented_schema(project):
    jsonschema = pytest.importorskip("jsonschema")
    from .conftest import REPO

    schema = json.loads((REPO / "docs" / "graph-json-schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for options in ({}, {"depth": 1}, {"focus": "tvm.relax", "hops": 2}, {"boundary": True}):
        jsonschema.validate(json.loads(json.dumps(view_document(view_of(project, **options)))), schema)


def test_blast_radius_view(project, run_cli):
    from scopeguard.analysis import simulate_deletion
    from scopeguard.output.render.view import blast_nodes

    config, graph, violations = project
    scope = next(s for s in config.scopes if s.name == "tvm.contrib.msc")
    plan = simulate_deletion(graph, scope)
    blast = blast_nodes(plan)
    view = build_view(config, graph, violations, Options(blast_radius="tvm.contrib.msc"), blast=blast)
    ids = {n.id for n in view.nodes}
    assert ids == blast | {n for n in ids if view.node(n).scope == "tvm.contrib.msc"}
    assert "tvm.driver.build" in ids and "tvm.contrib.cutlass.build" in ids
    assert "tvm.relax" not in ids and "tvm.ir.transform" not in ids  # not broken by deleting msc
    assert all(e.source in blast for e in view.edges)
    code, out, err = run_cli("graph", str(PROJECT), "--no-cache", "--blast-radius", "tvm.contrib.msc", "-f", "json")
    assert code == 0, err
    # The command draws only the breaking chains (issue 17): a subset of the view, the scope kept.
    drawn = {n["id"] for n in json.loads(out)["nodes"]}
    assert drawn <= ids and {"tvm.contrib.msc", "tvm.driver.build"} <= drawn
    code, _, err = run_cli("graph", str(PROJECT), "--no-cache", "--blast-radius", "tvm.contrib.mcs")
    assert code == 2 and "did you mean 'tvm.contrib.msc'?" in err


def test_a_focused_scope_keeps_one_level_of_its_parts_at_any_depth(project):
    # `--scope tvm.relax --depth 1`: the rest of the tree collapses to `tvm`, but tvm.relax shows
    # its parts (one level below the scope), which is what a reviewer of that scope wants to see.
    view = view_of(project, focus="tvm.relax", depth=1, hops=1)
    names = {n.id for n in view.nodes}
    assert {"tvm.relax", "tvm.relax.expr", "tvm.relax.transform", "tvm.relax.frontend"} <= names
    assert not any(n.startswith("tvm.relax.frontend.") for n in names)  # one level, not all
    assert "tvm.ir" not in names and "tvm" in names  # the rest stays at depth 1
    # Without the focus the scope is one node, as before.
    assert not any(n.id.startswith("tvm.relax.") for n in view_of(project, depth=1).nodes)
