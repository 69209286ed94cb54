"""Dynamic imports the facts leave open, judged for a maintainer: when each may run, and why its
target is unknown (issue 26).

An unresolved dynamic import (`importlib.import_module(name)`, `exec(code)`, an import an import
hook may serve) counts against a deletion's *import-time* verdict only if it may run while a module
is imported, and against its *call-time* verdict only if a value that reaches it may name the scope.
This module answers the first question for every site, once per graph, and says in one line why
the second cannot be answered (`why`), so that "Unknown" is something a reviewer can check.

"May run at import time" is asked in one place, `may_run_at_import`: a site whose facts say it runs
on import (module level, or a copy made by facts/calltime.py for a function the file itself calls
on import), or one inside a function that the one project-wide "may run at import time" analysis
(analysis/import_time.py) reaches from some module's import: improve it there and these verdicts
follow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..base.model import MAIN, TYPE_CHECKING, Execution, FileFacts, GuardKind, UnresolvedImport, UnresolvedReason
from .import_time import analysis_of

# Unresolved reasons that are no import of an unknown target.
_NOT_IMPORTS = (UnresolvedReason.BEYOND_ROOT, UnresolvedReason.INSTALLS_HOOK)
# facts/calls.py's spellings (not imported: analysis reads facts without loading the scanner):
# the term of `obj.__module__`, and a file's table of what it assigns to `__module__`.
MODULE_OF = (("modof", ""),)
HEAD = (("head", ""),)  # facts/calls.py: the first dotted part of a name
MODULE_NAMES = "<__module__>"


@dataclass(frozen=True, slots=True)
class DynamicSite:
    """One dynamic import whose target the facts leave (partly) open, with its copies merged."""

    node: str
    path: str
    line: int
    column: int
    text: str
    prefix: str  # the known start of the target ("" when nothing is known)
    reason: UnresolvedReason
    function: str  # enclosing function, qualified in its module ("Class.method"); "" at module level
    at_import: bool  # may run while a module is imported
    when: str  # the evidence for at_import, one line
    why: str  # why the target is unknown, one line a maintainer can check
    public: bool  # reachable from code outside the project (a public function of a non-test module)
    alternatives: tuple[str, ...] = ()  # known starts of some of its values (the rest unknown)
    # `import_module(obj.__module__)`: the module that defined an object that exists (already
    # imported: importing it again loads nothing), or one of these names, which the project assigns
    # to `__module__`; None when not such a site, or when the project assigns what is not known
    only: tuple[str, ...] | None = None
    # `import_module(name.split(".")[0])`: a top-level module's name (no dot), whatever `name` is
    top_level: bool = False

    @property
    def entry_points(self) -> bool:
        return self.reason is UnresolvedReason.ENTRY_POINTS

    def may_name(self, scope) -> bool:
        """Whether a value that reaches it may name a module of `scope` (nothing known: yes)."""
        if self.entry_points:
            return False  # lists distributions' entry points; packaging decides (see simulation)
        if self.only is not None:
            return any(scope.contains(name) for name in self.only)
        if self.top_level:
            # importing a top-level package loads a scope below it only through its own imports,
            # which are edges of the graph (judged where they are written)
            return "." not in scope.name
        if self.prefix and not self.prefix.startswith("."):
            return scope.may_contain(self.prefix)
        return True

    def may_name_some(self, scopes) -> bool:
        return any(self.may_name(s) for s in scopes)

    @property
    def unknown(self) -> bool:
        """Nothing at all is known of its target (no literal start)."""
        return not self.prefix or self.prefix.startswith(".")


def dynamic_sites(graph) -> list[DynamicSite]:
    """Every open dynamic import of the graph's files, once per call position; cached on the graph."""
    cached = getattr(graph, "_scopeguard_dynamic_sites", None)
    if cached is not None:
        return cached
    reached = import_time_functions(graph)
    assigned = _module_names(graph.files.values())
    found = []
    for facts in sorted(graph.files.values(), key=lambda f: f.path):
        groups: dict[tuple[int, int], list[UnresolvedImport]] = {}
        for item in facts.unresolved:
            if item.reason in _NOT_IMPORTS:
                continue
            groups.setdefault((item.line, item.column), []).append(item)
        if not groups:
            continue
        by_line = {fn.line: fn for fn in facts.functions}
        dynamic = {(d.line, d.column): d for d in facts.dynamic}
        for (line, column), items in sorted(groups.items()):
            live = [i for i in items if _execution(i.guards) is not Execution.NEVER]
            if not live:
                continue
            function = enclosing_function(facts, items, by_line)
            qualified = f"{facts.module}.{function}" if function else ""
            at_import, when = _when(facts, live, function, qualified, reached)
            first = live[0]
            found.append(DynamicSite(
                facts.node, facts.path, line, column, first.text, first.prefix, first.reason, function,
                at_import, when, _why(first, dynamic.get((line, column)), function),
                _public(facts, function), tuple(getattr(first, "alternatives", ()) or ()),
                assigned if _module_of(dynamic.get((line, column))) else None,
                _head(dynamic.get((line, column))),
            ))
    try:
        graph._scopeguard_dynamic_sites = found
    except AttributeError:  # a graph that takes no attributes: compute each time
        pass
    return found


