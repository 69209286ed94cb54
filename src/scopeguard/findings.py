"""A finding as plain JSON data: the one shape the `check` JSON report and the `graph` JSON document
(and the HTML page built from it) share, so both describe a finding alike."""

from __future__ import annotations

from .model import Violation
from .rules import RULES_BY_CODE


def violation_record(v: Violation) -> dict:
    """One finding as JSON data."""
    return {
        "code": v.code,
        "rule": RULES_BY_CODE[v.code].name if v.code in RULES_BY_CODE else "",
        "severity": v.severity.value,
        "path": v.path,
        "line": v.line,
        "column": v.column,
        "message": v.message,
        "importer": v.importer,
        "imported": v.imported,
        "scope": v.scope,
        "chain": list(v.chain),
    }
