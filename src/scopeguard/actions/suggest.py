"""What `scopeguard init` proposes for a project that has no configuration yet: source and extra
roots, toggle candidates (with their polarity) and candidate scopes ranked by how close they are to
S0 today. Suggestions only: nothing here decides a finding.

- **Roots**: folders whose children are top-level packages (`src/`, `python/`, `.`); `tests/` or
  `test/` at the top as extra roots.
- **Toggle candidates**: the names, attributes, environment variables and build-info keys tested
  in an `if` around imports (`if not _RUNTIME_ONLY: from . import relax`), or before an early
  exit that skips them (`if os.environ.get("X") == "0": return`). `ast` finds the conditions;
  their polarity is decided by the scanner's own ToggleMatcher, so a candidate means to `check`
  exactly what it was found to mean. CMake options (`option`, `tvm_option`) that match a
  candidate or a candidate scope's name are added as evidence.
- **Candidate scopes**: subpackages one or two levels below a top-level package, ranked by whether
  `import <root>` loads them, how many modules their deletion breaks (the deletion simulation),
  and how many outside modules import them at import time, lazily or behind a guard.

The project's files are only read (parsed, never imported or run).
"""

from __future__ import annotations

import ast
import builtins
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

_SKIPPED = frozenset({
    "__pycache__", "node_modules", "build", "dist", "site-packages", "3rdparty", "third_party", "_build",
})
_EXTRA_NAMES = ("tests", "test")
_NOT_COMPONENTS = frozenset({"tests", "test", "testing", "_version", "version"})
_MAX_DEPTH = 3  # how deep below the project root a source root may be

# Names whose tests are about the interpreter or the platform, never a feature toggle.
_IGNORED_NAMES = frozenset({
    "TYPE_CHECKING", "__name__", "__debug__", "sys", "os", "environ", "version_info", "platform",
    "maxsize", "hexversion", "implementation", "byteorder", "name", "self", "cls",
}) | frozenset(dir(builtins))
# Calls that probe for an optional dependency or a file: their string argument is no toggle.
_PROBES = frozenset({
    "find_spec", "find_loader", "import_module", "exists", "isfile", "isdir", "is_file", "is_dir", "hasattr",
    "getattr", "isinstance", "issubclass", "callable", "startswith", "endswith", "match", "search",
    "version", "parse", "get_distribution", "which",
})
_ENV_CALLS = ("environ.get", "getenv", "environ.setdefault", "environ.pop")


@dataclass(frozen=True)
class Sighting:
    """One test of a spelling in a condition around imports."""

    path: str
    line: int
    test: str  # the condition as written
    on_when_true: bool  # the imports run when the spelling's value is truthy
    imports: tuple[str, ...]  # absolute modules imported in the guarded code


@dataclass
class ToggleCandidate:
    spelling: str
    kind: str  # name, attribute, environment, build-info, call, cmake
    sightings: list[Sighting] = field(default_factory=list)
    cmake: list[tuple[str, int, str]] = field(default_factory=list)  # (path, line, command)

    @property
    def on_when_true(self) -> bool:
        """The majority polarity (imports guarded to run while the value is truthy)."""
        votes = Counter(s.on_when_true for s in self.sightings)
        return votes[True] >= votes[False] if self.sightings else True

    @property
    def toggle_name(self) -> str:
        return toggle_name(self.spelling)

    @property
    def config_spelling(self) -> str:
        """The spelling as the config writes it: a predicate with its `()` (issue 27: only a call
        reads it; `if is_feat:` is the function object, always true)."""
        return f"{self.spelling}()" if self.kind == "call" else self.spelling


