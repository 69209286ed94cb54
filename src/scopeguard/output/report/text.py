"""The text report: one `path:line:col: CODE message` line per finding, then a summary line.

Colour only when asked for (the caller decides: a terminal, and NO_COLOR unset). Without colour,
and without a baseline or --diff, the output is exactly what scopeguard has always printed.
"""

from __future__ import annotations

import os

from ...base.model import Severity
from .base import Report

_RESET = "\033[0m"
_BOLD = "\033[1m"
_RED = "\033[31m"
_YELLOW = "\033[33m"
_DIM = "\033[2m"


def use_colour(stream, choice: str = "auto", environ=os.environ) -> bool:
    """Colour for `stream`: never when NO_COLOR is set (to anything but ""), else per `choice`
    (auto = only on a terminal; always; never)."""
    if environ.get("NO_COLOR", ""):
        return False
    if choice == "always":
        return True
    if choice == "never":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def render(report: Report, *, colour: bool = False, quiet: bool = False) -> str:
    def paint(text: str, *styles: str) -> str:
        return "".join(styles) + text + _RESET if colour else text

    lines = []
    for v in report.violations:
        where = f"{report.shown(v.path, 'text')}:{v.line}:{v.column}:"
        code_colour = _RED if v.severity is Severity.ERROR else _YELLOW
        lines.append(f"{paint(where, _BOLD)} {paint(v.code, _BOLD, code_colour)} {v.message}")
        for note in v.related:  # consequences of the same decision, as rustc/ruff print notes
            at = f"{report.shown(note.path, 'text')}:{note.line}:{note.column}" if note.line else report.shown(note.path, "text")
            lines.append(f"  {paint('= note:', _DIM)} {at}: {note.code} {note.message}")
    if report.stale:
        where = report.shown(report.baseline_path, "text")
        for entry in report.stale:
            lines.append(paint(f"{where}: stale baseline entry {_describe(entry)}", _DIM))
    if not quiet:
        lines.append(paint(summary(report), _BOLD) if colour else summary(report))
    return "".join(line + "\n" for line in lines)


def _describe(entry) -> str:
    what = f"{entry.importer} -> {entry.imported}" if entry.imported else entry.importer or entry.path
    return (
        f"{entry.code} {what} ({entry.path}): recorded {entry.recorded}, found {entry.found}; "
        "run `scopeguard baseline` to shrink the baseline"
    )


def summary(report: Report) -> str:
    tail = f"{report.files_analysed} file(s) analysed"
    if report.files_unparsed:
        tail += f", {report.files_unparsed} could not be parsed"
    if report.diff_base:
        tail += f"; compared with {report.diff_base} ({report.diff_commit[:12]}), {report.preexisting} already there"
    if report.baseline_path:
        tail += f"; {report.baselined} in the baseline"
        if report.stale:
            tail += f", {len(report.stale)} stale baseline entr{'y' if len(report.stale) == 1 else 'ies'}"
    if not report.violations:
        what = "No new violations" if report.diff_base or report.baseline_path else "No violations"
        return f"{what}; {tail}."
    by_code = report.counts()
    files = len({v.path for v in report.violations})
    listed = ", ".join(f"{code} x{count}" for code, count in sorted(by_code.items()))
    new = "new " if report.diff_base or report.baseline_path else ""
    return f"Found {len(report.violations)} {new}violation(s) in {files} file(s) ({listed}); {tail}."
