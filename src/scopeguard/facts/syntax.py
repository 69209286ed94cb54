"""Small questions about libcst nodes, shared by the passes: names, literal strings, blocks, code text."""

from __future__ import annotations

import io
import re
import tokenize
import unicodedata
from collections.abc import Sequence

import libcst as cst


def last_name(expr: cst.BaseExpression) -> str | None:
    """`b` of `a.b` or of `b`; None for anything else."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def dotted_name(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = dotted_name(expr.value)
        return f"{base}.{expr.attr.value}" if base else None
    return None


def string_value(expr: cst.BaseExpression) -> str | None:
    """The value of a plain (possibly implicitly concatenated) string literal."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def single_string_index(expr: cst.Subscript) -> str | None:
    """`"K"` of `x["K"]`."""
    if len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        return string_value(expr.slice[0].slice.value)
    return None


def block_statements(block: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    """The statements of a suite; a one-line suite (`if X: import y`) is itself the statement."""
    return block.body if isinstance(block, cst.IndentedBlock) else [block]


def last_small_statement(statements: Sequence[cst.CSTNode]) -> cst.CSTNode | None:
    """The statement that ends a block (the last small statement of a `a; b` line)."""
    if not statements:
        return None
    last = statements[-1]
    if isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return last.body[-1] if last.body else None
    return last


_EMPTY = cst.Module(body=[])


def code(node: cst.CSTNode) -> str:
    """The node's source text on one line (whitespace runs collapsed), for messages."""
    return " ".join(_EMPTY.code_for_node(node).split())


# A run of word characters holding a non-ASCII one: only such a run can be an identifier that NFKC
# changes (`ｆｅａｔ`, `ﬁle`); a file without one is left as it is, untokenized.
# (Runs are found whole and then tested: a pattern requiring the non-ASCII character inside would
# backtrack quadratically over a long ASCII word.)
_WORD = re.compile(r"[\w\u0080-\U0010ffff]+")


def _non_ascii_words(text: str):
    return (match for match in _WORD.finditer(text) if not match.group().isascii())


def nfkc_identifiers(source: bytes) -> bytes:
    """The source with every identifier in the form Python gives it: the tokenizer NFKC-normalises
    names (PEP 3131), so `import pkg.ｆｅａｔ` imports `pkg.feat` and `ＵＳＥ＿ＦＥＡＴ = 1` assigns
    `USE_FEAT`. libcst keeps the text as written; every pass reads identifiers from its tree or
    searches the bytes for them, so they are normalised here, once, before the parse. String
    literals and comments are left as written (`import_module("pkg.ｆｅａｔ")` does not normalise).

    Lines keep their numbers (a name holds no line break); a normalisation that changes a name's
    length (`ﬁ` -> `fi`) moves the columns after it on its line. Bytes that do not tokenize are
    returned unchanged (the parse reports them)."""
    if source.isascii():
        return source
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        text = source.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError, ValueError):
        return source
    if not any(unicodedata.normalize("NFKC", m.group()) != m.group() for m in _non_ascii_words(text)):
        return source
    # Strings and comments keep their text: the tokenizer says where they are. (Its NAME tokens
    # are not enough: before Python 3.12 it misses identifier characters such as `＿`.)
    starts = [0]
    for line in text.split("\n"):  # the lines StringIO.readline gives the tokenizer
        starts.append(starts[-1] + len(line) + 1)
    kept = {getattr(tokenize, name) for name in ("STRING", "COMMENT", "FSTRING_MIDDLE", "TSTRING_MIDDLE")
            if hasattr(tokenize, name)}
    protected: list[tuple[int, int]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in kept:
                protected.append((starts[token.start[0] - 1] + token.start[1], starts[token.end[0] - 1] + token.end[1]))
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError, MemoryError):
        return source
    out: list[str] = []
    done = 0
    spans = iter(protected + [(len(text), len(text))])
    span = next(spans)
    for match in _non_ascii_words(text):
        begin, end = match.span()
        while span[1] <= begin and span[0] < len(text):
            span = next(spans)
        if span[0] < end and begin < span[1]:
            continue  # inside a string or a comment
        word = match.group()
        normal = unicodedata.normalize("NFKC", word)
        if normal != word and word.isidentifier():  # anything else outside a string does not compile
            out.append(text[done:begin])
            out.append(normal)
            done = end
    if done == 0:
        return source
    out.append(text[done:])
    try:
        return "".join(out).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return source
