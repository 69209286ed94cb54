"""Reports: what `scopeguard check` found, rendered for a person, a program or a CI service.

No analysis happens here. A Report holds the violations to show (already filtered by a baseline or
by `--diff`) and the figures around them; each format module renders it:

- text: one `path:line:col: CODE message` line per finding and a summary (coloured on a terminal);
- json: a versioned document (docs/check-json-schema.json describes it);
- sarif: SARIF 2.1.0 for code-scanning services, with every rule's documentation;
- github: GitHub Actions workflow commands that annotate the changed files.
"""

from __future__ import annotations

from .base import FORMATS, Report, find_repo_root

__all__ = ["FORMATS", "Report", "find_repo_root", "render"]


def render(fmt: str, report: Report, *, colour: bool = False, quiet: bool = False) -> str:
    """The report in one of FORMATS, as the text to write (ending in a newline when not empty)."""
    if fmt == "text":
        from .text import render as render_text

        return render_text(report, colour=colour, quiet=quiet)
    if fmt == "github":
        from .github import render as render_github

        return render_github(report, quiet=quiet)
    if fmt == "json":
        from .json import render as render_json

        return render_json(report)
    if fmt == "sarif":
        from .sarif import render as render_sarif

        return render_sarif(report)
    raise ValueError(f"unknown format {fmt!r}")
