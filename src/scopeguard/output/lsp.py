"""Findings as the Language Server Protocol shows them: diagnostics, hover text, code-action edits.

`scopeguard server` (commands/server.py) owns the conversation with the editor; this module only
turns findings (Violation) and the facts of a file into LSP values (lsprotocol types), so that the
wording stays here with the other output formats. Positions: a finding's line and column are
1-based and count code points; LSP's are 0-based and count UTF-16 code units, converted with the
text of the line when it is known. Text from the analysed tree (module names, messages quoting
code) is shown as plain text or inside code spans, never as markup the editor would act on.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence

from lsprotocol import types

from ..base.model import Config, FileFacts, Scope, Severity, Violation
from ..rules.base import toggle_spelling
from .links import rule_url

SOURCE = "scopeguard"
# What the suppression code action writes after the codes until a person writes the real reason:
# greppable, and plainly not a reason a reviewer would accept.
REASON_PLACEHOLDER = "TODO: say why this import is allowed"

Lines = Callable[[str], "Sequence[str] | None"]  # project-relative path -> its lines (None: unknown)


def utf16_column(text: str, column: int) -> int:
    """The UTF-16 offset of the code-point offset `column` in `text` (0-based both)."""
    head = text[:column]
    return column + sum(1 for ch in head if ord(ch) > 0xFFFF)


def code_point_column(text: str, character: int) -> int:
    """The code-point offset of the UTF-16 offset `character` in `text` (0-based both)."""
    units = 0
    for index, ch in enumerate(text):
        if units >= character:
            return index
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


def finding_range(line: int, column: int, lines: Sequence[str] | None) -> types.Range:
    """From the finding's position to the end of its line's code (trailing blanks and comment
    kept out where the line is known); a position outside the text is clamped to it."""
    row = max(line - 1, 0)
    start = max(column - 1, 0)
    if lines is None or row >= len(lines):
        return types.Range(types.Position(row, start), types.Position(row, start + 1))
    text = lines[row].rstrip("\r\n")
    start = min(start, len(text))
    end = len(text.rstrip())
    if end <= start:
        end = len(text)
    return types.Range(types.Position(row, utf16_column(text, start)), types.Position(row, utf16_column(text, end)))


def diagnostic(violation: Violation, lines: Lines, uri_of: Callable[[str], str]) -> types.Diagnostic:
    related = [
        types.DiagnosticRelatedInformation(
            types.Location(uri_of(note.path), finding_range(note.line, note.column, lines(note.path))),
            f"{note.code} {note.message}",
        )
        for note in violation.related
    ]
    return types.Diagnostic(
        range=finding_range(violation.line, violation.column, lines(violation.path)),
        message=violation.message,
        severity=types.DiagnosticSeverity.Error if violation.severity is Severity.ERROR else types.DiagnosticSeverity.Warning,
        code=violation.code,
        code_description=types.CodeDescription(href=rule_url(violation.code)),
        source=SOURCE,
        related_information=related or None,
        # What a code action needs to name the finding again (the client sends it back).
        data={"code": violation.code, "line": violation.line, "scope": violation.scope},
    )


def diagnostics_by_path(violations: Iterable[Violation], lines: Lines, uri_of: Callable[[str], str]) -> dict[str, list[types.Diagnostic]]:
    """Every finding as a diagnostic of the file it is reported in, by project-relative path."""
    out: dict[str, list[types.Diagnostic]] = {}
    for violation in violations:
        out.setdefault(violation.path, []).append(diagnostic(violation, lines, uri_of))
    return out


def findings_signature(violations: Iterable[Violation]) -> dict[str, tuple]:
    """Per path, what its diagnostics are made of: a file whose signature did not change need not
    be published again."""
    out: dict[str, list] = {}
    for v in violations:
        out.setdefault(v.path, []).append((v.code, v.line, v.column, v.message, v.severity.value, v.related))
    return {path: tuple(items) for path, items in out.items()}


# -- hover ---------------------------------------------------------------------------------------


def _toggle_text(config: Config, scope: Scope) -> str:
    if scope.toggle is None:
        return f"scope `{scope.name}` has no toggle"
    toggle = config.toggle(scope.toggle)
    if toggle is None:
        return f"scope `{scope.name}`, toggle `{scope.toggle}` (not defined in [tool.scopeguard.toggles])"
    ways = []
    if toggle.on_when_true:
        ways.append("on when " + ", ".join(f"`{name}`" for name in toggle.on_when_true) + " is true")
    if toggle.on_when_false:
        ways.append("on when " + ", ".join(f"`{name}`" for name in toggle.on_when_false) + " is false")
    if toggle.decorators:
        ways.append("decorators " + ", ".join(f"`@{name}`" for name in toggle.decorators))
    detail = f" ({'; '.join(ways)})" if ways else ""
    return f"scope `{scope.name}`, toggle `{toggle.name}`{detail}; guard with {toggle_spelling(toggle)}"


def _code(text: str) -> str:
    """`text` inside a code span whatever backticks it holds (CommonMark: a longer fence)."""
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _plain(text: str) -> str:
    """`text` as Markdown shows it literally: every ASCII punctuation character escaped."""
    return "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in " ".join(text.split()))


_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def hover_text(config: Config, facts: FileFacts | None, line: int, violations: Sequence[Violation]) -> str | None:
    """Markdown for a hover on `line` (1-based) of a file: each finding there with its chain and
    the scope's toggle; else each import of a scope on that line with the scope's toggle."""
    parts = []
    for v in violations:
        if v.line != line:
            continue
        text = [f"**{v.code}** {_plain(v.message)}"]
        chain = v.chain or next((note.chain for note in v.related if note.chain), ())
        if chain:
            text.append("chain: " + " → ".join(_code(link) for link in chain))
        for note in v.related:
            text.append(f"also {note.code} at {_code(f'{note.path}:{note.line}')}: {_plain(note.message)}")
        scope = next((s for s in config.scopes if s.name == v.scope), None)
        if scope is not None:
            text.append(_toggle_text(config, scope))
        parts.append("\n\n".join(text))
    if not parts and facts is not None:
        seen = set()
        for site in facts.sites:
            if site.line != line:
                continue
            named = site.target
            scope = config.scope_of(named)
            if scope is None and site.name not in (None, "*"):
                named = site.dotted
                scope = config.scope_of(named)
            if scope is None or (scope.name, named) in seen:
                continue
            seen.add((scope.name, named))
            parts.append(f"imports {_code(named)} (no finding here)\n\n{_toggle_text(config, scope)}")
    return "\n\n---\n\n".join(parts) or None


# -- code actions --------------------------------------------------------------------------------


def text_edits(old: str, new: str) -> list[types.TextEdit]:
    """Whole-line edits that turn `old` into `new` (positions by line only: no column arithmetic)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    edits = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        edits.append(types.TextEdit(types.Range(types.Position(i1, 0), types.Position(i2, 0)), "".join(b[j1:j2])))
    return edits


def suppression_action(uri: str, source: str, edited: str, codes: Sequence[str],
                       diagnostics: Sequence[types.Diagnostic] = ()) -> types.CodeAction | None:
    """"Suppress CODES with a reason": `source` edited into `edited` by the codemod
    `fix --add-suppressions` uses (actions/codemods/add_suppression, run by the caller), as an
    edit of the buffer; None when it changes nothing (already suppressed)."""
    if edited == source:
        return None
    return types.CodeAction(
        title=f"scopeguard: suppress {', '.join(sorted(set(codes)))} here (write the reason)",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=list(diagnostics) or None,
        edit=types.WorkspaceEdit(changes={uri: text_edits(source, edited)}),
    )
