"""Where a key is in the TOML text: line numbers for key paths (tomllib keeps none), the dotted
spelling of a key path, and the line of a TOML syntax error."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .schema import _TABLE, KeyPath, Part


def _decode_error_position(err: Exception, text: str) -> tuple[int, str]:
    """tomllib puts the position at the end of its message; split it off into a line number."""
    message = str(err)
    lineno = getattr(err, "lineno", None)  # Python 3.14+
    match = re.search(r" \(at (?:line (\d+), column \d+|end of document)\)$", message)
    if match:
        message = message[: match.start()]
        if lineno is None:
            lineno = int(match.group(1)) if match.group(1) else max(1, len(text.splitlines()))
    return (lineno or 0), getattr(err, "msg", None) or message


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key_part(part: str) -> str:
    return part if _BARE_KEY.fullmatch(part) else _json().dumps(part, ensure_ascii=False)


def _dotted(parts: Iterable[Part]) -> str:
    """`tool.scopeguard.scopes[1].toggle`: TOML dotted keys with 0-based indexes for arrays."""
    text = "tool.scopeguard"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else "." + _key_part(part)
    return text


_HEADER = re.compile(r"^\s*(\[\[|\[)(.+?)(\]\]|\])\s*(?:#.*)?$")
_KEY_PIECE = re.compile(r"""\s*(?:([A-Za-z0-9_-]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')\s*""")


def _parse_key(text: str) -> tuple[str, ...] | None:
    """A TOML dotted key (`a."b.c".d`) as parts, or None when `text` is not one."""
    parts: list[str] = []
    pos = 0
    while True:
        match = _KEY_PIECE.match(text, pos)
        if not match:
            return None
        bare, basic, literal = match.groups()
        if bare is not None:
            parts.append(bare)
        elif basic is not None:
            try:
                parts.append(_json().loads(f'"{basic}"'))
            except ValueError:
                parts.append(basic)
        else:
            parts.append(literal)
        pos = match.end()
        if pos == len(text):
            return tuple(parts)
        if text[pos] != ".":
            return None
        pos += 1


def _top_level_lines(lines: list[str]) -> list[bool]:
    """For each line: does it start outside any multi-line string or array/inline table?

    Only such lines can hold a table header or a key, so text inside values cannot fool the
    locator. A rough lexer is enough: an error only costs a less precise line number.
    """
    flags = []
    closing: str | None = None  # delimiter of the open multi-line string
    depth = 0
    for line in lines:
        flags.append(closing is None and depth == 0)
        pos = 0
        while pos < len(line):
            if closing is not None:
                end = line.find(closing, pos)
                if end < 0:
                    break
                pos, closing = end + 3, None
                continue
            char = line[pos]
            if char == "#":
                break
            if line.startswith('"""', pos) or line.startswith("'''", pos):
                closing, pos = line[pos : pos + 3], pos + 3
            elif char == '"':
                pos += 1
                while pos < len(line) and line[pos] != '"':
                    pos += 2 if line[pos] == "\\" else 1
                pos += 1
            elif char == "'":
                end = line.find("'", pos + 1)
                pos = len(line) if end < 0 else end + 1
            else:
                if char in "[{":
                    depth += 1
                elif char in "]}":
                    depth = max(0, depth - 1)
                pos += 1
    return flags


class _Locator:
    """Line numbers for key paths; tomllib keeps none, so they come from the text itself.

    A key is looked up in the most specific table header that exists (`[tool.scopeguard.toggles.x]`,
    the N-th `[[tool.scopeguard.scopes]]`), then in its parents, so inline tables and dotted keys
    fall back to the line of the enclosing key or header.
    """

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.top = _top_level_lines(self.lines)
        self.headers: list[tuple[tuple[str, ...], bool, int]] = []  # key, is array, 0-based line
        for number, line in enumerate(self.lines):
            if not self.top[number]:
                continue
            match = _HEADER.match(line)
            if match and (match.group(1) == "[[") == (match.group(3) == "]]"):
                key = _parse_key(match.group(2))
                if key is not None:
                    self.headers.append((key, match.group(1) == "[[", number))
        # Where each header is, by (key, is array): a lookup costs the same however many tables
        # there are (a changed configuration with thousands of scopes is located key by key).
        self._by_key: dict[tuple[tuple[str, ...], bool], list[int]] = {}
        for position, (key, is_array, _number) in enumerate(self.headers):
            self._by_key.setdefault((key, is_array), []).append(position)

    def line_of(self, parts: KeyPath, value: str | None = None) -> int:
        """1-based line of the key (or of `value` inside its array), else of its table; 0 if none."""
        full: KeyPath = _TABLE + tuple(parts)
        for split in range(len(full), -1, -1):
            span = self._table(full[:split])
            if span is None:
                continue
            header, start, end = span
            if split < len(full) and isinstance(full[split], str):
                found = self._key(full[split], start, end)
                if found is not None:
                    return self._value(value, found, end) + 1
            return header + 1 if header >= 0 else 0
        return 0

    def _table(self, table: KeyPath) -> tuple[int, int, int] | None:
        """(header line, first body line, end) of a table, 0-based; header -1 for the root."""
        if not table:
            first = self.headers[0][2] if self.headers else len(self.lines)
            return -1, 0, first
        name, index = (table[:-1], table[-1]) if isinstance(table[-1], int) else (table, None)
        if any(isinstance(part, int) for part in name):
            return None  # tables inside array elements are not looked up
        if index is None:
            positions = self._by_key.get((tuple(name), False), [])[:1]
        else:
            positions = self._by_key.get((tuple(name), True), [])[index : index + 1] if index >= 0 else []
        if not positions:
            return None
        position = positions[0]
        header = self.headers[position][2]
        end = self.headers[position + 1][2] if position + 1 < len(self.headers) else len(self.lines)
        return header, header + 1, end

    def _key(self, key: str, start: int, end: int) -> int | None:
        spelled = "|".join(re.escape(s) for s in {key, _json().dumps(key, ensure_ascii=False), f"'{key}'"})
        pattern = re.compile(rf"^\s*(?:{spelled})\s*[=.]")
        return next((n for n in range(start, end) if self.top[n] and pattern.match(self.lines[n])), None)

    def _value(self, value: str | None, start: int, end: int) -> int:
        """The line that holds `value` as a string, from the key's line on (multi-line arrays)."""
        if value is None:
            return start
        spellings = (_json().dumps(value, ensure_ascii=False), f"'{value}'")
        for number in range(start, end):
            if any(s in self.lines[number] for s in spellings):
                return number
        return start


# json serves only quoted keys: imported when first needed, since every run, the cached ones
# included, loads this module.
def _json():
    import json

    return json
