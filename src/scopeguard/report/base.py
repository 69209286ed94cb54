"""What every report format renders: the Report (the findings to show and the figures around
them) and the repository root their paths are relative to."""

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