def _head(dynamic) -> bool:
    return dynamic is not None and tuple(dynamic.term) == HEAD


def _module_of(dynamic) -> bool:
    return dynamic is not None and tuple(dynamic.term) == MODULE_OF


def _module_names(files: Iterable[FileFacts]) -> tuple[str, ...] | None:
    """Every name the project assigns to `__module__` (sorted); None if one is not known."""
    names: set[str] = set()
    for facts in files:
        for table in facts.tables:
            if table.name == MODULE_NAMES:
                if not table.complete:
                    return None
                names.update(value for _, value, _ in table.entries)
    return tuple(sorted(names))


def _execution(guards) -> Execution:
    """When code under these guards runs, as `Guarded.execution` decides it for an import site."""
    if any((TYPE_CHECKING, True) in g.knowledge or g.kind is GuardKind.DEAD for g in guards):
        return Execution.NEVER
    if any((MAIN, True) in g.knowledge or g.kind is GuardKind.FUNCTION for g in guards):
        return Execution.CALL
    return Execution.IMPORT


def may_run_at_import(site: DynamicSite) -> bool:
    """The one question the import-time verdict asks of a dynamic import."""
    return site.at_import


def import_time_functions(graph) -> dict[str, str]:
    """Project functions holding an unresolved dynamic import that may run while a module is
    imported, each with the statement that first reaches it ("path:line"): the one "may run at
    import time" analysis (analysis/import_time.py), across modules, through calls, values,
    decorators, classes and namespace lookups."""
    cached = getattr(graph, "_scopeguard_import_time", None)
    if cached is not None:
        return cached
    analysis = analysis_of(graph.files, graph.modules)
    reached: dict[str, str] = {}
    for item in analysis.reached(analysis.unresolved_functions()):
        if item.function not in reached:
            reached[item.function] = item.via[0].rpartition(" ")[0] if item.via else ""
    try:
        graph._scopeguard_import_time = reached
    except AttributeError:  # a graph that takes no attributes: compute each time
        pass
    return reached


def enclosing_function(facts: FileFacts, items: list[UnresolvedImport], by_line) -> str:
    """The enclosing function of a call position, qualified in its module ("" at module level):
    the outermost FUNCTION guard of any copy (an import-time copy has lost it), matched to the
    file's FunctionFacts by line, nested defs appended."""
    for item in items:
        defs = [g for g in item.guards if g.kind is GuardKind.FUNCTION and g.text.startswith("def ")]
        if not defs:
            continue
        outer = defs[0]
        fn = by_line.get(outer.line)
        if fn is None:
            name = outer.text[4:]
            matches = [f for f in facts.functions if f.name.rpartition(".")[2] == name and f.line >= outer.line]
            fn = min(matches, key=lambda f: f.line) if matches else None
        head = fn.name if fn is not None else outer.text[4:]
        return ".".join([head, *(g.text[4:] for g in defs[1:])])
    return ""


def _when(facts, live, function, qualified, reached) -> tuple[bool, str]:
    if any(_execution(i.guards) is Execution.IMPORT for i in live):
        if function:
            return True, f"runs at import time: {function}() is called while {facts.node} is imported"
        return True, "runs at import time (module level)"
    if not function:
        return False, "runs only when called"
    if qualified in reached:
        return True, f"may run at import time: {function.rpartition('.')[2]}() is reached from {reached[qualified]}"
    return False, f"only when called: inside {function}(), which no code run at import time calls"


