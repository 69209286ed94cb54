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
    parser.add_argument("--blast-radius", metavar="SCOPE",
                        help="show SCOPE and the modules its deletion breaks (at import time or when called)")
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
    from .. import pipeline, rules
    from ..render.view import Options, ViewError, build_view

    project = pipeline.context(config, facts)
    graph = project.graph
    violations = rules.run(project, rules.selected())
    options = Options(depth=args.depth, focus=args.focus, hops=args.hops, boundary=args.boundary,
                      blast_radius=args.blast_radius)
    try:
        blast = _blast(config, project, args.blast_radius) if args.blast_radius else None
        view = build_view(config, graph, violations, options, blast=blast, title=_title(config, options))
    except ViewError as error:
        raise UsageError(str(error)) from None
    if len(view.nodes) > _BIG and args.focus is None:
        print(
            f"scopeguard: {len(view.nodes)} nodes: for a readable picture try --depth 2, --boundary, "
            "or --scope NAME --hops 1",
            file=sys.stderr,
        )
    data = render(view, fmt, legend=not args.no_legend)
    if args.output:
        path = Path(args.output)
        try:
            path.write_bytes(data)
        except OSError as error:
            raise UsageError(f"cannot write {display_path(path)}: {error.strerror}") from None
        print(f"scopeguard: wrote {display_path(path)} ({fmt}, {len(view.nodes)} nodes, {len(view.edges)} edges)",
              file=sys.stderr)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_CLEAN


def render(view, fmt: str, legend: bool = True) -> bytes:
    """The view in `fmt`, as bytes (png is binary)."""
    if fmt == "json":
        from ..render.json_format import render_json

        return render_json(view).encode()
    if fmt == "mermaid":
        from ..render.mermaid import render_mermaid

        return render_mermaid(view, legend=legend).encode()
    if fmt == "html":
        from ..render.html import render_html

        return render_html(view).encode()
    from ..render.dot import render_dot

    text = render_dot(view, legend=legend)
    if fmt == "dot":
        return text.encode()
    return run_graphviz(text, fmt)


def run_graphviz(dot_text: str, fmt: str) -> bytes:
    import subprocess  # only to render svg/png: not worth its import time on every run

    dot = _which_dot()
    if dot is None:
        raise UsageError(INSTALL_GRAPHVIZ.format(fmt=fmt.upper()))
    done = subprocess.run([dot, f"-T{fmt}"], input=dot_text.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        raise UsageError(f"Graphviz `dot -T{fmt}` failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _blast(config, project, name: str) -> set[str]:
    """The nodes that deleting scope `name` breaks, from the deletion simulation."""
    from ..core import simulate_deletion
    from ..model import UnknownScope
    from ..render.view import ViewError, blast_nodes

    try:
        scope = config.scope_named(name)
    except UnknownScope as error:
        raise ViewError(f"--blast-radius {error}") from None
    return blast_nodes(simulate_deletion(project.graph, scope))


def _title(config, options) -> str:
    name = Path(config.root).name
    parts = [f"{name}: import graph"]
    if options.focus:
        parts.append(f"scope {options.focus}, {options.hops} hop(s)")
    if options.depth:
        parts.append(f"depth {options.depth}")
    if options.boundary:
        parts.append("boundary edges only")
    if options.blast_radius:
        parts.append(f"what deleting {options.blast_radius} breaks")
    return ", ".join(parts)


def _which_dot() -> str | None:
    import shutil

    return shutil.which("dot")
