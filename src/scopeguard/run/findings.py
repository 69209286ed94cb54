"""A finding as plain JSON data: the one shape the `check` JSON report and the `graph` JSON document
(and the HTML page built from it) share, so both describe a finding alike."""

from __future__ import annotations

from ..base.model import Related, Violation
from ..rules import RULES_BY_CODE


def violation_record(v: Violation, show=lambda path: path) -> dict:
    """One finding as JSON data; `show` turns a project-relative path into the document's."""
    return {
        "code": v.code,
        "rule": RULES_BY_CODE[v.code].name if v.code in RULES_BY_CODE else "",
        "severity": v.severity.value,
        "path": show(v.path),
        "line": v.line,
        "column": v.column,
        "message": v.message,
        "importer": v.importer,
        "imported": v.imported,
        "scope": v.scope,
        "chain": list(v.chain),
        "names": list(v.names),
        "related": [related_record(r, show) for r in v.related],
    }


def related_record(note: Related, show=lambda path: path) -> dict:
    """A consequence of a finding's root cause, with the located links of its chain."""
    return {
        "code": note.code,
        "path": show(note.path),
        "line": note.line,
        "column": note.column,
        "message": note.message,
        "chain": list(note.chain),
        "steps": [{"module": s.module, "path": show(s.path) if s.path else "", "line": s.line, "column": s.column} for s in note.steps],
    }