def _why(item: UnresolvedImport, dynamic, function: str) -> str:
    text = item.text
    reason = item.reason
    if reason is UnresolvedReason.HOOKED:
        return "not in the tree: the import hook the project installs (sys.meta_path) may serve it with any module"
    if reason is UnresolvedReason.ENTRY_POINTS:
        return "lists entry points of installed distributions: only what their metadata declares can load"
    if reason is UnresolvedReason.RELATIVE_DYNAMIC:
        return "relative name whose package argument is not known"
    if _module_of(dynamic):
        return ("the module that defined an object (already imported), or a name the project assigns to "
                "`__module__`, which may name a scope or is not known")
    head = text.partition("(")[0].rpartition(".")[2]
    if head in ("exec", "eval"):
        return f"{head} of code built at run time: the imports it runs cannot be read"
    if head == "run_path":
        return "runs a file whose path is computed at run time"
    if head == "walk_packages":
        return "imports every package under a prefix computed at run time"
    if item.prefix and not item.prefix.startswith("."):
        return f"only the start of the name is known ({item.prefix!r}): the rest is computed at run time"
    if dynamic is not None:
        kinds = [kind for kind, _ in dynamic.term]
        params = [text for kind, text in dynamic.term if kind == "param"]
        tables = [text.partition("|")[0] for kind, text in dynamic.term if kind in ("item", "elem", "key", "iter")]
        where = f"{function}()" if function else "module level"
        if params:
            return (f"the name is parameter `{params[0]}` of {where}: its callers' values are not all known "
                    "(a public function takes any)")
        if tables:
            return f"the name is read from `{tables[0]}`, a table filled at run time or not all literal"
        if "any" in kinds:
            return "the name is computed at run time from values the facts do not follow"
    what = "find_spec of" if head == "find_spec" else "import of"
    return f"{what} a name computed at run time (`{text}`)"


_TEST_PARTS = frozenset({"tests", "test", "testing"})


def _test_module(facts: FileFacts) -> bool:
    if facts.extra:
        return True
    parts = facts.module.split(".")
    last = parts[-1]
    return (any(p in _TEST_PARTS for p in parts[:-1]) or last.startswith("test_") or last.endswith("_test")
            or last in ("conftest", "tests"))


def _public(facts: FileFacts, function: str) -> bool:
    """Whether code outside the project may run it: any code of the library (a private function is
    reached through public ones); a test module's functions run under the test runner only."""
    return not _test_module(facts)


def packaging_names(build, scope) -> tuple[str, ...]:
    """Where the project's packaging files name the scope ("path:line"), as collect/packaging.py
    matches them (the dotted name or its path, whole): the only places an entry point of the
    project can point into it."""
    if build is None:
        return ()
    import re

    spellings = sorted({scope.name, scope.name.replace(".", "/")}, key=len, reverse=True)
    pattern = re.compile(rf"(?<![\w.])(?:{'|'.join(re.escape(s) for s in spellings)})(?![\w])")
    return tuple(f"{f.path}:{t.line}" for f in build.packaging for t in f.texts if pattern.search(t.value))


# What a site's call is, by its last name: a spec made from a file path executes nothing until a
# loader's exec_module/load_module runs it (issue 27.2; realproj).
_SPEC_MAKERS = frozenset({"spec_from_file_location"})
_SPEC_RUNNERS = frozenset({"exec_module", "load_module"})


def _callee_name(site: DynamicSite) -> str:
    return site.text.partition("(")[0].rpartition(".")[2]


def spec_run_elsewhere(site: DynamicSite, sites: Iterable[DynamicSite]) -> bool:
    """`importlib.util.spec_from_file_location(name, path)` builds a spec and imports nothing, not
    even `name`'s parents (CPython: sys.modules is unchanged); the module runs where a loader's
    `exec_module`/`load_module` runs it. True when such a runner is itself an open site of the same
    function: that site is the one that may load a scope, and says so. A spec made where no runner is
    seen (returned, handed to another function) is not covered: it stays a site of its own."""
    if _callee_name(site) not in _SPEC_MAKERS:
        return False
    return any(other.node == site.node and other.function == site.function and other.line >= site.line
               and _callee_name(other) in _SPEC_RUNNERS for other in sites)


def run_by_test_runner_only(facts: FileFacts) -> bool:
    """A module only a test runner runs: a file of an extra root (`tests/`), a `test_*`, `*_test`,
    `conftest` or `tests` module, or one inside a `tests`/`test` package. Not a `testing` package or
    a `testing_utils` module: libraries ship those for other projects' tests (matplotlib.testing,
    transformers.testing_utils), so code outside the project calls them. (realproj, issue 27.2)"""
    if facts.extra:
        return True
    parts = facts.module.split(".")
    last = parts[-1]
    return (any(p in ("tests", "test") for p in parts[:-1]) or last.startswith("test_") or last.endswith("_test")
            or last in ("conftest", "tests"))
