"""`scopeguard graph`: draw the scopes and the imports and couplings (registry lookups and
registrations, monkeypatches) that cross them (dot, mermaid, json, html, and svg/png through Graphviz)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import (
    EXIT_CLEAN,
    UsageError,
    add_project_arguments,
    collect_facts,
    display_path,
    load_config,
    write_output,
)

NAME = "graph"
HELP = "draw the scopes and every import (and registry or monkeypatch coupling) that crosses them"

FORMATS = ("dot", "mermaid", "json", "html", "svg", "png")
SUFFIXES = {
    ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".json": "json",
    ".html": "html", ".htm": "html", ".svg": "svg", ".png": "png",
}
# Past this many nodes a whole-project picture is unreadable: say how to narrow it.
_BIG = 150
# Budgets (nodes, edges) past which a format is refused unless --max-nodes/--max-edges raise them:
# Graphviz's layout grows far faster than linearly (TVM 0.27 whole, 900 nodes and 3,440 edges, ran
# 14+ minutes), and GitHub renders Mermaid only up to 50,000 characters and 500 edges.
BUDGETS = {"dot": (400, 1500), "svg": (400, 1500), "png": (400, 1500), "mermaid": (150, 400)}
DOT_TIMEOUT = 50.0  # seconds for Graphviz before it is stopped
EPILOG = """\
examples:
  scopeguard graph -o graph.html                          # the whole project, one offline page
  scopeguard graph --depth 2 -o overview.svg              # packages two levels deep
  scopeguard graph --scope tvm.relax --hops 1 --depth 3 -o relax.svg
  scopeguard graph --scope tvm.relax --inbound -o who-needs-relax.svg   # only edges into the scope
  scopeguard graph --boundary --depth 3 -f mermaid        # only edges that cross a scope boundary
  scopeguard graph --blast-radius tvm.relax -o blast.svg  # the chains its deletion breaks

Graphviz (dot/svg/png) is refused above 400 nodes or 1,500 edges and Mermaid above 150 nodes or
400 edges, with the view to use instead (--max-nodes/--max-edges raise the budget); `dot` is
stopped after --timeout seconds (default 50). HTML and JSON have no budget.

