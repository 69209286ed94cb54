"""One file's bytes -> FileFacts: every import site with its guard context, and the strings that
name modules or registry entries.

The only package that imports libcst. Nothing imports it until a file must really be parsed (see
run/pipeline.py), so a run served from the cache never pays for libcst. One libcst parse (the parser
of record) and one stdlib `ast` parse of the same bytes (a faster view for positions and strings)
feed small passes, each a module with one job:

    toggle_matcher.py   which spellings, OFF words and decorators name a toggle in this file
    toggle_values.py    the abstract values a toggle test can take, and operators on them
    toggle_eval.py      what an expression is in one OFF state, and which spellings it reads
    toggle_knowledge.py what a condition or decorator implies about the toggles (Knowledge)
    guard_walk.py   the guard walk: each statement with its enclosing guards, handed to the passes
    file_context.py what the walk knows of the whole file (exit calls, error-name tuples, suppress)
    handlers.py     what an `except` or `suppress(...)` catches, and whether it goes on
    exits.py, truth.py   what leaves a block; constant tests and case patterns
    dynamic_calls.py     dynamic-import calls inside an expression, with the guards of their operand
    imports.py      import sites, `__all__`, importlib/__import__/find_spec calls (a walk pass)
    names.py        registry calls, dotted literals, monkeypatches, environment reads (on `ast`)
    strings.py      what a string expression holds (literals, f-strings, module constants)
    bindings.py     which name an import binds to what: the one place import aliases are tracked
    calltime.py     functions of the file that run at import time (called on import, decorators...)
    calls.py        the file's share of project-level reachability: functions, calls, tables
    lazy_modules.py lazy modules' name tables (`sys.modules[__name__] = Lazy(...)`), by-name tables
    effects.py      what the file does with names (calls, values, decorators, classes, lookups): the facts of
                    the project-wide "may run at import time" analysis (analysis/import_time.py)
    positions.py    line/column from `ast`, matched to the libcst walk; PositionProvider fallback
    lowering.py     the `ast` view built from libcst when the running Python cannot parse the file
    errors.py, suppressions.py   parse-error wording; `# scopeguard: ignore` comments
    syntax.py, astnodes.py       small shared questions about libcst / `ast` nodes

A new pass over statements with their guards is a guard_walk.WalkPass given to GuardWalk (see _walk).
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re

import libcst as cst

from ..base.model import FileFacts, Guard, ParseError
from .astnodes import forget_walk, in_source_order
from .bindings import DYNAMIC_IMPORT_NAMES, ImportBindings, resolve_relative
from .calltime import import_time_copies, import_time_functions
from .effects import effects as file_effects
from .errors import TOO_DEEP, parse_error
from .file_context import walk_context
from .guard_walk import GuardWalk
from .imports import EXTRA_CALLEES, MACHINERY_CALLEES, ImportSites, callable_aliases
from .lowering import LoweringError, lower
from .names import NameCollector
from .names import lines_matching as _lines_matching
from .positions import AstPositions as _AstPositions
from .positions import CstPositions
from .positions import PositionMismatch as _PositionMismatch
from .calls import ReachFacts
from .attachments import attachment_facts
from .lazy_modules import lazy_facts
from .strings import KnownStrings
from .suppressions import statement_spans, suppressions
from .syntax import dotted_name, nfkc_identifiers
from .toggle_knowledge import Knowledge
from .toggle_matcher import ToggleMatcher

# _AstPositions, _PositionMismatch and _lines_matching are looked up here at call time: tests
# replace them to compare the fast paths with the slow ones.
__all__ = [
    "MAX_FILE_BYTES",
    "Knowledge",
    "ToggleMatcher",
    "dotted_name",
    "resolve_relative",
    "scan_file",
    "scan_source",
]

# The largest real files seen: torch 1.4 MB (7 s, 770 MB to parse), a generated AWS policy table 4 MB.
MAX_FILE_BYTES = 8 * 2**20


def scan_file(
    abspath: str, *, path: str, module: str, is_package: bool, matcher: ToggleMatcher, extra: bool = False
) -> FileFacts:
    """Read one file (bounded in size) and scan its bytes; an unreadable file is a fact too."""
    try:
        with open(abspath, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            # Parsing costs ~10 s and ~1 GB per 5 MB of code: a file this large is generated data.
            if size > MAX_FILE_BYTES:
                reason = (f"too large to analyse ({size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES >> 20} MB); "
                          "exclude it if it is generated")
                return FileFacts(path=path, module=module, is_package=is_package, extra=extra,
                                 error=ParseError(0, 0, reason))
            source = handle.read()
    except OSError as error:
        reason = f"cannot read: {error.strerror or error}"
        return FileFacts(path=path, module=module, is_package=is_package, extra=extra, error=ParseError(0, 0, reason))
    return scan_source(source, path=path, module=module, is_package=is_package, matcher=matcher, extra=extra)


def scan_source(
    source: bytes, *, path: str, module: str, is_package: bool, matcher: ToggleMatcher, extra: bool = False
) -> FileFacts:
    """Parse bytes already read and collect their facts. Never raises for bad input: errors become facts."""
    try:
        return _scan(source, path=path, module=module, is_package=is_package, matcher=matcher, extra=extra)
    finally:
        forget_walk()  # the passes' shared walk of this file's tree (astnodes.every_node)


def _scan(source: bytes, *, path: str, module: str, is_package: bool, matcher: ToggleMatcher, extra: bool) -> FileFacts:
    base = dict(path=path, module=module, is_package=is_package, extra=extra)
    source = nfkc_identifiers(source)  # identifiers as Python reads them, before any pass sees them
    try:
        tree = cst.parse_module(source)
    except Exception as error:  # libcst raises more than ParserSyntaxError on odd input; never crash
        return FileFacts(**base, error=parse_error(source, error))

    scan_calls = _DYNAMIC_WORDS.search(source) is not None
    mentions_possible = matcher.spelled_in(source)
    try:
        ast_tree = _parse_ast(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # Newer syntax than the running Python's (`type X = int` under 3.11): the same view, built
        # from libcst's tree; what cannot be built is said, never silently left out.
        try:
            ast_tree = lower(tree, source)
        except LoweringError as failure:  # say what was not analysed: the file
            return FileFacts(**base, error=ParseError(failure.line, failure.column, failure.reason))
    try:
        statements = in_source_order(ast_tree) if ast_tree is not None else []
        bindings = ImportBindings.of(statements, module, is_package)
        aliases = callable_aliases(ast_tree, bindings) if scan_calls else {}
        context = walk_context(bindings, ast_tree)
        callees = (bindings.dynamic_callees() | EXTRA_CALLEES | MACHINERY_CALLEES | set(aliases)) if scan_calls else DYNAMIC_IMPORT_NAMES
        # A module's own `def eval(expr)` (TVM's relay tests) is no builtin: its calls import nothing.
        callees = callees - (context.module_names & _SHADOWABLE_BUILTINS)
        names = KnownStrings(ast_tree, module, is_package, extra)
        file_toggles = matcher.for_file(tree, source, module, is_package, ast_tree)  # binding-aware
        setup = (file_toggles, module, is_package, bindings, names, scan_calls, callees, mentions_possible, context, aliases)
        try:
            if ast_tree is None:
                raise _PositionMismatch
            call_lines = _lines_matching(source, _callee_pattern(callees)) if scan_calls else None
            walk, imports = _walk(tree, _AstPositions(statements, callees, call_lines), *setup)
        except _PositionMismatch:
            walk, imports = _walk(tree, CstPositions(tree), *setup)
        collector = NameCollector(matcher.registry_kinds, bindings, names, imports.import_calls)
        replacements = {}
        reach = None
        effects = ()
        if ast_tree is not None:
            guarded = _guarded_statements(walk, statements)
            collector.run(guarded, _lines_matching(source, matcher.name_pattern))
            replacements = import_time_functions(guarded, ast_tree)
            reach = ReachFacts(ast_tree, module, is_package, bindings, guarded, names.fixed)
            reach.run(ast_tree)
            effects = file_effects(ast_tree, module, bindings, guarded)
    except RecursionError:  # `not not ... x` a thousand deep; a 3000-term sum (libcst's codegen recurses)
        return FileFacts(**base, error=ParseError(1, 1, TOO_DEEP))
    references = sorted(import_time_copies(imports.probes + collector.references, replacements),
                        key=lambda r: (r.line, r.column, r.kind.value))
    return FileFacts(
        **base,
        sites=tuple(sorted(import_time_copies(imports.sites, replacements), key=lambda s: (s.line, s.column))),
        unresolved=tuple(sorted(_with_reach(import_time_copies(imports.unresolved, replacements), reach),
                                key=lambda u: (u.line, u.column))),
        dunder_all=imports.literal_dunder_all(),
        suppressions=suppressions(source),
        statements=statement_spans(statements),
        references=tuple(references),
        patches=tuple(sorted(import_time_copies(collector.patches, replacements), key=lambda p: (p.line, p.column))),
        **(reach.facts() if reach is not None else {}),
        **(lazy_facts(ast_tree, source, is_package) if ast_tree is not None else {}),
        **(attachment_facts(ast_tree, module, bindings) if ast_tree is not None and bindings is not None else {}),
        effects=effects,
    )


# Words that may start a dynamic import: a file without any is not searched for calls.
_DYNAMIC_WORDS = re.compile(rb"import_module|__import__|find_spec|importorskip|run_module|walk_packages|(?<![.\w])(?:exec|eval)\s*\("
                            rb"|importlib|pkgutil|runpy|pydoc|exec_module|load_module")


_SHADOWABLE_BUILTINS = frozenset({"exec", "eval", "__import__"})


def _callee_pattern(callees: frozenset[str]) -> re.Pattern[bytes]:
    """Any spelling of a dynamic callee on a line: the last part of each name (`import_module` for
    `importlib.import_module` and `getattr(importlib, "import_module")`, an alias `load`)."""
    words = sorted({c.rpartition(".")[2].removesuffix("()") for c in callees if c} | {"import_module", "__import__"})
    return re.compile(b"|".join(re.escape(w.encode()) for w in words))


def _with_reach(unresolved: list, reach) -> list:
    """The import walk's unresolved imports and the reach pass's (runpy, entry points) - a call both
    saw (`runpy.run_module(name)`) once."""
    if reach is None:
        return list(unresolved)
    seen = {(u.line, u.column) for u in unresolved}
    if reach.alternatives:  # known starts of its values (calls.ReachFacts._returned_starts)
        unresolved = [_alternatives(u, reach.alternatives.get((u.line, u.column))) for u in unresolved]
    return [*unresolved, *(u for u in reach.unresolved if (u.line, u.column) not in seen)]


def _alternatives(item, starts):
    """An unresolved import with the known starts of its values; every value's start known (a
    leading ""): their common start is its prefix, where it has none of its own."""
    if not starts or item.alternatives:
        return item
    if starts[0] == "":
        starts = starts[1:]
        common = os.path.commonprefix(list(starts))
        if common and not item.prefix:
            return dataclasses.replace(item, prefix=common, alternatives=starts)
    return dataclasses.replace(item, alternatives=starts)


def _parse_ast(source: bytes) -> ast.Module:
    """The running Python's `ast` of the file (a test replaces it to exercise lowering.py)."""
    return ast.parse(source)


