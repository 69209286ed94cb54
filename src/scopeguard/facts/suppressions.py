"""`# scopeguard: ignore[CODES]: reason` comments, and the lines of multi-line statements.

A suppression is read from a real comment only (the tokenizer's COMMENT tokens: the same text in a
string does not count). It covers every line of the statement it is written on, or — on a comment
line of its own — the statement directly below (comment lines may sit in between, a blank line may
not). Without codes it covers every code. The text after the codes is its reason.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

from ..base.model import Suppression
from ..base.text import source_lines, tokenizer_text

_SUPPRESSION = re.compile(r"#\s*scopeguard:\s*ignore(?:\[([^\]]*)\])?(.*)$")
_REASON_STRIP = " \t:-\u2013\u2014#"


def suppressions(source: bytes) -> tuple[Suppression, ...]:
    if b"scopeguard:" not in source:
        return ()
    try:
        return tuple(_from_tokens(source))
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, ValueError, RecursionError, MemoryError):
        return tuple(_from_lines(source))  # not tokenizable: each comment covers its own line


def statement_spans(statements: list[ast.stmt]) -> tuple[tuple[int, int, int], ...]:
    """(first line, last line, 1-based column) of each simple statement written over several lines (`from x import (a,
    b, ...)`), so that a finding on any of its lines is located at the statement."""
    spans = []
    for stmt in statements:
        if hasattr(stmt, "body"):
            continue  # compound statements: their header lines are not one decision
        end = getattr(stmt, "end_lineno", None)
        if end is not None and end > stmt.lineno:
            spans.append((stmt.lineno, end, stmt.col_offset + 1))
    return tuple(spans)


def _parse(comment: str) -> tuple[tuple[str, ...], str] | None:
    match = _SUPPRESSION.search(comment)  # also after other text: `# why  # scopeguard: ignore[...]`
    if match is None:
        return None
    codes = match.group(1)
    parsed = tuple(c.strip().upper() for c in codes.split(",") if c.strip()) if codes else ()
    return parsed, match.group(2).strip(_REASON_STRIP)


def _from_tokens(source: bytes):
    comment_only: set[int] = set()
    pending: list[tuple[int, int, tuple[str, ...], str]] = []  # comment lines waiting for a statement
    inside: list[tuple[int, int, tuple[str, ...], str]] = []  # comments of the open logical line
    start = 0  # first line of the open logical line; 0: none open
    skip = (tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER)
    for token in tokenize.tokenize(io.BytesIO(tokenizer_text(source)).readline):
        kind, row = token.type, token.start[0]
        if kind == tokenize.COMMENT:
            parsed = _parse(token.string)
            if start == 0:
                comment_only.add(row)
                if parsed is not None:
                    pending.append((row, token.start[1] + 1, *parsed))
            elif parsed is not None:
                inside.append((row, token.start[1] + 1, *parsed))
            continue
        if kind in skip:
            continue
        if kind == tokenize.NEWLINE:
            for row_, column, codes, reason in inside:
                yield Suppression(row_, column, codes, reason, start, row)
            inside, start = [], 0
            continue
        if start == 0:
            start = row
            for item in pending:  # a comment line directly above (comment lines between) covers it
                if all(r in comment_only for r in range(item[0] + 1, start)):
                    inside.append(item)
                else:
                    yield Suppression(item[0], item[1], item[2], item[3], item[0], item[0])
            pending = []
    for row_, column, codes, reason in pending + inside:
        yield Suppression(row_, column, codes, reason, row_, row_)


def _from_lines(source: bytes):
    for number, line in enumerate(source_lines(source.decode("utf-8", "replace")), start=1):
        at = line.find("#")
        while at != -1:
            parsed = _parse(line[at:])
            if parsed is not None:
                yield Suppression(number, at + 1, *parsed, number, number)
                break
            at = line.find("#", at + 1)
