"""Remove string entries from module-level registry literals: `"trn",` from
`_BUILTIN_BACKENDS = ("cuda", "trn")`, a key from a module-level dict.

The edit takes an explicit list of (line, literal): which entries to remove is decided elsewhere
(the deletion plan; value flow when the facts have it). `registry_entries` finds the candidates a
file offers: string entries of module-level tuple/list/set/dict literals (assigned, or annotated)
whose value is one of the given names. Only plain string literals are touched; a literal is left
alone (reported as not found) when it is not at module level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from .base import Example, dedent


@dataclass(frozen=True, slots=True)
class Entry:
    line: int
    literal: str  # the string's value, e.g. "trn"
    container: str = ""  # the assigned name, for messages


@dataclass(frozen=True)
class Result:
    source: str
    removed: tuple[Entry, ...]
    missing: tuple[Entry, ...]


_COLLECTIONS = (cst.Tuple, cst.List, cst.Set, cst.Dict)


def _string_value(node) -> str | None:
    if isinstance(node, cst.SimpleString):
        try:
            value = node.evaluated_value
        except Exception:  # noqa: BLE001 - an unusual literal: not ours to edit
            return None
        return value if isinstance(value, str) else None
    return None


def _module_level_collections(module: cst.Module):
    """(assigned name, collection node) for each module-level `NAME = <collection>`."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and isinstance(small.value, _COLLECTIONS):
                names = [t.target.value for t in small.targets if isinstance(t.target, cst.Name)]
                yield (names[0] if names else ""), small.value
            elif isinstance(small, cst.AnnAssign) and isinstance(small.value, _COLLECTIONS) \
                    and isinstance(small.target, cst.Name):
                yield small.target.value, small.value


def registry_entries(source: str, names: Iterable[str]) -> list[Entry]:
    """String entries equal to one of `names` in the file's module-level collection literals."""
    wanted = set(names)
    wrapper = MetadataWrapper(cst.parse_module(source))
    where = wrapper.resolve(PositionProvider)
    found = []
    for container, collection in _module_level_collections(wrapper.module):
        for element in collection.elements:
            node = element.key if isinstance(element, cst.DictElement) else getattr(element, "value", None)
            value = _string_value(node)
            if value is not None and value in wanted:
                found.append(Entry(where[node].start.line, value, container))
    return found


class _Remover(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, entries: Iterable[Entry], allowed: set[int]) -> None:
        super().__init__()
        self.entries = {(e.line, e.literal): e for e in entries}
        self.allowed = allowed  # ids of module-level collection nodes
        self.removed: list[Entry] = []

    def _strip(self, original, updated):
        if id(original) not in self.allowed:
            return updated
        kept = []
        for old, new in zip(original.elements, updated.elements):
            node = old.key if isinstance(old, cst.DictElement) else getattr(old, "value", None)
            value = _string_value(node)
            key = (self.get_metadata(PositionProvider, node).start.line, value) if value is not None else None
            if key in self.entries:
                self.removed.append(self.entries[key])
            else:
                kept.append(new)
        if len(kept) == len(updated.elements):
            return updated
        if kept and updated.elements[-1] not in kept:
            kept[-1] = kept[-1].with_changes(comma=updated.elements[-1].comma)  # the list's own ending
        if isinstance(updated, cst.Tuple) and len(kept) == 1 and kept[0].comma is cst.MaybeSentinel.DEFAULT:
            kept[0] = kept[0].with_changes(comma=cst.Comma())  # ("a",) stays a tuple
        if isinstance(updated, cst.Set) and not kept:
            return updated  # set() has no literal spelling: leave it (reported missing)
        return updated.with_changes(elements=kept)

    leave_Tuple = _strip
    leave_List = _strip
    leave_Set = _strip
    leave_Dict = _strip


def apply(source: str, entries: Iterable[Entry]) -> Result:
    entries = list(dict.fromkeys(entries))
    wrapper = MetadataWrapper(cst.parse_module(source))
    allowed = {id(collection) for _, collection in _module_level_collections(wrapper.module)}
    remover = _Remover(entries, allowed)
    new = wrapper.visit(remover).code
    removed = set(remover.removed)
    return Result(new, tuple(remover.removed), tuple(e for e in entries if e not in removed))


EXAMPLES = (
    Example(
        "one entry of a multi-line tuple, its line and comment with it",
        dedent('''
            _BUILTIN_BACKENDS = (
                "cpu",
                "npu",  # the accelerator
                "dsp",
            )
            '''),
        dedent('''
            _BUILTIN_BACKENDS = (
                "cpu",
                "dsp",
            )
            '''),
        {"entries": [Entry(3, "npu")]},
    ),
    Example(
        "the last entry of a one-line list",
        'BACKENDS = ["cpu", "npu"]\n',
        'BACKENDS = ["cpu"]\n',
        {"entries": [Entry(1, "npu")]},
    ),
    Example(
        "a tuple left with one entry stays a tuple",
        'B = ("npu", "cpu")\n',
        'B = ("cpu",)\n',
        {"entries": [Entry(1, "npu")]},
    ),
    Example(
        "a dict key",
        'LOADERS = {"npu": "rb.backend.npu", "cpu": "rb.backend.cpu"}\n',
        'LOADERS = {"cpu": "rb.backend.cpu"}\n',
        {"entries": [Entry(1, "npu")]},
    ),
    Example(
        "a literal inside a function is not a module-level registry: untouched",
        'def f():\n    return ("npu", "cpu")\n',
        'def f():\n    return ("npu", "cpu")\n',
        {"entries": [Entry(2, "npu")]},
    ),
)
