"""The text report: one `path:line:col: CODE message` line per finding, then a summary line.

Colour only when asked for (the caller decides: a terminal, and NO_COLOR unset). Without colour,
and without a baseline or --diff, the output is exactly what scopeguard has always printed.

Everything a line shows passes through `printable` in one place (`paint`), before scopeguard adds
its own colour: a file name, module name or string value from the tree can neither start a line
(so each finding is one line, and no `::error` workflow command can be forged) nor send an escape
sequence to the terminal. Consequence notes are summarised (`NOTES_SHOWN` per finding, then one
line naming `scopeguard delete-plan SCOPE`, which lists them all); `quiet` drops them.
"""

from __future__ import annotations

import os

from ...base.model import Severity
from ...base.text import printable
from .base import Report

NOTES_SHOWN = 3  # consequence notes printed under a finding; the rest are counted on one line

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
        text = printable(text)  # the one place text reaches the line: nothing in it is acted on
        return "".join(styles) + text + _RESET if colour and styles else text

    lines = []
    for v in report.violations:
        where = f"{report.shown(v.path, 'text')}:{v.line}:{v.column}:"
        code_colour = _RED if v.severity is Severity.ERROR else _YELLOW
        lines.append(f"{paint(where, _BOLD)} {paint(v.code, _BOLD, code_colour)} {paint(v.message)}")
        if quiet:
            continue
        for note in v.related[:NOTES_SHOWN]:  # consequences of the same decision, as rustc/ruff print notes
            at = f"{report.shown(note.path, 'text')}:{note.line}:{note.column}" if note.line else report.shown(note.path, "text")
            lines.append(f"  {paint('= note:', _DIM)} {paint(f'{at}: {note.code} {note.message}')}")
        if len(v.related) > NOTES_SHOWN:
            lines.append(f"  {paint('= note:', _DIM)} {paint(more_notes(v))}")
    if report.stale:
        where = report.shown(report.baseline_path, "text")
        for entry in report.stale:
            lines.append(paint(f"{where}: stale baseline entry {_describe(entry)}", _DIM))
    if not quiet:
        lines.append(paint(summary(report), _BOLD) if colour else paint(summary(report)))
    return "".join(line + "\n" for line in lines)


def more_notes(v, shown: int = NOTES_SHOWN) -> str:
    """The line that stands for the notes of `v` not printed."""
    rest = v.related[shown:]
    modules = len({n.chain[0] if n.chain else n.path for n in rest})
    return (f"{len(rest)} more consequence(s) in {modules} more module(s); "
            f"`scopeguard delete-plan {v.scope or 'SCOPE'}` lists them")


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
