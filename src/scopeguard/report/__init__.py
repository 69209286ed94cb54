"""Reports: what `scopeguard check` found, rendered for a person, a program or a CI service.

No analysis happens here. A Report holds the violations to show (already filtered by a baseline or
by `--diff`) and the figures around them; each format module renders it:

- text: one `path:line:col: CODE message` line per finding and a summary (coloured on a terminal);
- json: a versioned document (docs/check-json-schema.json describes it);
- sarif: SARIF 2.1.0 for code-scanning services, with every rule's documentation;
- github: GitHub Actions workflow commands that annotate the changed files.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..baseline import StaleEntry
from ..model import Violation

FORMATS = ("text", "json", "sarif", "github")


@dataclass(frozen=True)
class Report:
    violations: tuple[Violation, ...]  # what to show, in a stable order
    files_analysed: int
    files_unparsed: int
    project_root: str  # absolute; Violation.path is relative to it
    repo_root: str  # absolute; SARIF and GitHub paths are relative to it
    baseline_path: str = ""  # the baseline applied, if any (absolute)
    baselined: int = 0  # violations hidden because the baseline records them
    stale: tuple[StaleEntry, ...] = ()
    diff_base: str = ""  # with --diff: the BASE given, and the commit compared against
    diff_commit: str = ""
    preexisting: int = 0  # with --diff: violations hidden because BASE has them already

    def repo_path(self, path: str) -> str:
        """A project-relative path as a path relative to the repository root, with forward slashes."""
        full = os.path.join(self.project_root, path)
        return os.path.relpath(full, self.repo_root).replace(os.sep, "/")

    def counts(self) -> Counter[str]:
        return Counter(v.code for v in self.violations)


def find_repo_root(project_root: str) -> str:
    """The nearest folder at or above the project root that holds `.git` (a folder, or a file for
    worktrees and submodules); the project root itself when there is none.

    Code-scanning services and GitHub annotations want paths relative to the repository, which is
    not always the project: a project may live in a subfolder of a monorepo. No git command is run.
    """
    start = Path(project_root).resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return str(folder)
    return str(start)


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