def _walk(tree, positions, matcher, module, is_package, bindings, names, scan_calls, callees, mentions_possible,
          context, aliases, depth=0):
    imports = ImportSites(module, is_package, positions, bindings, names, aliases, depth)

    def snippet(text: str, inner_depth: int):
        """The import sites and unresolved imports of code run by exec/eval (a literal)."""
        try:
            inner_tree = cst.parse_module(text)
        except Exception:  # noqa: BLE001 - code that does not parse raises at run time: no import
            return None
        _, inner = _walk(inner_tree, CstPositions(inner_tree), matcher, module, is_package, bindings, names, True,
                         callees | DYNAMIC_IMPORT_NAMES, True, context, aliases, inner_depth)
        return inner.sites, inner.unresolved

    imports.snippet = snippet
    walk = GuardWalk(matcher, positions, [imports], scan_calls, callees, mentions_possible, context)
    walk.run(tree)
    imports.finish()
    return walk, imports


def _guarded_statements(walk: GuardWalk, statements: list[ast.stmt]) -> list[tuple[ast.stmt, tuple[Guard, ...]]]:
    """Every `ast` statement (in source order) with the guards the libcst walk found around it.

    With `ast` positions the two walks match one to one, by index. When they disagreed (libcst
    positions), statements are matched by line; a statement on a line the walk never saw is left
    out rather than given the wrong guards.
    """
    if walk.statement_lines is None:
        return list(zip(statements, walk.statement_guards, strict=True))
    by_line: dict[int, tuple[Guard, ...]] = {}
    for line, guards in zip(walk.statement_lines, walk.statement_guards, strict=True):
        by_line.setdefault(line, guards)
    return [(stmt, by_line[stmt.lineno]) for stmt in statements if stmt.lineno in by_line]