exit codes: 0 written, 2 usage error, a view over budget, or Graphviz missing/failed/too slow"""

INSTALL_GRAPHVIZ = (
    "Graphviz's `dot` program is needed to write {fmt}, and it is not on PATH; install it "
    "(Debian/Ubuntu: `apt-get install graphviz`, Fedora: `dnf install graphviz`, macOS: `brew install graphviz`, "
    "Windows: https://graphviz.org/download/), or write .dot, .html, .mmd or .json instead"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_project_arguments(parser)
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE (format from its suffix: .dot .gv .mmd .json .html .svg .png); default: stdout")
    parser.add_argument("-f", "--format", choices=FORMATS,
                        help="output format (default: from the -o suffix, else dot); svg/png need Graphviz")
    parser.add_argument("--depth", metavar="N", type=int,
                        help="collapse modules to their package N levels deep (never coarser than a scope)")
    parser.add_argument("--scope", metavar="NAME", dest="focus",
                        help="show only this scope (or module prefix) and its neighbours")
    parser.add_argument("--hops", metavar="N", type=int, default=1,
                        help="with --scope: how many edges (imports or couplings) away neighbours may be (default: 1)")
    parser.add_argument("--boundary", action="store_true",
                        help="show only edges that cross a scope boundary")
    parser.add_argument("--inbound", action="store_true",
                        help="with --scope: only the edges into the scope from outside it (who depends on it)")
    parser.add_argument("--blast-radius", metavar="SCOPE",
                        help="show SCOPE and the chains along which its deletion breaks modules (at import time or when called)")
    parser.add_argument("--max-nodes", metavar="N", type=int,
                        help="refuse dot/svg/png/mermaid above N nodes (default: 400 for Graphviz, 150 for Mermaid)")
    parser.add_argument("--max-edges", metavar="N", type=int,
                        help="refuse dot/svg/png/mermaid above N edges (default: 1500 for Graphviz, 400 for Mermaid)")
    parser.add_argument("--timeout", metavar="S", type=float, default=DOT_TIMEOUT,
                        help=f"stop Graphviz after S seconds (svg/png; default: {DOT_TIMEOUT:g})")
    parser.add_argument("--no-legend", action="store_true", help="leave the legend out (dot, mermaid)")


def output_format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    if args.output:
        suffix = Path(args.output).suffix.lower()
        if suffix not in SUFFIXES:
            raise UsageError(
                f"cannot tell the format of {args.output!r} from its suffix; use one of "
                f"{' '.join(SUFFIXES)} or pass --format"
            )
        return SUFFIXES[suffix]
    return "dot"


def run(args: argparse.Namespace) -> int:
    fmt = output_format(args)
    if fmt in ("svg", "png") and _which_dot() is None:
        raise UsageError(INSTALL_GRAPHVIZ.format(fmt=fmt.upper()))
    config = load_config(args)
    facts = collect_facts(args, config)
    from ..run import pipeline
    from .. import rules
    from ..output.render.view import Options, ViewError, along_chains, blast_nodes, build_view, inbound_only

    project = pipeline.context(config, facts)
    graph = project.graph
    violations = rules.run(project, rules.selected())
    options = Options(depth=args.depth, focus=args.focus, hops=args.hops, boundary=args.boundary,
                      blast_radius=args.blast_radius)
    if args.inbound and args.focus is None:
        raise UsageError("--inbound needs --scope NAME: the scope whose inbound edges to show")
    if args.timeout <= 0:
        raise UsageError(f"--timeout must be positive, not {args.timeout}")
    try:
        plan = _plan(config, project, args.blast_radius) if args.blast_radius else None
        blast = blast_nodes(plan) if plan is not None else None
        view = build_view(config, graph, violations, options, blast=blast, title=_title(config, options, args.inbound))
        if args.inbound:
            view = inbound_only(view, args.focus)
        if plan is not None:
            view = along_chains(view, [b.chain for b in plan.broken] + [(x.importer, *x.chain) for x in plan.lazy])
    except ViewError as error:
        raise UsageError(str(error)) from None
    _check_budget(view, fmt, args)
    if len(view.nodes) > _BIG and args.focus is None:
        print(
            f"scopeguard: {len(view.nodes)} nodes: for a readable picture try --depth 2, --boundary, "
            "or --scope NAME --hops 1",
            file=sys.stderr,
        )
    data = render(view, fmt, legend=not args.no_legend, timeout=args.timeout)
    if args.output:
        path = Path(args.output)
        write_output(path, data, config.root, "the graph")
        print(f"scopeguard: wrote {display_path(path)} ({fmt}, {len(view.nodes)} nodes, {len(view.edges)} edges)",
              file=sys.stderr)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_CLEAN


def _check_budget(view, fmt: str, args: argparse.Namespace) -> None:
    """Refuse a Graphviz or Mermaid picture too big to lay out or render, naming the views to use."""
    if fmt not in BUDGETS:
        return
    max_nodes, max_edges = BUDGETS[fmt]
    max_nodes = args.max_nodes if args.max_nodes is not None else max_nodes
    max_edges = args.max_edges if args.max_edges is not None else max_edges
    nodes, edges = len(view.nodes), len(view.edges)
    if nodes <= max_nodes and edges <= max_edges:
        return
    scope = args.focus or args.blast_radius or "SCOPE"
    what = "Graphviz would take many minutes to lay it out" if fmt != "mermaid" else "GitHub does not render Mermaid that big"
    raise UsageError(
        f"this view has {nodes} nodes and {edges} edges, over the {fmt} budget of {max_nodes} nodes and {max_edges} "
        f"edges ({what}). Use a narrower view: `--depth 2` or `--depth 3`, `--boundary --depth 3`, "
        f"`--scope {scope} --hops 1 --depth 3`, `--scope {scope} --inbound --depth 3`; or write the whole graph as "
        f"`-o graph.html` (pan, zoom and search, no budget); --max-nodes/--max-edges raise the budget"
    )


def render(view, fmt: str, legend: bool = True, timeout: float = DOT_TIMEOUT) -> bytes:
    """The view in `fmt`, as bytes (png is binary)."""
    if fmt == "json":
        from ..output.render.json_format import render_json

        return render_json(view).encode()
    if fmt == "mermaid":
        from ..output.render.mermaid import render_mermaid

        return render_mermaid(view, legend=legend).encode()
    if fmt == "html":
        from ..output.render.html import render_html

        return render_html(view).encode()
    from ..output.render.dot import render_dot

    text = render_dot(view, legend=legend)
    if fmt == "dot":
        return text.encode()
    return run_graphviz(text, fmt, timeout=timeout, size=(len(view.nodes), len(view.edges)))


def run_graphviz(dot_text: str, fmt: str, timeout: float = DOT_TIMEOUT, size: tuple[int, int] = (0, 0)) -> bytes:
    """`dot -T<fmt>` on the text, stopped after `timeout` seconds, with a progress line on stderr
    every few seconds while it runs."""
    import subprocess  # only to render svg/png: not worth its import time on every run
    import tempfile
    import time

    dot = _which_dot()
    if dot is None:
        raise UsageError(INSTALL_GRAPHVIZ.format(fmt=fmt.upper()))
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen([dot, f"-T{fmt}"], stdin=subprocess.PIPE, stdout=out, stderr=err)
        try:
            try:
                process.stdin.write(dot_text.encode())
                process.stdin.close()
            except BrokenPipeError:
                pass  # dot died at once; its exit code and stderr say why
            next_note = 5.0
            while True:
                try:
                    process.wait(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    elapsed = time.monotonic() - start
                    if elapsed >= timeout:
                        raise UsageError(
                            f"Graphviz `dot -T{fmt}` did not finish in {timeout:g} s ({size[0]} nodes, {size[1]} edges) "
                            "and was stopped; narrow the view (--depth 3, --boundary, --scope NAME --hops 1, "
                            "--scope NAME --inbound), write -o graph.html, or allow more with --timeout"
                        ) from None
                    if elapsed >= next_note:
                        print(f"scopeguard: Graphviz laying out {size[0]} nodes and {size[1]} edges: {elapsed:.0f} s "
                              f"(stops at {timeout:g} s)", file=sys.stderr)
                        next_note += 5.0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise UsageError(f"Graphviz `dot -T{fmt}` failed: {err.read().decode(errors='replace').strip()}")
        return out.read()


def _plan(config, project, name: str):
    """The deletion plan of scope `name` (the nodes it breaks, with their chains)."""
    from ..analysis import simulate_deletion
    from ..base.model import UnknownScope
    from ..output.render.view import ViewError

    try:
        scope = config.scope_named(name)
    except UnknownScope as error:
        raise ViewError(f"--blast-radius {error}") from None
    return simulate_deletion(project.graph, scope)


def _title(config, options, inbound: bool = False) -> str:
    name = Path(config.root).name
    parts = [f"{name}: import graph"]
    if options.focus and inbound:
        parts.append(f"what imports scope {options.focus}")
    elif options.focus:
        parts.append(f"scope {options.focus}, {options.hops} hop(s)")
    if options.depth:
        parts.append(f"depth {options.depth}")
    if options.boundary:
        parts.append("boundary edges only")
    if options.blast_radius:
        parts.append(f"what deleting {options.blast_radius} breaks, along the breaking chains")
    return ", ".join(parts)


def _which_dot() -> str | None:
    import shutil

    return shutil.which("dot")
