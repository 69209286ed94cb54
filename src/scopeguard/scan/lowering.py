"""The `ast` view of a file the running Python cannot parse (newer syntax), built from libcst's tree."""

from __future__ import annotations

import ast
import sys

import libcst as cst


class LoweringError(Exception):
    def __init__(self, line: int, column: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.column, self.reason = line, column, reason


def lower(tree: cst.Module, source: bytes) -> ast.Module:
    try:
        ast.parse(source)
    except SyntaxError as error:
        where, line, column = f" ({error.msg})", error.lineno or 1, error.offset or 1
    except (ValueError, RecursionError, MemoryError) as error:
        where, line, column = f" ({type(error).__name__})", 1, 1
    else:
        where, line, column = "", 1, 1
    version = ".".join(map(str, sys.version_info[:2]))
    raise LoweringError(line, column, f"Python {version} cannot parse this file{where} though libcst can: "
                        "not analysed; run scopeguard under a Python that parses it")
