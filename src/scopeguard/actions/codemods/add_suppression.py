"""Append `# scopeguard: ignore[CODES] reason` to each line that has findings.

A finding is named by its line and code; the comment goes at the end of that line, a line of the
finding's statement (`facts/suppressions.py` reads a suppression on any line of its statement, or on
a comment line directly above it); where that line cannot take a comment, at the end of the
statement's first line. Idempotent: a line that already suppresses a code is not given it again;
a line with a scopeguard comment that lacks some codes gets them added to that comment. A first
line whose end is inside a string, or that ends in a backslash, cannot take a comment: the comment
then goes on a line of its own just above the statement. Only lines with findings change.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ...base.text import source_lines, tokenizer_text
from .base import Example, dedent

_COMMENT = re.compile(r"#\s*scopeguard:\s*ignore(?:\[([A-Za-z0-9_,\s]*)\])?")


@dataclass(frozen=True)
class Result:
    source: str
    lines: tuple[int, ...]  # first lines that were given (or extended with) a comment
    above: tuple[int, ...]  # statements whose comment went on the line above


def _statement_starts(source: str) -> list[tuple[int, int]]:
    """(first line, last line) of every statement (simple lines and compound headers)."""
    wrapper = MetadataWrapper(cst.parse_module(source))
    where = wrapper.resolve(PositionProvider)
    spans = []
    for node, pos in where.items():
        if isinstance(node, cst.SimpleStatementLine):
            spans.append((pos.start.line, pos.end.line))
        elif isinstance(node, cst.BaseCompoundStatement):
            body = getattr(node, "body", None)
            header_end = where[body].start.line if body is not None and body in where else pos.start.line
            spans.append((pos.start.line, max(pos.start.line, header_end)))
    return spans


def _first_line(spans: list[tuple[int, int]], line: int) -> int:
    around = [(start, end) for start, end in spans if start <= line <= end]
    if not around:
        return line
    return min(around, key=lambda s: (s[1] - s[0], -s[0]))[0]


def _open_at_end(source: str) -> set[int]:
    """Lines whose end lies inside a multi-line string (a comment appended there would be text)."""
    inside = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(tokenizer_text(source)).readline):
            if token.start[0] < token.end[0] and token.type != tokenize.NL and token.type != tokenize.NEWLINE:
                inside.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return inside


def _codes_on(line: str) -> tuple[re.Match | None, list[str]]:
    match = _COMMENT.search(line)
    if match is None:
        return None, []
    if match.group(1) is None:
        return match, ["*"]
    return match, [c.strip().upper() for c in match.group(1).split(",") if c.strip()]


def _comment(codes: Iterable[str], reason: str) -> str:
    text = f"# scopeguard: ignore[{','.join(codes)}]"
    return f"{text} {reason}" if reason else text


def apply(source: str, findings: Mapping[int, Iterable[str]], reason: str = "") -> Result:
    """`source` with a suppression for `findings` (line -> codes) on each finding's line (see above)."""
    reason = " ".join(reason.split())  # one line
    spans = _statement_starts(source)
    lines = source_lines(source, keepends=True)  # the tokenizer's lines: a form feed is inside one
    unsafe = _open_at_end(source)

    def takes_comment(number: int) -> bool:
        return 0 < number <= len(lines) and number not in unsafe and not lines[number - 1].rstrip().endswith("\\")

    wanted: dict[int, list[str]] = {}
    for line, codes in findings.items():
        # The finding's own line is a line of its statement, where a suppression counts; else the
        # statement's first line; else (below) the comment line above it.
        target = line if takes_comment(line) else _first_line(spans, line)
        bucket = wanted.setdefault(target, [])
        bucket += [c for c in codes if c not in bucket]
    changed, above = [], []
    inserts: dict[int, str] = {}
    for first, codes in sorted(wanted.items()):
        if not 0 < first <= len(lines):
            continue
        text = lines[first - 1]
        body = text.rstrip("\r\n")
        ending = text[len(body):]
        match, present = _codes_on(body)
        if "*" in present:
            continue
        missing = [c for c in codes if not any(c.startswith(p) for p in present)]
        if not missing:
            continue
        if match is not None:  # extend the comment already there
            merged = _comment([*present, *missing], "")
            body = body[:match.start()] + merged + body[match.end():]
            lines[first - 1] = body + ending
            changed.append(first)
        elif first in unsafe or body.rstrip().endswith("\\"):
            indent = body[:len(body) - len(body.lstrip())]
            inserts[first] = indent + _comment(missing, reason) + (ending or "\n")
            above.append(first)
        else:
            lines[first - 1] = body.rstrip() + "  " + _comment(missing, reason) + ending
            changed.append(first)
    out = []
    for number, text in enumerate(lines, start=1):
        if number in inserts:
            previous = lines[number - 2] if number > 1 else ""
            match, present = _codes_on(previous)
            if not (match and previous.strip().startswith("#")):  # idempotent: not twice above
                out.append(inserts[number])
        out.append(text)
    return Result("".join(out), tuple(changed), tuple(above))


EXAMPLES = (
    Example(
        "a comment at the end of the statement's line, with the reason",
        "from tvm.contrib.msc import core\n",
        "from tvm.contrib.msc import core  # scopeguard: ignore[SG201] adopted 2026\n",
        {"findings": {1: ["SG201"]}, "reason": "adopted 2026"},
    ),
    Example(
        "a multi-line statement: the finding's line (inside the brackets)",
        dedent('''
            from tvm.relax import (
                Expr,
            )
            '''),
        dedent('''
            from tvm.relax import (
                Expr,  # scopeguard: ignore[SG201]
            )
            '''),
        {"findings": {2: ["SG201"]}},
    ),
    Example(
        "a finding inside a multi-line string whose first line is in it too: the line above",
        'x = f(1, """\n  {__import__("tvm.relax")}\n""")\n',
        '# scopeguard: ignore[SG205]\nx = f(1, """\n  {__import__("tvm.relax")}\n""")\n',
        {"findings": {2: ["SG205"]}},
    ),
    Example(
        "an existing comment is kept; a scopeguard comment gets the missing code",
        "import a  # needed\nimport b  # scopeguard: ignore[SG201]\n",
        "import a  # needed  # scopeguard: ignore[SG202]\nimport b  # scopeguard: ignore[SG201,SG202]\n",
        {"findings": {1: ["SG202"], 2: ["SG201", "SG202"]}},
    ),
    Example(
        "already suppressed: unchanged",
        "import b  # scopeguard: ignore[SG2]\n",
        "import b  # scopeguard: ignore[SG2]\n",
        {"findings": {1: ["SG201"]}},
    ),
    Example(
        "a first line ending inside a string: the comment goes above",
        'x = f("""\n  {__import__("tvm.relax")}""")\n',
        '# scopeguard: ignore[SG201]\nx = f("""\n  {__import__("tvm.relax")}""")\n',
        {"findings": {1: ["SG201"]}},
    ),
)
