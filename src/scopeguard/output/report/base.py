"""What every report format renders: the Report (the findings to show and the figures around
them) and the repository root their paths are relative to."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ...run.baseline import StaleEntry
from ...base.model import Violation

FORMATS = ("text", "json", "sarif", "github")
# What paths in a report are relative to (`check --paths`). Without the flag each format keeps the
# base its readers need: text the working directory (paths a terminal can open), json the project
# root (`project_root` in the document), sarif and github the repository root (what code scanning
# and annotations resolve against). With the flag, every format uses the one base given.
PATH_BASES = ("cwd", "project", "repo")
DEFAULT_BASE = {"text": "cwd", "json": "project", "sarif": "repo", "github": "repo"}


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
    paths: str = ""  # `--paths`: one of PATH_BASES for every format; "" for each format's default

    def base(self, fmt: str) -> str:
        """The absolute folder the paths of format `fmt` are relative to."""
        choice = self.paths or DEFAULT_BASE[fmt]
        if choice == "cwd":
            return os.getcwd()
        return self.project_root if choice == "project" else self.repo_root

    def shown(self, path: str, fmt: str) -> str:
        """A project-relative (or absolute) path as format `fmt` shows it, with forward slashes."""
        full = os.path.join(self.project_root, path)
        try:
            return os.path.relpath(full, self.base(fmt)).replace(os.sep, "/")
        except ValueError:  # another drive on Windows
            return full

    def repo_path(self, path: str) -> str:
        """A project-relative path as SARIF and GitHub annotations show it (the repository root by default)."""
        return self.shown(path, "sarif")

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
