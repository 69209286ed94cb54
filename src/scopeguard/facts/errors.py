"""Why a file cannot be analysed, in words a user can act on."""

from __future__ import annotations

import ast

import libcst as cst

from ..base.model import ParseError

TOO_DEEP = "an expression is nested too deeply to analyse (RecursionError); split it up or exclude the file"
_NOT_UTF8 = "not valid UTF-8 and no encoding declaration; re-encode it as UTF-8 or declare its encoding (PEP 263)"


def parse_error(source: bytes, error: Exception) -> ParseError:
    """Where and why a file cannot be parsed, in CPython's words where it has better ones."""
    # A coding declaration that names no codec (`uft-8`), or `utf8` after a UTF-8 BOM, is not a
    # missing declaration: say what is wrong with it (stdlib test/tokenizedata/bad_coding*.py).
    declared = str(error).splitlines()[0] if str(error) else ""
    if declared.startswith(("unknown encoding", "encoding problem")):
        return ParseError(1, 1, f"{declared}; fix the coding declaration (PEP 263), or drop it and save as UTF-8")
    if isinstance(error, (UnicodeError, LookupError)) or "encoding" in str(error):
        return ParseError(1, 1, _NOT_UTF8)
    try:
        compile(source, "<file>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as syntax:  # CPython's location and message are the ones users know
        if isinstance(syntax.msg, str) and "encoding" in syntax.msg:
            return ParseError(1, 1, _NOT_UTF8)
        return ParseError(syntax.lineno or 1, syntax.offset or 1, f"{type(syntax).__name__}: {syntax.msg}")
    except (ValueError, RecursionError, MemoryError) as other:
        return ParseError(1, 1, f"{type(other).__name__}: {other}")
    if isinstance(error, cst.ParserSyntaxError):  # valid for CPython, not for libcst's grammar
        first = str(error).splitlines()[0] if str(error) else "syntax error"
        return ParseError(error.raw_line, error.raw_column + 1, f"libcst cannot parse this file: {first}")
    return ParseError(1, 1, f"{type(error).__name__}: {error}")
