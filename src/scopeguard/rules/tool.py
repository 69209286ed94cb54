"""SG0xx: problems with the input itself. Reported as findings; the rest of the tree is analysed."""

from __future__ import annotations

from collections.abc import Iterator

from ..core import Project
from ..model import UnresolvedReason, Violation
from .base import Example, Rule


class UnparsableFile(Rule):
    """
    ## What it does
    Reports a file that could not be read or parsed (a syntax error, undecodable bytes, a file
    that cannot be opened).

    ## Why is this bad
    scopeguard cannot see the imports of a file it cannot parse, so a leak into a scope may hide
    there. Every other file is still analysed; this finding makes the gap visible instead of silent.

    ## Fix
    Fix the syntax error or the encoding, or exclude the file (`exclude` in `[tool.scopeguard]`)
    if it is not meant to be Python (a template, a Python 2 leftover).
    """

    code = "SG001"
    name = "unparsable-file"
    summary = "a file could not be read or parsed; its imports are unknown"
    INVALID = (Example("def transform(:\n    pass\n"),)
    VALID = (Example("def transform():\n    pass\n"),)

    def check(self, project: Project) -> Iterator[Violation]:
        for facts in project.graph.files.values():
            if facts.error is not None:
                yield self.violation(facts, facts.error.line, facts.error.column, f"cannot analyse {facts.path}: {facts.error.reason}")


class RelativeImportBeyondRoot(Rule):
    """
    ## What it does
    Reports a relative import whose dots climb above the top-level package.

    ## Why is this bad
    Python raises `ImportError: attempted relative import beyond top-level package` when the
    module is imported, and scopeguard cannot tell which module was meant, so a scope boundary
    crossing may hide there.

    ## Fix
    Use one dot less per level, or an absolute import.
    """

    code = "SG002"
    name = "relative-import-beyond-root"
    summary = "a relative import climbs above the top-level package"
    INVALID = (Example("from .... import relax\n"),)
    VALID = (Example("from .. import support\n"),)

    def check(self, project: Project) -> Iterator[Violation]:
        for facts in project.graph.files.values():
            for item in facts.unresolved:
                if item.reason is UnresolvedReason.BEYOND_ROOT:
                    yield self.violation(facts, item.line, item.column, f"`{item.text}` in {facts.node}: {item.reason}")
