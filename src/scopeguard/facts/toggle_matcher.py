"""The configured toggles: their spellings, OFF values and decorators; the per-file view of them."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from ..base.model import ReferenceKind, Registries, Toggle
from .bindings import FileBindings
from .toggle_knowledge import FileToggles, Knowledge

# Source words that make a file worth a binding pass besides the toggles' own spellings.
_TRIGGERS = (b"TYPE_CHECKING", b"__main__", b"skip")


class ToggleMatcher:
    """The configured toggles: their spellings, OFF values and decorators. `for_file` gives the
    per-file view the guard walk asks (binding-aware); `implies` here reads names as spelled."""

    def __init__(self, toggles: Iterable[Toggle], registries: Registries | None = None) -> None:
        # Registry functions by the last part of their name: what a call to them does with its name.
        # (They ride on the matcher because it is what every scan worker is initialised with.)
        registries = registries if registries is not None else Registries()
        self.registry_kinds: dict[str, ReferenceKind] = {}
        for kind, names in (
            (ReferenceKind.REGISTER, registries.register),
            (ReferenceKind.LOOKUP, registries.lookup),
            (ReferenceKind.INIT_API, registries.init_api),
        ):
            for name in names:
                self.registry_kinds[name.rsplit(".", 1)[-1]] = kind
        # What a line must contain for the name collector to find anything on it: a quote (every
        # literal and f-string), a registry function, setattr/delattr, or an environment read.
        words = sorted({*self.registry_kinds, "setattr", "delattr", "environ", "getenv"})
        self.name_pattern = re.compile(rb"[\"']|" + b"|".join(re.escape(w.encode()) for w in words))
        self.toggles = tuple(toggles)
        # spelling -> (toggle, whether a truthy value means the toggle is on)
        self.spellings: dict[str, tuple[str, bool]] = {}
        self.off_words: dict[str, frozenset[str]] = {}
        self.decorators: dict[str, str] = {}  # configured dotted name -> toggle
        self.decorator_names: dict[str, str] = {}  # its last part -> toggle
        # Spellings written with a trailing `()` (issue 27): predicates, read only by a call; a bare
        # read of one is the function object, always true.
        self.predicates: set[str] = set()
        for toggle in self.toggles:
            self.off_words[toggle.name] = frozenset(w.strip().lower() for w in toggle.off_values)
            for polarity, written in ((True, toggle.on_when_true), (False, toggle.on_when_false)):
                for spelling in written:
                    if spelling.endswith("()"):
                        spelling = spelling[:-2]
                        self.predicates.add(spelling.rsplit(".", 1)[-1])
                    self.spellings[spelling] = (toggle.name, polarity)
            for decorator in toggle.decorators:
                self.decorators[decorator] = toggle.name
                self.decorator_names[decorator.rsplit(".", 1)[-1]] = toggle.name
        self._triggers = tuple({s.encode() for s in (*self.spellings, *self.decorator_names)}) + _TRIGGERS
        self._plain = FileToggles(self, None)

    def spelled_in(self, source: bytes) -> bool:
        """Whether any toggle spelling occurs in the text at all: if not, no test can mention one,
        and the (slow) search of every condition for mentions can be skipped."""
        return any(spelling.encode() in source for spelling in self.spellings) or any(
            name.encode() in source for name in self.decorator_names
        )

    def for_file(self, tree: cst.Module, source: bytes, module: str, is_package: bool, ast_tree=None) -> FileToggles:
        """The binding-aware view of one file (a binding pass only where a toggle may be read);
        `ast_tree`, the file's `ast` when the caller has it, narrows the search for `:=`."""
        if not any(word in source for word in self._triggers):
            return FileToggles(self, None)
        walrus = (ast_tree if ast_tree is not None else True) if b":=" in source else False
        return FileToggles(self, FileBindings(tree, module, is_package, walrus=walrus), self.called_in(source))

    def called_in(self, source: bytes) -> frozenset[str]:
        """The spellings (last parts) the file calls somewhere (`is_feat()`): there the name is a
        function, and a bare read of it (`if is_feat:`) is the function object, not the toggle."""
        found = set()
        for spelling in {s.rsplit(".", 1)[-1] for s in self.spellings}:
            word = spelling.encode()
            if word in source and re.search(rb"(?<!\w)" + re.escape(word) + rb"\s*\(", source):
                found.add(spelling)
        return frozenset(found)

    # The same questions without bindings (names read as spelled): for callers without a file.
    def implies(self, expr: cst.BaseExpression, truth: bool) -> Knowledge:
        return self._plain.implies(expr, truth)

    def mentioned(self, expr: cst.CSTNode) -> frozenset[str]:
        return self._plain.mentioned(expr)

    def decorator_toggles(self, decorator: cst.Decorator) -> Knowledge:
        return self._plain.decorator_toggles(decorator)


__all__ = ["ToggleMatcher"]