@dataclass(frozen=True)
class ScopeCandidate:
    name: str
    files: int
    unguarded: tuple[str, ...]  # outside modules importing it at import time, unguarded
    guarded: tuple[str, ...]  # ... at import time behind a toggle or try/except ImportError
    lazy: tuple[str, ...]  # ... inside a function
    loaded_by_root: tuple[str, ...]  # the chain from the top-level package with every toggle off, or ()
    broken: int  # modules failing at import time once it is deleted
    broken_calls: int  # lazy imports that then fail
    example_chain: tuple[str, ...] = ()
    toggle: str | None = None  # the toggle guarding most imports of it from outside
    toggle_sites: int = 0
    loaded_with_toggles: tuple[str, ...] = ()  # the chain when every toggle is on (the default)

    @property
    def near_deletable(self) -> bool:
        """Close enough to S0 to propose: deleting it breaks no more modules at import time than it
        has files (at least three are tolerated). A package that much of the project depends on
        (matplotlib.axes: 4 files, 130 modules broken) is core code, not a scope."""
        return self.broken <= max(3, self.files)

    @property
    def rank_key(self) -> tuple:
        return (bool(self.loaded_by_root), self.broken, len(self.unguarded), self.broken_calls,
                len(self.lazy) + len(self.guarded), -self.files, self.name)


# ---------------------------------------------------------------------------------------------
# Roots


def detect_roots(root: str) -> tuple[list[str], list[str]]:
    """(source_roots, extra_roots), relative to `root` with forward slashes."""
    counts: dict[str, int] = {}
    extra: list[str] = []
    top_names = _listdir(root)
    for name in _EXTRA_NAMES:
        if name in top_names and os.path.isdir(os.path.join(root, name)) and _has_python(os.path.join(root, name)):
            extra.append(name)

    def walk(rel: str, depth: int) -> None:
        folder = os.path.join(root, rel) if rel else root
        names = _listdir(folder)
        for name in sorted(names):
            path = os.path.join(folder, name)
            if name.startswith(".") or name in _SKIPPED or not os.path.isdir(path) or os.path.islink(path):
                continue
            if not rel and name in _EXTRA_NAMES:
                continue
            if os.path.isfile(os.path.join(path, "pyvenv.cfg")):
                continue  # a virtualenv
            if os.path.isfile(os.path.join(path, "__init__.py")):
                counts[rel or "."] = counts.get(rel or ".", 0) + _count_python(path)
            elif depth < _MAX_DEPTH:
                walk(f"{rel}/{name}" if rel else name, depth + 1)

    walk("", 0)
    if not counts:
        return (["src"] if os.path.isdir(os.path.join(root, "src")) else ["."]), extra
    chosen: list[str] = []
    for rel, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if not any(_nested(rel, other) for other in chosen):
            chosen.append(rel)
    if "." in chosen:
        extra = []  # tests under "." are walked as source already
    return sorted(chosen), extra


def _nested(a: str, b: str) -> bool:
    if a == "." or b == ".":
        return True
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _has_python(folder: str) -> bool:
    for _, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED]
        if any(f.endswith(".py") for f in files):
            return True
    return False


def _count_python(folder: str) -> int:
    total = 0
    for _, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED]
        total += sum(1 for f in files if f.endswith(".py"))
    return total


# ---------------------------------------------------------------------------------------------
# Toggle candidates


def toggle_name(spelling: str) -> str:
    """A toggle's name from one of its spellings: `_RUNTIME_ONLY` -> runtime_only, `TVM_USE_MSC` -> msc."""
    name = spelling.strip("_").lower()
    name = re.sub(r"[^a-z0-9_]+", "_", name)
    for prefix in ("use_", "enable_", "with_", "has_", "have_"):
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name[len(prefix):]
    return name or "toggle"


def _strip_project_prefix(spelling: str, packages: Iterable[str]) -> str:
    for package in packages:
        prefix = package.upper() + "_"
        if spelling.upper().startswith(prefix) and len(spelling) > len(prefix):
            return spelling[len(prefix):]
    return spelling


