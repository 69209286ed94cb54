"""What every codemod shares: before/after examples, parsing with positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider


@dataclass(frozen=True)
class Example:
    """`before` edited with `arguments` gives `after` (a codemod's documentation and its test)."""

    name: str
    before: str
    after: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Unedited:
    """A line a codemod left for a person, and why (1-based; the file is the caller's)."""

    line: int
    text: str
    why: str


def positions(source: str) -> tuple[cst.Module, Any]:
    """The module and its position metadata (1-based lines)."""
    wrapper = MetadataWrapper(cst.parse_module(source))
    return wrapper.module, wrapper.resolve(PositionProvider)


def dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).lstrip("\n")
