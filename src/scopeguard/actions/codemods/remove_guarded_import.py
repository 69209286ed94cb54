"""Remove imports of a deleted scope that survive its deletion (guarded by its toggle, inside
`try`/`except ImportError`, under `TYPE_CHECKING`), keeping everything else as written.

An import is named by its line and the imported name (`from a import b` -> name "b"; `import a.b`
-> name None, target "a.b"). Only that name goes: `from tvm import relax, ir` keeps `ir`. A block
left empty is handled as Python needs it:
- `if X:` with nothing else in it goes, with its comments; with an `else`/`elif` it gets `pass`;
- `try: <import> except ImportError: <fallback>` becomes the fallback (it is the only path once
  the scope is gone), or goes when the fallback is `pass`; any other `try` keeps a `pass`;
- any other block (a function, `with`, `for`) gets `pass`.
A removal that would leave its bound name used but no longer bound anywhere in the file (or named
in `__all__`) is not made: `apply` reports it as kept, with the reason, for a hand edit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ...base.text import source_lines
from .base import Example, Unedited, dedent


@dataclass(frozen=True, slots=True)
class Removal:
    line: int
    target: str  # the dotted module (resolved); for `import a.b` the whole dotted name
    name: str | None  # the imported name of `from target import name`; None for `import target`


@dataclass(frozen=True)
class Result:
    source: str
    removed: tuple[Removal, ...]
    kept: tuple[Unedited, ...]


_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _bound(alias: cst.ImportAlias, is_from: bool) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    dotted = _dotted(alias.name)
    return dotted if is_from else dotted.split(".")[0]


class _Remover(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, removals: Iterable[Removal]) -> None:
        super().__init__()
        self.by_line: dict[int, list[Removal]] = {}
        for r in removals:
            self.by_line.setdefault(r.line, []).append(r)
        self.done: list[tuple[Removal, str]] = []  # (removal, name it bound)
        self.gone: set[int] = set()  # ids of original statements removed

    def _wanted(self, node: cst.CSTNode) -> list[Removal]:
        pos = self.get_metadata(PositionProvider, node)
        return [r for line in range(pos.start.line, pos.end.line + 1) for r in self.by_line.get(line, ())]

    def leave_Import(self, original: cst.Import, updated: cst.Import):
        wanted = self._wanted(original)
        keep = []
        for alias in updated.names:
            match = next((r for r in wanted if r.name is None and _dotted(alias.name) == r.target), None)
            if match is None:
                keep.append(alias)
            else:
                self.done.append((match, _bound(alias, False)))
        return self._rebuilt(updated, keep)

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom):
        wanted = [r for r in self._wanted(original) if r.name is not None]
        if not wanted:
            return updated
        if isinstance(updated.names, cst.ImportStar):
            match = next((r for r in wanted if r.name == "*"), None)
            if match is None:
                return updated
            self.done.append((match, "*"))
            return cst.RemovalSentinel.REMOVE
        keep = []
        for alias in updated.names:
            match = next((r for r in wanted if _dotted(alias.name) == r.name), None)
            if match is None:
                keep.append(alias)
            else:
                self.done.append((match, _bound(alias, True)))
        return self._rebuilt(updated, keep)

    @staticmethod
    def _rebuilt(updated, keep):
        if len(keep) == len(updated.names):
            return updated
        if not keep:
            return cst.RemovalSentinel.REMOVE
        last = keep[-1]
        if isinstance(updated, cst.ImportFrom) and updated.lpar is not None:
            trailing = updated.names[-1].comma  # keep a parenthesised list's own trailing comma
            keep[-1] = last.with_changes(comma=trailing)
        else:
            keep[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(names=keep)

    def leave_SimpleStatementLine(self, original, updated):
        if not updated.body:
            self.gone.add(id(original))
            return cst.RemovalSentinel.REMOVE
        return updated

    def leave_If(self, original: cst.If, updated: cst.If):
        if _empty(updated.body) and not _empty(original.body):
            if updated.orelse is None or (isinstance(updated.orelse, cst.Else) and _empty(updated.orelse.body)):
                self.gone.add(id(original))
                return cst.RemovalSentinel.REMOVE
            return updated.with_changes(body=_pass(updated.body))
        if isinstance(updated.orelse, cst.Else) and _empty(updated.orelse.body) and not _empty(original.orelse.body):
            return updated.with_changes(orelse=None)
        return updated

    def leave_Try(self, original: cst.Try, updated: cst.Try):
        if not (_empty(updated.body) and not _empty(original.body)):
            return updated
        handlers = updated.handlers
        plain = (
            handlers
            and updated.orelse is None
            and updated.finalbody is None
            and all(h.name is None and _catches_import_error(h.type) for h in handlers)
        )
        if plain:
            fallback = list(handlers[0].body.body)
            if all(_is_pass(s) for s in fallback):
                self.gone.add(id(original))
                return cst.RemovalSentinel.REMOVE
            first = fallback[0]
            fallback[0] = first.with_changes(leading_lines=(*updated.leading_lines, *first.leading_lines))
            return cst.FlattenSentinel(fallback)
        return updated.with_changes(body=_pass(updated.body))

    def leave_FunctionDef(self, original, updated):
        return self._filled(original, updated)

    def leave_ClassDef(self, original, updated):
        return self._filled(original, updated)

    def leave_With(self, original, updated):
        return self._filled(original, updated)

    def leave_For(self, original, updated):
        return self._filled(original, updated)

    def leave_While(self, original, updated):
        return self._filled(original, updated)

    def leave_ExceptHandler(self, original, updated):
        return self._filled(original, updated)

    def leave_Finally(self, original, updated):
        return self._filled(original, updated)

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock):
        """A block whose first statement went: the new first one loses its blank lines (not its comments)."""
        if updated.body and original.body and id(original.body[0]) in self.gone \
                and updated.body[0].leading_lines and not updated.body[0].leading_lines[0].comment:
            first = updated.body[0]
            lines = list(first.leading_lines)
            while lines and lines[0].comment is None:
                lines.pop(0)
            return updated.with_changes(body=[first.with_changes(leading_lines=lines), *updated.body[1:]])
        return updated

    @staticmethod
    def _filled(original, updated):
        if _empty(updated.body) and not _empty(original.body):
            return updated.with_changes(body=_pass(updated.body))
        return updated


def _empty(block) -> bool:
    body = getattr(block, "body", block)
    return isinstance(body, (list, tuple)) and len(body) == 0


def _pass(block):
    if isinstance(block, cst.IndentedBlock):
        return block.with_changes(body=[cst.SimpleStatementLine(body=[cst.Pass()])])
    return cst.SimpleStatementSuite(body=[cst.Pass()])


def _is_pass(statement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(isinstance(s, cst.Pass) for s in statement.body)


def _catches_import_error(node) -> bool:
    if node is None:
        return False  # a bare except: catches more than the import; keep the try's shape
    if isinstance(node, cst.Tuple):
        return all(isinstance(e.value, (cst.Name, cst.Attribute)) and _dotted(e.value).rpartition(".")[2]
                   in _IMPORT_ERRORS for e in node.elements)
    return _dotted(node).rpartition(".")[2] in _IMPORT_ERRORS


def _dangling(source: str, names: set[str]) -> dict[str, str]:
    """Names among `names` that `source` still uses but no longer binds, or lists in `__all__`."""
    tree = ast.parse(source)
    loaded, bound, exported = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            pass
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            exported |= {e.value for e in ast.walk(node.value) if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    found = {}
    for name in names:
        if name in exported:
            found[name] = f"`{name}` is listed in __all__"
        elif name in loaded and name not in bound:
            found[name] = f"`{name}` is still used in this file and nothing else binds it"
    return found


def apply(source: str, removals: Iterable[Removal]) -> Result:
    """`source` without the imports named by `removals`; a removal whose name would dangle is kept."""
    wanted = list(dict.fromkeys(removals))
    kept: list[Unedited] = []
    lines = source_lines(source)
    for _ in range(len(wanted) + 1):
        remover = _Remover(wanted)
        new = MetadataWrapper(cst.parse_module(source)).visit(remover).code
        bound = {name for _, name in remover.done if name != "*"}
        dangling = _dangling(new, bound)
        undo = [r for r, name in remover.done if name in dangling]
        if not undo:
            missing = [r for r in wanted if r not in {d for d, _ in remover.done}]
            kept += [Unedited(r.line, _text(lines, r.line), "the import was not found on this line") for r in missing]
            return Result(new, tuple(r for r, _ in remover.done), tuple(kept))
        for r, name in remover.done:
            if name in dangling:
                kept.append(Unedited(r.line, _text(lines, r.line), dangling[name]))
        wanted = [r for r in wanted if r not in undo]
    raise AssertionError("unreachable: every round removes at least one candidate")


def _text(lines: list[str], line: int) -> str:
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


EXAMPLES = (
    Example(
        "a toggle block that holds only the import goes, with its blank line",
        dedent('''
            from .config import USE_GPU

            if USE_GPU:
                from . import gpu
            '''),
        "from .config import USE_GPU\n",
        {"removals": [Removal(4, "app", "gpu")]},
    ),
    Example(
        "one name of a from-statement; the block and its comments stay",
        dedent('''
            if not _RUNTIME_ONLY:
                # both dialects
                from tvm import relax, ir  # relax and ir
                x = 1
            '''),
        dedent('''
            if not _RUNTIME_ONLY:
                # both dialects
                from tvm import ir  # relax and ir
                x = 1
            '''),
        {"removals": [Removal(3, "tvm", "relax")]},
    ),
    Example(
        "try/except ImportError becomes its fallback",
        dedent('''
            """Doc."""
            try:
                from app.legacy import compat
            except ImportError:
                compat = None
            '''),
        dedent('''
            """Doc."""
            compat = None
            '''),
        {"removals": [Removal(3, "app.legacy", "compat")]},
    ),
    Example(
        "a try whose fallback is pass goes",
        dedent('''
            try:
                import app.legacy.compat
            except ModuleNotFoundError:
                pass
            y = 2
            '''),
        "y = 2\n",
        {"removals": [Removal(2, "app.legacy.compat", None)]},
    ),
    Example(
        "an if with an else keeps a pass",
        dedent('''
            if USE_GPU:
                from app import gpu
            else:
                gpu = None
            '''),
        dedent('''
            if USE_GPU:
                pass
            else:
                gpu = None
            '''),
        {"removals": [Removal(2, "app", "gpu")]},
    ),
    Example(
        "an import whose name is still used is kept (listed for a hand edit)",
        dedent('''
            def launch(kernel):
                if not USE_GPU:
                    raise RuntimeError("off")
                from app.gpu.kernels import run

                return run(kernel)
            '''),
        dedent('''
            def launch(kernel):
                if not USE_GPU:
                    raise RuntimeError("off")
                from app.gpu.kernels import run

                return run(kernel)
            '''),
        {"removals": [Removal(4, "app.gpu.kernels", "run")]},
    ),
    Example(
        "the first statement of a block goes: the next one keeps no blank line above it",
        dedent('''
            if TYPE_CHECKING:
                from tvm.relax import VDevice

                T = TypeVar("T")
            '''),
        dedent('''
            if TYPE_CHECKING:
                T = TypeVar("T")
            '''),
        {"removals": [Removal(2, "tvm.relax", "VDevice")]},
    ),
    Example(
        "a block untouched keeps its blank line",
        dedent('''
            if TYPE_CHECKING:
                from tvm.relax import VDevice
            else:

                class V:
                    pass
            '''),
        dedent('''
            if TYPE_CHECKING:
                pass
            else:

                class V:
                    pass
            '''),
        {"removals": [Removal(2, "tvm.relax", "VDevice")]},
    ),
    Example(
        "a parenthesised multi-line from-statement keeps its layout",
        dedent('''
            if TYPE_CHECKING:
                from tvm.relax import (
                    Expr,
                    Var,
                )
            '''),
        dedent('''
            if TYPE_CHECKING:
                from tvm.relax import (
                    Var,
                )
            '''),
        {"removals": [Removal(3, "tvm.relax", "Expr")]},
    ),
)
