"""The JSON report: a versioned document for programs (docs/check-json-schema.json describes it).

SCHEMA_VERSION changes when a field is removed or changes meaning; new fields may appear without a
change, so readers should ignore keys they do not know.

The document is always valid UTF-8: every string passes through `utf8_safe_data` in `render`, so a
lone surrogate (a string literal `"\\udcff"`, an undecodable byte of a file name) is written as the
six characters `\\udcff`. Other characters are kept as they are (JSON escapes control characters).
A finding's `related` notes are all listed: programs get every consequence; only the text report
summarises them.
"""

from __future__ import annotations

import json

from ... import __version__
from ...base.text import utf8_safe_data
from ...run.findings import violation_record
from .base import Report

# 2 (issue 16): one finding per import statement and imported module; `names` and `related`
# (consequences of the same root cause, e.g. an SG402 chain or an SG301 breakage, as notes).
SCHEMA_VERSION = 2


def document(report: Report) -> dict:
    counts = report.counts()
    baseline = None
    if report.baseline_path:
        baseline = {
            "path": report.baseline_path,
            "hidden": report.baselined,
            "stale": [
                {
                    "code": e.code,
                    "path": e.path,
                    "importer": e.importer,
                    "imported": e.imported,
                    "scope": e.scope,
                    "recorded": e.recorded,
                    "found": e.found,
                }
                for e in report.stale
            ],
        }
    diff = None
    if report.diff_base:
        diff = {"base": report.diff_base, "commit": report.diff_commit, "preexisting": report.preexisting}
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "scopeguard", "version": __version__},
        "project_root": report.project_root,
        "summary": {
            "violations": len(report.violations),
            "files_with_violations": len({v.path for v in report.violations}),
            "files_analysed": report.files_analysed,
            "files_unparsed": report.files_unparsed,
            "by_code": dict(sorted(counts.items())),
        },
        "paths_relative_to": report.base("json"),
        "violations": [
            violation_record(v, lambda path: report.shown(path, "json"))
            for v in report.violations
        ],
        "baseline": baseline,
        "diff": diff,
    }


def render(report: Report) -> str:
    return json.dumps(utf8_safe_data(document(report)), indent=2, ensure_ascii=False) + "\n"
