"""Text from the analysed tree, handled by the right rule: its lines, its paths in a patch, and how
it is shown. The tree is hostile (docs: DESIGN.md): a file name, a module name or a string value may
hold any character, and none of them may forge a line of a report or move a line number.

- `source_lines`: lines as Python's tokenizer counts them. A line ends at `\\n`, `\\r\\n` or a lone
  `\\r` (CPython translates all three; libcst agrees) and nowhere else: form feed, `\\v`,
  `\\x1c`-`\\x1e`, `\\x85`, U+2028 and U+2029 are characters inside a line (`str.splitlines` breaks at
  them, which is why no line-numbered code may use it on source).
- `patch_lines`: lines as git counts them in a diff: `\\n` only (a `\\r` stays in its line).
- `git_path`: a path spelled as git spells it in a patch header (C-quoted when git would quote it).
- `printable`: text shown on one line: every control character (C0, DEL, C1), the line and
  paragraph separators and the bidirectional controls, and lone surrogates as escapes
  (`\\n`, `\\x1b`, `\\u2028`, `\\udcff`), so nothing from the tree starts a line, moves the cursor,
  colours the terminal or reorders what is read. A backslash is left as it is.
- `utf8_safe`: text every UTF-8 encoder accepts: each lone surrogate (legal in a Python string
  literal, and how undecodable bytes of a file name arrive) replaced by its escape text `\\udcff`.
"""

from __future__ import annotations

import re

__all__ = ["source_lines", "tokenizer_text", "patch_lines", "git_path", "printable", "utf8_safe", "utf8_safe_data"]

_SOURCE_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_PATCH_LINE = re.compile(r"[^\n]*\n|[^\n]+$")


def source_lines(text: str, keepends: bool = False) -> list[str]:
    """`text` split into lines the way Python's tokenizer numbers them (line N is item N-1)."""
    lines = _SOURCE_LINE.findall(text)
    if keepends:
        return lines
    return [line.rstrip("\r\n") if line.endswith(("\r", "\n")) else line for line in lines]


def tokenizer_text(text):
    """`text` (str or bytes) with every line end written `\\n`, for the `tokenize` module: it reads
    lines with `readline`, which splits at `\\n` only, so a lone CR (a line end for CPython and
    libcst) would join two lines and shift every number after it. Same line count, same columns."""
    if isinstance(text, bytes):
        return text.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in text else text
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def patch_lines(text: str) -> list[str]:
    """`text` split into lines the way git's diff does (at `\\n` only), each keeping its end."""
    return _PATCH_LINE.findall(text)


# git's quote_c_style (quote.c) with core.quotePath=true: these get a letter, other control
# characters, DEL and every byte >= 0x80 an octal escape.
_C_ESCAPES = {0x07: "a", 0x08: "b", 0x09: "t", 0x0A: "n", 0x0B: "v", 0x0C: "f", 0x0D: "r", 0x22: '"', 0x5C: "\\"}


def git_path(path: str) -> str:
    """`path` as git writes it in `diff --git`, `---` and `+++` lines: as it is when it needs no
    quoting, else in double quotes with C escapes (what `git apply` reads back byte for byte).
    Undecodable bytes (surrogate escapes) are written as the bytes they stand for."""
    raw = path.encode("utf-8", "surrogateescape")
    if not any(b < 0x20 or b >= 0x7F or b in (0x22, 0x5C) for b in raw):
        return path
    out = []
    for b in raw:
        if b in _C_ESCAPES:
            out.append("\\" + _C_ESCAPES[b])
        elif b < 0x20 or b >= 0x7F:
            out.append(f"\\{b:03o}")
        else:
            out.append(chr(b))
    return '"' + "".join(out) + '"'


# C0 and DEL, C1, the line/paragraph separators, the bidirectional marks, embeddings, overrides and
# isolates (U+061C, U+200E/F, U+202A-E, U+2066-9), and lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    c = match.group()
    if c in _NAMED:
        return _NAMED[c]
    code = ord(c)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` on one line with nothing a terminal or a reader acts on (see the module's doc)."""
    text = str(text)
    return _UNPRINTABLE.sub(_escape, text) if _UNPRINTABLE.search(text) else text


_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8_safe(text: str) -> str:
    """`text` with each lone surrogate written as its escape text (`\\udcff`): encodable as UTF-8."""
    return _SURROGATE.sub(_escape, text) if _SURROGATE.search(text) else text


def utf8_safe_data(value):
    """A JSON-like value (dicts, lists, strings, numbers) with `utf8_safe` applied to every string,
    keys included."""
    if isinstance(value, str):
        return utf8_safe(value)
    if isinstance(value, dict):
        return {utf8_safe_data(k): utf8_safe_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [utf8_safe_data(v) for v in value]
    return value


_TOML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_TOML_SPECIAL = re.compile('[\\\\"\x00-\x1f\x7f\ud800-\udfff]')


def _toml_escape(match: re.Match) -> str:
    c = match.group()
    if c in _TOML_ESCAPES:
        return _TOML_ESCAPES[c]
    if "\ud800" <= c <= "\udfff":
        return "\\ufffd"  # TOML holds Unicode scalar values only: a lone surrogate cannot be kept
    return f"\\u{ord(c):04x}"


def toml_string(text: str) -> str:
    """`text` as a TOML basic string (quotes included) that every TOML reader accepts: backslash,
    quote, control characters and DEL escaped; a lone surrogate (a file name that is not UTF-8)
    becomes U+FFFD."""
    return '"' + _TOML_SPECIAL.sub(_toml_escape, text) + '"'