def find_toggle_candidates(files: Sequence, packages: Sequence[str], *, jobs: int | None = None,
                           limits=None) -> list[ToggleCandidate]:
    """Toggle candidates in `files` (discover.ModuleFile), most sightings first.

    Each file is read and searched in the contained parsing workers `check` uses (collect.parsing:
    size, memory and time limits, a crash costs the file): a file they cannot finish gives no
    candidate (`check` reports it, SG001)."""
    from ..base.model import FileFacts
    from ..collect.parsing import scan_files

    found: dict[str, ToggleCandidate] = {}
    for _digest, result in scan_files((), files, jobs, None, None, limits, scanner=file_sightings):
        if isinstance(result, FileFacts):
            continue  # not read, or over a limit: nothing to suggest from it
        for kind, spelling, sighting in result:
            # A toggle switches the project's own code: a condition around imports of third-party
            # modules only (`if QT_API == ...: import PyQt6`) is a dependency check, not a toggle.
            imports = tuple(m for m in sighting.imports if m.split(".")[0] in packages)
            if imports:
                found.setdefault(spelling, ToggleCandidate(spelling, kind)).sightings.append(replace(sighting, imports=imports))
    return sorted(found.values(), key=lambda c: (-len(c.sightings), c.spelling))


def file_sightings(source: bytes, *, path: str, module: str, is_package: bool, extra: bool,
                   matcher=None) -> list[tuple[str, str, Sighting]]:
    """(kind, spelling, sighting) for each toggle-like test around imports in one file's bytes
    (run in a parsing worker by find_toggle_candidates)."""
    if b"import" not in source or b"if" not in source:
        return []
    import libcst as cst

    from ..base.model import Toggle
    from ..facts import ToggleMatcher

    try:
        tree = ast.parse(source.decode("utf-8"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # check reports unparsable files (SG001); nothing to suggest from them
    segment = _Segments(source)
    out = []
    for test, truth, line, imports in _guarded_imports(tree, module, is_package, extra):
        written = segment(test) or ast.unparse(test)
        try:
            expression = cst.parse_expression(written.strip())
        except Exception:  # noqa: BLE001 - libcst's parser errors vary; no suggestion then
            continue
        for kind, spelling in _spellings(test):
            matcher = ToggleMatcher([Toggle("c", on_when_true=(spelling,))])
            state = matcher.implies(expression, truth).get("c")
            if state is None:
                continue  # the test says nothing definite about it (`x > 3`, `a or b`)
            out.append((kind, spelling, Sighting(path, line, " ".join(written.split()), state, imports)))
    return out


class _Segments:
    """ast.get_source_segment in linear time: it splits the whole source into lines at each call
    (a 95 kB file of 3,000 guarded imports: 5 minutes); the line starts are found once here. Lines
    end as ast counts them (\\n, \\r\\n, \\r), columns are UTF-8 byte offsets."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.starts = [0] + [m.end() for m in re.finditer(rb"\r\n|\r|\n", source)]

    def __call__(self, node: ast.AST) -> str | None:
        try:
            start = self.starts[node.lineno - 1] + node.col_offset
            end = self.starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[operator]
        except (AttributeError, TypeError, IndexError):
            return None
        return self.source[start:end].decode("utf-8", errors="replace")


def _guarded_imports(tree: ast.Module, module: str, is_package: bool, extra: bool):
    """(test, truth the imports need, line, imported modules) for each condition around imports."""
    out = []

    def block(statements: list[ast.stmt]) -> None:
        for index, stmt in enumerate(statements):
            if isinstance(stmt, ast.If):
                body = _imports(stmt.body, module, is_package, extra)
                if body:
                    out.append((stmt.test, True, stmt.lineno, body))
                orelse = _imports(stmt.orelse, module, is_package, extra)
                if orelse:
                    out.append((stmt.test, False, stmt.lineno, orelse))
                if not stmt.orelse and stmt.body and isinstance(stmt.body[-1], (ast.Return, ast.Raise)):
                    rest = _imports(statements[index + 1 :], module, is_package, extra)
                    if rest:
                        out.append((stmt.test, False, stmt.lineno, rest))
            for name in ("body", "orelse", "finalbody", "handlers", "cases"):
                children = getattr(stmt, name, None)
                if isinstance(children, list) and children:
                    if isinstance(children[0], ast.stmt):
                        block(children)
                    else:
                        for child in children:
                            block(getattr(child, "body", []))

    block(tree.body)
    return out


def _imports(statements: list[ast.stmt], module: str, is_package: bool, extra: bool) -> tuple[str, ...]:
    from ..facts import resolve_relative

    found: list[str] = []
    for stmt in statements:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level and extra:
                    continue
                base = resolve_relative(module, is_package, node.level, node.module or "") if node.level else node.module
                if base:
                    found += [f"{base}.{a.name}" if a.name != "*" else base for a in node.names]
            elif isinstance(node, ast.Call) and _dotted(node.func).rsplit(".", 1)[-1] in ("import_module", "__import__"):
                if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    found.append(node.args[0].value)
    return tuple(dict.fromkeys(found))


def _spellings(test: ast.expr) -> list[tuple[str, str]]:
    """(kind, spelling) pairs a test could be testing a toggle by, as the ToggleMatcher reads them."""
    out: list[tuple[str, str]] = []

    def visit(node: ast.expr) -> None:
        if isinstance(node, ast.Name):
            if node.id not in _IGNORED_NAMES:
                out.append(("name", node.id))
        elif isinstance(node, ast.Attribute):
            if node.attr not in _IGNORED_NAMES and not _dotted(node).startswith(("sys.", "os.", "platform.")):
                out.append(("attribute", node.attr))
        elif isinstance(node, ast.Subscript):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.isidentifier():
                env = _dotted(node.value).endswith("environ")
                out.append(("environment" if env else "build-info", key.value))
        elif isinstance(node, ast.Call):
            func = _dotted(node.func)
            last = func.rsplit(".", 1)[-1]
            if last in _PROBES:
                return
            if isinstance(node.func, ast.Attribute) and last in ("lower", "upper", "strip") and not node.args:
                visit(node.func.value)
            elif last in ("bool", "str", "int") and len(node.args) == 1:
                visit(node.args[0])
            elif node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                key = node.args[0].value
                if key.isidentifier():
                    out.append(("environment" if func.endswith(_ENV_CALLS) else "build-info", key))
            elif last and last not in _IGNORED_NAMES and not node.args:
                out.append(("call", last))
        elif isinstance(node, ast.UnaryOp):
            visit(node.operand)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                visit(value)
        elif isinstance(node, ast.Compare):
            if any(isinstance(c, ast.Constant) and c.value is None for c in node.comparators):
                return  # `x is None`: a value's presence, not a switch
            visit(node.left)
            for comparator in node.comparators:
                visit(comparator)

    visit(test)
    return [(kind, spelling) for kind, spelling in dict.fromkeys(out) if _toggle_like(kind, spelling)]


_CONSTANT = re.compile(r"_*[A-Z][A-Z0-9_]*")
_PREDICATE = re.compile(r"_*(has|use|enable|enabled|is_enabled|with|support|supports)_[a-z0-9_]+|_*[a-z0-9_]+_(enabled|available|on)")


def _toggle_like(kind: str, spelling: str) -> bool:
    """A module-level switch, not a local value: constants (`USE_MSC`, `_RUNTIME_ONLY`), keys of the
    environment or build info, and predicates named like switches (`has_msc()`). Lower-case names
    and attributes tested around imports are nearly always locals (`if target is None:`)."""
    if kind in ("environment", "build-info"):
        return True
    if kind == "call":
        return bool(_PREDICATE.fullmatch(spelling))
    return bool(_CONSTANT.fullmatch(spelling))


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    if isinstance(node, ast.Call):
        return _dotted(node.func) + "()"
    return ""


def add_cmake_evidence(root: str, candidates: list[ToggleCandidate]) -> list:
    """Attach CMake declarations to the candidates they spell; return the declared options."""
    from ..collect.buildopts import cmake_facts, cmake_files
    from ..base.safeio import read_regular

    options = []
    for path in cmake_files(root):
        try:
            data = read_regular(os.path.join(root, path), 16 * 1024 * 1024)[0]
        except OSError:
            continue
        options += cmake_facts(path, data.decode("utf-8", errors="replace")).options
    declared = [o for o in options if o.command != "set"]
    by_name = {c.spelling: c for c in candidates}
    for option in declared:
        candidate = by_name.get(option.name)
        if candidate is not None:
            candidate.cmake.append((option.path, option.line, option.command))
    return declared


# ---------------------------------------------------------------------------------------------
# Candidate scopes


def rank_scopes(config, graph, limit: int = 12, near_only: bool = True,
                only: Iterable[str] | None = None) -> list[ScopeCandidate]:
    """Subpackages one or two levels below each top-level package, closest to S0 first; with
    `near_only`, only those whose deletion breaks little (ScopeCandidate.near_deletable). With
    `only`, exactly those modules of the graph, at any depth, packages or not (the scopes a table
    registers: `init --dry-run` and `--force` describe them)."""
    from ..analysis import simulate_deletion
    from ..base.model import Execution, Scope
    sources = [f for f in graph.files.values() if not f.extra]
    files_under: dict[str, int] = Counter()
    if only is not None:
        wanted = sorted({name for name in only if name in graph.modules})
        for f in sources:
            for name in wanted:
                if f.module == name or f.module.startswith(name + "."):
                    files_under[name] += 1
        names = wanted
    else:
        for f in sources:
            parts = f.module.split(".")
            for depth in (2, 3):
                if len(parts) >= depth:
                    files_under[".".join(parts[:depth])] += 1
        packages = {f.module for f in sources if f.is_package}
        namespaces = {m for m in graph.modules if m not in graph.files}
        names = sorted(
            name for name in files_under
            if (name in packages or name in namespaces) and name.rsplit(".", 1)[-1] not in _NOT_COMPONENTS
        )
    name_set = frozenset(names)
    tops = sorted({f.module.split(".")[0] for f in sources})
    toggle_names = [t.name for t in config.toggles]

    def unguarded(site) -> bool:  # runs at import time with every toggle off
        return site.execution is Execution.IMPORT and not site.toggles_required_on

    loads: dict[str, list[str]] = {}
    loads_on: dict[str, list[str]] = {}
    for top in tops:
        for chains, follow in ((loads, unguarded), (loads_on, lambda s: s.execution is Execution.IMPORT)):
            for node, chain in graph.shortest_chains(top, follow).items():
                chains.setdefault(node, chain)
    importers: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    guarding: dict[str, Counter] = defaultdict(Counter)
    for edge in graph.import_edges():
        if edge.facts.extra:
            continue
        for name in _prefixes_in(edge.imported, name_set):
            if edge.importer == name or edge.importer.startswith(name + "."):
                continue
            site = edge.site
            for toggle in toggle_names:
                if site.state_required(toggle) is True:
                    guarding[name][toggle] += 1
            if site.execution is Execution.NEVER:
                continue
            if site.execution is Execution.CALL:
                kind = "lazy"
            elif site.toggles_required_on or site.is_optional:
                kind = "guarded"
            else:
                kind = "unguarded"
            importers[name][kind].add(edge.importer)
    out = []
    for name in names:
        best = guarding[name].most_common(1)
        toggle = best[0][0] if best else None
        plan = simulate_deletion(graph, Scope(name=name, toggle=toggle))
        found = importers.get(name, {})
        out.append(ScopeCandidate(
            name, files_under[name],
            tuple(sorted(found.get("unguarded", ()))), tuple(sorted(found.get("guarded", ()))),
            tuple(sorted(found.get("lazy", ()))), tuple(loads.get(name, ())),
            sum(1 for b in plan.broken if not b.extra), len(plan.lazy),
            tuple(plan.broken[0].chain) if plan.broken else (),
            toggle, best[0][1] if best else 0, tuple(loads_on.get(name, ())),
        ))
    out.sort(key=lambda c: c.rank_key)
    return [c for c in out if c.near_deletable or not near_only][:limit]


def _prefixes_in(module: str, names: frozenset[str]) -> list[str]:
    """The candidates that hold `module` (itself or a package above it)."""
    parts = module.split(".")
    return [p for p in {".".join(parts[:i]) for i in range(1, len(parts) + 1)} if p in names]


# ---------------------------------------------------------------------------------------------
# Dependency checks among predicate candidates

# Calls whose string argument names a package whose presence they test (importlib's finders and
# metadata, pkg_resources; project helpers named like `_is_package_available("torch")`).
_PACKAGE_PROBES = frozenset({
    "find_spec", "find_loader", "import_module", "__import__", "metadata", "version", "distribution",
    "get_distribution", "require", "files",
})
_PACKAGE_WORDS = ("package", "module", "spec", "available", "installed", "distribution")
_ASKS = re.compile(r"_*(is|has)_[a-z0-9_]+")  # the predicates followed into (not `get`, `parse`)


def dependency_checks(candidates: Sequence[ToggleCandidate], files: Sequence, packages: Sequence[str],
                      *, max_bytes: int = 8 * 1024 * 1024) -> dict[str, str]:
    """spelling -> why, for each predicate candidate (`is_torch_available()`) whose definition in
    the project tests whether a package outside the project is installed: it imports one (inside
    `try`), or hands a literal package name to a finder, metadata or a helper named for that
    (`_is_package_available("torch")`), or calls such a predicate. Its answer is a dependency being
    installed, not a switch of the project's own code, so `init` does not propose it as a toggle
    (issue 27: transformers' `is_torch_available`, `is_vision_available`).

    Only `init`'s suggestion reads this (the standard library's `ast`; no fact of `check` comes
    from it); a file that cannot be read or parsed gives no answer, and the candidate stays."""
    wanted = {c.spelling for c in candidates if c.kind == "call"}
    if not wanted:
        return {}
    tops = set(packages)
    definitions: dict[str, tuple[str, ast.AST]] = {}
    calls: dict[str, set[str]] = {}  # name -> the names its definition calls
    asked: set[str] = set()
    pending = set(wanted)
    for _round in range(4):  # the candidates, then the functions they call (`is_serve_available()`
        # asks `is_fastapi_available()`, ...), three calls deep
        asked |= pending
        for name in _find_definitions(files, pending, definitions, max_bytes):
            calls[name] = {_dotted(c.func).rsplit(".", 1)[-1] for c in ast.walk(definitions[name][1])
                           if isinstance(c, ast.Call)}
        pending = {name for called in calls.values() for name in called
                   if name not in asked and (_PREDICATE.fullmatch(name) or _ASKS.fullmatch(name))}
        if not pending:
            break
    found: dict[str, str] = {}
    for name, (path, node) in definitions.items():
        probe = _probe_in(node, tops)
        if probe:
            found[name] = f"tests whether {probe[0]} is installed ({path}:{probe[1]})"
    changed = True
    while changed:  # a predicate that asks another dependency check is one too
        changed = False
        for name, called in calls.items():
            if name not in found:
                other = next((c for c in sorted(called) if c in found and c != name), None)
                if other:
                    found[name] = f"calls {other}(), a dependency check"
                    changed = True
    return {name: why for name, why in found.items() if name in wanted}


def _find_definitions(files: Sequence, names: set[str], definitions: dict, max_bytes: int) -> list[str]:
    """The first module-level `def` of each of `names` in the project's files, into `definitions`
    (the names found). Files are read as `check` reads them (regular files only, without blocking,
    within the user's size limit) and parsed only when nothing is nested deeper than `check`'s
    parser takes (collect.parsing.precheck)."""
    from ..base.safeio import read_regular
    from ..collect.parsing import precheck

    needles = [f"def {name}(".encode() for name in names]
    added = []
    for f in files:
        if getattr(f, "extra", False):
            continue
        try:
            source, _ = read_regular(f.abspath, max_bytes)
        except OSError:
            continue
        if not any(n in source for n in needles) or precheck(source) is not None:
            continue
        try:
            tree = ast.parse(source.decode("utf-8"))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names \
                    and node.name not in definitions:
                definitions[node.name] = (f.path, node)
                added.append(node.name)
    return added


def _probe_in(function: ast.AST, tops: set[str]) -> tuple[str, int] | None:
    """(package, line) of the first test in `function` of whether a non-project package is installed."""
    def outside(module: str) -> bool:
        top = module.split(".")[0]
        return bool(top) and top.isidentifier() and top not in tops and top not in _STDLIB

    for node in ast.walk(function):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if outside(alias.name):
                    return alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module and outside(node.module):
            return node.module, node.lineno
        elif isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            last = _dotted(node.func).rsplit(".", 1)[-1]
            if (last in _PACKAGE_PROBES or any(w in last.lower() for w in _PACKAGE_WORDS)) and outside(first.value.replace("-", "_")):
                return first.value, node.lineno
    return None


_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))
