"""The facts scopeguard works with: frozen dataclasses and enums, no behaviour beyond derivations.

Data flows one way: files -> FileFacts (scan) -> ImportGraph (graph) -> Violation (rules) -> report.
Everything here is immutable and picklable so that it can cross process boundaries and be cached.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from operator import attrgetter

# The pseudo-toggle used for `typing.TYPE_CHECKING`: it is always false at run time, so a branch
# that needs it true never runs. Treating it as a toggle lets one implication engine handle
# `if TYPE_CHECKING:`, `if not TYPE_CHECKING:` and `if TYPE_CHECKING or X:` alike.
TYPE_CHECKING = "TYPE_CHECKING"
# The pseudo-toggle for `if __name__ == "__main__":`: such a block runs when the file is executed as
# a script, never when it is imported, so imports there behave like imports in a function.
MAIN = "__main__"
PSEUDO_TOGGLES = frozenset({TYPE_CHECKING, MAIN})


def _compact_pickle(cls):
    """Pickle a frozen slotted dataclass as a plain tuple of its field values.

    The cache stores every file's facts (on torch, some 50,000 objects); dataclasses' own
    __setstate__ for slotted classes calls fields() once per object, which made unpickling the
    fact store a quarter of a one-file-changed run. The field names are looked up once here.
    """
    names = tuple(f.name for f in fields(cls))
    get_all = attrgetter(*names) if len(names) > 1 else (lambda obj: (getattr(obj, names[0]),))
    assign = object.__setattr__

    def __getstate__(self):
        return get_all(self)

    def __setstate__(self, state):
        for name, value in zip(names, state, strict=True):
            assign(self, name, value)

    cls.__getstate__ = __getstate__
    cls.__setstate__ = __setstate__
    return cls


class Execution(enum.Enum):
    """When an import site runs."""

    IMPORT = "import"  # when the importing module is imported
    CALL = "call"  # only when an enclosing function is called
    NEVER = "never"  # never at run time (type checkers only)


class GuardKind(enum.Enum):
    """One enclosing construct that decides whether or when an import runs."""

    FUNCTION = "function"  # def/lambda body: runs at call time
    CONDITION = "condition"  # a branch of if/elif/else
    EARLY_EXIT = "early-exit"  # after `if X: return|raise` in the same block
    DECORATOR = "decorator"  # inside a function decorated with a toggle decorator
    OPTIONAL = "optional"  # try/except ImportError, contextlib.suppress(ImportError)
    # try/except ValueError|RuntimeError|LookupError|AttributeError without ImportError: what a
    # registry lookup of a missing name raises is caught (TVM's `try: get_global_func(...)`), an
    # import's failure is not.
    TOLERANT = "tolerant"
    # Code that never runs: a constant-false test (`if False:`, `while 0:`), a disjunction of
    # parts that are all false on import, or a statement after an unconditional exit.
    DEAD = "dead"
    # A handler (or `__set_name__`, wrapped by Python < 3.12) that catches an import's failure and
    # may raise something else instead: ``catches`` holds what it catches and "->X" for what may
    # leave in its place (analysis/verdicts.py follows the exception through it).
    CONVERTS = "converts"


class SiteKind(enum.Enum):
    IMPORT = "import"  # import a.b [as c]
    FROM = "from"  # from a import b
    DYNAMIC = "dynamic"  # importlib.import_module("a.b") / __import__("a.b")


@_compact_pickle
@dataclass(frozen=True, slots=True)
class Guard:
    """An enclosing construct of an import site.

    ``knowledge`` holds what must be true for the guarded code to run: pairs of
    (toggle name, state) where state True means the toggle is on. ``mentioned`` holds toggles that
    the guard's test names without implying anything about them (e.g. `if USE_MSC or FORCE:`) so
    that a message can say why the guard does not count.
    """

    kind: GuardKind
    line: int
    text: str = ""  # the test, decorator or handler as written, for messages
    knowledge: frozenset[tuple[str, bool]] = frozenset()
    mentioned: frozenset[str] = frozenset()
    # OPTIONAL guards of a handler: which failures it catches without re-raising or exiting on any
    # path ("ImportError" with its subclass, "ModuleNotFoundError" only, "AttributeError");
    # empty means any failure (allow_missing=True and other non-handler OPTIONAL guards).
    catches: frozenset[str] = frozenset()

    __scopeguard_interned__ = True  # codec: equal stored guards decode to one shared object


class Guarded:
    """What a fact with a guard stack can tell: when it runs and which toggles it needs.

    Shared by import sites, registry-name references and monkeypatches, so that one guard analysis
    serves all three. Subclasses are frozen dataclasses with a ``guards`` field.
    """

    __slots__ = ()
    guards: tuple[Guard, ...]

    @property
    def execution(self) -> Execution:
        if self.state_required(TYPE_CHECKING) is True or any(g.kind is GuardKind.DEAD for g in self.guards):
            return Execution.NEVER
        if self.state_required(MAIN) is True or any(g.kind is GuardKind.FUNCTION for g in self.guards):
            return Execution.CALL
        return Execution.IMPORT

    def state_required(self, toggle: str) -> bool | None:
        """True if the site runs only while `toggle` is on, False if only while off, else None.

        Every guard must hold for the site to run: one that needs the toggle on is enough, even
        beside one that needs it off (`if not X:` / `if X:` never runs; it surely does not run
        while the toggle is off)."""
        found = None
        for guard in self.guards:
            for name, state in guard.knowledge:
                if name == toggle:
                    if state:
                        return True
                    found = False
        return found

    @property
    def toggles_required_on(self) -> frozenset[str]:
        return frozenset(
            name for g in self.guards for name, state in g.knowledge if state and name not in PSEUDO_TOGGLES
        )

    @property
    def is_optional(self) -> bool:
        """A failed import is caught and execution goes on."""
        return caught_in_innermost_function(self.guards, GuardKind.OPTIONAL)


def caught_in_innermost_function(guards: tuple[Guard, ...], kind: GuardKind) -> bool:
    """A guard of `kind` (a try that catches the failure) encloses the code inside its innermost
    function: a try block around a `def` does not protect the body when it is called later."""
    caught = False
    for guard in guards:
        if guard.kind is GuardKind.FUNCTION or (guard.kind is GuardKind.CONVERTS and kind is not GuardKind.CONVERTS):
            caught = False  # a function body runs later; a converted failure is another exception
        elif guard.kind is kind:
            caught = True
    return caught


@_compact_pickle
@dataclass(frozen=True, slots=True)
class ImportSite(Guarded):
    """One imported thing of one import statement.

    ``target`` is the absolute dotted module named by the statement (relative imports resolved);
    ``name`` is the imported name for `from target import name` (None for `import target`;
    "*" for a star import). Whether `target.name` is a submodule is decided by the graph, which
    knows every module of the project.
    """

    target: str
    name: str | None
    line: int
    column: int  # 1-based, as editors and linters print it
    kind: SiteKind
    guards: tuple[Guard, ...] = ()
    # The exception a missing target raises when it is not the one the statement's form raises
    # (see core.guards.failure): runpy.run_module raises a plain "ImportError".
    raises: str = ""

    @property
    def dotted(self) -> str:
        """The statement as a dotted name, for messages."""
        if self.name is None or self.name == "*":
            return self.target
        return f"{self.target}.{self.name}" if self.target else self.name


class UnresolvedReason(str, enum.Enum):
    """Why an import has no known target. A str enum: its value is the wording messages show."""

    BEYOND_ROOT = "relative import beyond top-level package"  # a relative import climbs above the root
    NOT_LITERAL = "target is not a literal"  # importlib.import_module(name), f"tvm.contrib.{x}"
    RELATIVE_DYNAMIC = "relative dynamic import"  # import_module(".x", package=...): a literal, relative
    # `sys.meta_path.append(Finder())` (or insert/extend, `sys.path_hooks`): not an import itself; it
    # makes imports of modules that are not in the tree servable by any module (HOOKED below)
    INSTALLS_HOOK = "installs an import hook"
    HOOKED = "not in the tree: an import hook the project installs may serve it with any module"
    # importlib.metadata.entry_points(): lists what installed distributions declare, imports nothing
    # itself; an in-tree module is a target only where the project's own packaging declares it
    ENTRY_POINTS = "entry points of installed distributions"

    def __str__(self) -> str:
        return self.value


@_compact_pickle
@dataclass(frozen=True, slots=True)
class UnresolvedImport:
    """A dynamic import whose target is not a literal, or a relative import that escapes the root.

    ``prefix`` is the literal start of the target where one is known (f"tvm.contrib.{x}" ->
    "tvm.contrib."), so that rules can tell whether it might name a scope.
    """

    line: int
    column: int
    text: str
    prefix: str
    reason: UnresolvedReason
    guards: tuple[Guard, ...] = ()
    # Known starts of some of the values it may take (the others unknown, so `prefix` stays their
    # common start): `f"matplotlib.backends.backend_{name}"` returned beside `name[9:]`.
    alternatives: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.reason, UnresolvedReason):  # the scanner may pass the wording
            object.__setattr__(self, "reason", UnresolvedReason(self.reason))


class ReferenceKind(enum.Enum):
    """What a string that names something does with it."""

    LITERAL = "literal"  # a dotted-name string anywhere else ("tvm.relax.training"); not docstrings
    REGISTER = "register"  # first argument of a registry function: register_global_func("relax.x")
    LOOKUP = "lookup"  # first argument of a lookup: get_global_func("relax.x")
    INIT_API = "init-api"  # namespace bound into a module: init_ffi_api("relax", __name__)
    PROBE = "probe"  # importlib.util.find_spec("a.b"): None when missing (its parent is imported)
    ENVIRONMENT = "environment"  # an environment variable read or set: os.environ.get("TVM_USE_MSC")


@_compact_pickle
@dataclass(frozen=True, slots=True)
class NameReference(Guarded):
    """A string that names a module or a registry entry, with the guards around it.

    ``text`` is the name as far as it is known: a literal, or the constant start of an f-string or
    concatenation (``is_prefix``), with module-level string constants and `__name__` resolved.
    ``call`` is the dotted callee as written (`tvm_ffi.get_global_func`), "" for LITERAL. A lookup
    that tolerates a missing name (`get_global_func(name, allow_missing=True)`) carries an OPTIONAL
    guard. For INIT_API the text is a namespace: it stands for every name under `text + "."`.
    """

    text: str
    line: int
    column: int  # 1-based
    kind: ReferenceKind
    call: str = ""
    is_prefix: bool = False
    guards: tuple[Guard, ...] = ()


@_compact_pickle
@dataclass(frozen=True, slots=True)
class Patch(Guarded):
    """An attribute of an imported module or class assigned, deleted or setattr'd: a monkeypatch.

    ``target`` is the absolute dotted name of the object changed (`tvm.ir.Foo` for
    `tvm.ir.Foo.bar = f` or `setattr(Foo, "bar", f)` after `from tvm.ir import Foo`);
    ``attribute`` the attribute changed ("" when not a literal). Only targets whose first name is
    bound by an import are recorded: local objects are the file's own business.
    """

    target: str
    attribute: str
    line: int
    column: int  # 1-based
    how: str  # "assign", "augassign", "delete", "setattr", "delattr"
    guards: tuple[Guard, ...] = ()

    @property
    def dotted(self) -> str:
        return f"{self.target}.{self.attribute}" if self.attribute else self.target


@_compact_pickle
@dataclass(frozen=True, slots=True)
class ParseError:
    line: int
    column: int
    reason: str
    internal: bool = False  # a scanner crash, not a fact about the file (never cached)


# --- what runs when (issue 15): per-file facts for the project-level value flow (analysis/reachability.py) ---
# A string term is a concatenation of parts (kind, text):
#   ("lit", "tvm.backend.")   a literal piece
#   ("param", "name")         a parameter of the enclosing function
#   ("elem", "TABLE")         any entry of the module-level table TABLE (tuple/list/set items, dict values)
#   ("key", "TABLE")          any key of the module-level dict TABLE
#   ("iter", "TABLE")         a loop variable over TABLE: a sequence's entries, a dict's keys
#   ("item", "TABLE")         TABLE[param] / TABLE.get(param): a value looked up by a key
#   ("any", "")               unknown
Term = tuple[tuple[str, str], ...]


@_compact_pickle
@dataclass(frozen=True, slots=True)
class FunctionFact:
    """A function defined at module level (or a method, `Class.name`) and its parameters."""

    name: str
    params: tuple[str, ...]
    line: int
    lookup_param: str = ""  # the parameter a TABLE[param] lookup in its body is keyed by


@_compact_pickle
@dataclass(frozen=True, slots=True)
class CallFact(Guarded):
    """A call of a project function (by name, resolved through the file's imports) and what its
    string arguments hold. ``function`` is the enclosing function ("" when it runs at import time:
    module level, class bodies, decorators, default arguments)."""

    function: str
    callee: str  # absolute dotted name as bound in the file, e.g. "rb.backend.loader.load"
    line: int
    column: int
    args: tuple[Term, ...] = ()
    keywords: tuple[tuple[str, Term], ...] = ()
    guards: tuple[Guard, ...] = ()
    # Tests of earlier `if TEST: return|raise` in the same function that read the environment
    # (`os.environ.get("X", "1") == "0"`): the call runs unless they hold.
    unless: tuple[str, ...] = ()


@_compact_pickle
@dataclass(frozen=True, slots=True)
class DynamicImportFact(Guarded):
    """importlib.import_module / __import__ whose target is not a literal: its argument as a term."""

    function: str
    line: int
    column: int
    term: Term
    package: Term = ()  # import_module(name, package)
    guards: tuple[Guard, ...] = ()


@_compact_pickle
@dataclass(frozen=True, slots=True)
class TableFact:
    """A module-level table of strings, or a registry filled by ``stores`` (TABLE[key] = value)."""

    name: str
    entries: tuple[tuple[str, str, int], ...] = ()  # (key, value, line); key "" for sequences
    complete: bool = True  # every entry is a literal


@_compact_pickle
@dataclass(frozen=True, slots=True)
class StoreFact:
    """`TABLE[key] = value` inside a function: a registry filled by its callers."""

    function: str
    table: str
    key: Term
    value: Term
    line: int


class EffectKind(str, enum.Enum):
    """What one piece of code does with a name, for "may run at import time" (facts/effects.py)."""

    CALL = "call"  # name(...): runs it (a class: constructs an instance)
    USE = "use"  # the name as a value: `how` says where it goes
    DEF = "def"  # a function definition (any depth); `extra` holds its parameters
    CLASS = "class"  # a class statement; `extra` holds its bases, "metaclass=..." and "enum"
    LOOKUP = "lookup"  # a namespace lookup by computed name (globals(), sys.modules, exec, getattr(mod, x))
    BIND = "bind"  # a module-level name bound otherwise than by def/class (only in modules with __getattr__)


@_compact_pickle
@dataclass(frozen=True, slots=True)
class Effect(Guarded):
    """One thing code does with a name that may make other code run (issue 24).

    ``function`` is the context the code runs in: "" for module level and class bodies, "f",
    "C.m", "f.inner" otherwise. ``name`` is an absolute dotted name as the file binds it, or
    "@p" for the context's own parameter p. ``how`` (USE): "value" (stored, passed, returned: may
    be called), "arg:<callee>:<position>" (handed to a call), "store:<name>" (kept in a
    module-level name), "return", "subscript", "safe" (an attribute read that calls nothing)."""

    kind: EffectKind
    function: str
    name: str
    line: int
    column: int
    guards: tuple[Guard, ...] = ()
    how: str = ""
    extra: tuple[str, ...] = ()


@_compact_pickle
@dataclass(frozen=True, slots=True)
class LazyModuleFact:
    """`sys.modules[__name__] = Lazy(__name__, ..., STRUCTURE, ...)` in a package: the module is replaced
    by an object that serves names from a table, importing `package + "." + key` on first access
    (transformers' `_LazyModule` with `_import_structure`, or `define_import_structure(__file__)`).
    Read by analysis/registry.py: `from package import Name` is an import of the module serving Name."""

    line: int
    entries: tuple[tuple[str, str, int], ...] = ()  # (name, key: submodule relative to the package, line)
    keys: tuple[str, ...] = ()  # keys whose names are not all known (computed lists)
    # (folder relative to the package ("" for its own), key prefix): each module under the folder
    # serves the names of its `__all__` (or its public top-level defs without one)
    folders: tuple[tuple[str, str], ...] = ()
    complete: bool = True  # False: part of the table is computed in ways not modelled


@_compact_pickle
@dataclass(frozen=True, slots=True)
class NameTableFact:
    """A module-level table of string pairs (`OrderedDict([("bert", "BertConfig"), ...])`, a dict
    literal, a list of 2-tuples): by-name tables whose entries a deletion may have to remove."""

    name: str
    # (key, value, first line, last line, whole: the entry alone on its lines with its comma)
    entries: tuple[tuple[str, str, int, int, bool], ...] = ()


@_compact_pickle
@dataclass(frozen=True, slots=True)
class Suppression:
    """One `# scopeguard: ignore[CODES]: reason` comment (a real comment, not text in a string).

    It covers the lines `first`..`last`: the statement its line belongs to, or, on a comment line of
    its own, the statement directly below. No codes: every code. `reason` is the text after it.
    """

    line: int
    column: int
    codes: tuple[str, ...]
    reason: str
    first: int
    last: int

    def covers(self, line: int, code: str) -> bool:
        return self.first <= line <= self.last and (not self.codes or any(code.startswith(c) for c in self.codes))


# Set by collect/codec.py: fills in a field of a FileFacts that the fact store left to be decoded
# on first read (`lazy_file_facts`). None: an unset field is an AttributeError, as anywhere.
_complete_field = None


@_compact_pickle
@dataclass(frozen=True, slots=True)
class AttachFact:
    """Names attached to another module by a name handed over (facts/attachments.py).

    kind "writer": module-level function `function` writes the name its parameter `name` (at
    `position`) holds into the namespaces of `values` (modules). kind "argument": in context
    `function`, the call of `name` at line/column passes at `position` a loop variable whose
    values are all the strings `values`."""

    kind: str
    function: str
    name: str
    line: int
    column: int
    position: int
    values: tuple[str, ...] = ()


@_compact_pickle
@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything scopeguard needs to know about one file; the unit of caching."""

    path: str  # relative to the project root, with forward slashes
    module: str
    is_package: bool
    extra: bool = False  # from an extra root (tests): an importer only, never imported
    sites: tuple[ImportSite, ...] = ()
    unresolved: tuple[UnresolvedImport, ...] = ()
    # `__all__` as literal strings, None when absent, ("*",) when not known (computed, mutated by a
    # call or a namespace write the analysis cannot read): it may name anything (star-import resolution).
    dunder_all: tuple[str, ...] | None = None
    # `# scopeguard: ignore[...]` comments, each with the statement lines it covers.
    suppressions: tuple[Suppression, ...] = ()
    error: ParseError | None = None
    # Strings that name modules or registry entries (registry calls, find_spec probes, dotted literals).
    references: tuple[NameReference, ...] = ()
    # Attributes of imported modules/classes changed by this file (monkeypatching).
    patches: tuple[Patch, ...] = ()
    # What runs when (issue 15): functions, project calls, non-literal dynamic imports, tables.
    functions: tuple[FunctionFact, ...] = ()
    calls: tuple[CallFact, ...] = ()
    dynamic: tuple[DynamicImportFact, ...] = ()
    tables: tuple[TableFact, ...] = ()
    stores: tuple[StoreFact, ...] = ()
    # What code does with project names, for the one "may run at import time" analysis (issue 24).
    effects: tuple[Effect, ...] = ()

    @property
    def node(self) -> str:
        """The file's name in the import graph: its module, or its path for extra-root files."""
        return self.path if self.extra else self.module

    def __getattr__(self, name: str):
        # Reached only for a slot that is not set: a field decoded on first read (see above).
        if _complete_field is None or name.startswith("__"):
            raise AttributeError(name)
        return _complete_field(self, name)

    # (first line, last line, column) of each simple statement written over several lines: a finding
    # on any of its lines is located at, and counted once for, the statement.
    statements: tuple[tuple[int, int, int], ...] = ()
    # Lazy modules (facts/lazy_modules.py): the table this module serves names from, if it replaces
    # itself in sys.modules; its module-level by-name tables; its public top-level defs (without `__all__`).
    lazy: LazyModuleFact | None = None
    name_tables: tuple[NameTableFact, ...] = ()
    defined: tuple[str, ...] = ()
    # Names attached to other modules by a name handed over (facts/attachments.py, issue 26).
    attaches: tuple[AttachFact, ...] = ()

    def suppressing(self, line: int, code: str) -> Suppression | None:
        """The suppression comment that silences `code` on `line`, if any."""
        for item in self.suppressions:
            if item.covers(line, code):
                return item
        return None

    def suppressed(self, line: int, code: str) -> bool:
        return self.suppressing(line, code) is not None

    def statement_at(self, line: int) -> tuple[int, int] | None:
        """(first line, column) of the multi-line statement `line` belongs to, if any."""
        for first, last, column in self.statements:
            if first <= line <= last:
                return first, column
        return None


# The strings an environment variable or build-info key holds while its toggle is off (besides
# unset/missing), compared without regard to letter case; `off_values` in a toggle's table.
DEFAULT_OFF_VALUES = ("", "0", "off", "false", "no")


@dataclass(frozen=True, slots=True)
class Toggle:
    """A named feature switch and the spellings by which code tests it.

    While the toggle is off, a Python-name or predicate spelling is False, None, 0 or ""; an
    environment variable or build-info key is unset/missing or one of `off_values` (any letter
    case). An on_when_false spelling is off when it holds a true value (a variable: set, and none of
    `off_values`)."""

    name: str
    on_when_true: tuple[str, ...] = ()  # identifiers, attribute names, string keys, called names
    on_when_false: tuple[str, ...] = ()
    decorators: tuple[str, ...] = ()  # dotted decorator names that guard a function
    off_values: tuple[str, ...] = DEFAULT_OFF_VALUES


@dataclass(frozen=True, slots=True)
class Scope:
    """A registered S0 namespace."""

    name: str  # dotted prefix, e.g. "tvm.relax"
    toggle: str | None = None
    allow: tuple[str, ...] = ()  # approved integration points: importer module prefixes
    uses: tuple[str, ...] = ()  # other scopes it may import
    extra_paths: tuple[str, ...] = ()  # project-relative paths deleted together with the scope
    line: int = 0  # where the scope is declared in the config file
    # Registry-name prefixes the scope owns besides `name + "."` (e.g. "relax." for tvm.relax).
    ffi_prefixes: tuple[str, ...] = ()
    # Where code other than the toggle's definition writes it at import time ("path:line",
    # analysis/toggle_writes.py): set by the analysis, never by the config. Its guards then do not count.
    toggle_written: tuple[str, ...] = ()

    @property
    def trusted_toggle(self) -> str | None:
        """The toggle whose guards keep this scope out: None when there is none, or when code may
        turn it on at import time before a guard tests it."""
        return None if self.toggle_written else self.toggle

    @property
    def owned_prefixes(self) -> tuple[str, ...]:
        """The registry-name prefixes of the scope: its own dotted name, then the declared ones."""
        return (self.name + ".", *self.ffi_prefixes)

    def contains(self, module: str) -> bool:
        return module == self.name or module.startswith(self.name + ".")

    def may_contain(self, prefix: str) -> bool:
        """Whether a module whose name starts with `prefix` (a dynamic import known only by its
        start, `f"tvm.contrib.{x}"`) may lie inside the scope."""
        return self.name.startswith(prefix) or prefix.startswith(self.name + ".") or prefix == self.name


@_compact_pickle
@dataclass(frozen=True, slots=True)
class BuildOption:
    """A build switch set or declared in a CMake file: `set(USE_MSC OFF)`, `option(USE_X "doc" ON)`."""

    name: str
    path: str  # relative to the project root, with forward slashes
    line: int
    command: str  # set, option, tvm_option, cmake_dependent_option (lower case)
    value: str  # the rest of the command as written, e.g. "OFF" or '"Build MSC" OFF'


@_compact_pickle
@dataclass(frozen=True, slots=True)
class CMakeFacts:
    """The build options one CMake file sets or declares (SG404)."""

    path: str  # relative to the project root, with forward slashes
    options: tuple[BuildOption, ...] = ()


@_compact_pickle
@dataclass(frozen=True, slots=True)
class PackagingText:
    """A line (or, in setup.py, a string literal) of a packaging or config file: where a scope
    may be named. Comments and the `[tool.scopeguard]` tables are not recorded."""

    line: int
    text: str  # as shown: the line stripped, or the literal's repr
    value: str  # what a scope's spellings are searched in: the line, or the literal's value
    why: str  # e.g. "pyproject.toml [project] names the scope"


@_compact_pickle
@dataclass(frozen=True, slots=True)
class PackagingFacts:
    """The texts of one packaging or config file (pyproject.toml, setup.py, setup.cfg, MANIFEST.in)."""

    path: str  # relative to the project root, with forward slashes
    texts: tuple[PackagingText, ...] = ()


@dataclass(frozen=True, slots=True)
class BuildFacts:
    """Facts of the files rules read besides Python sources, in a stable order: packaging files
    (SG303) and CMake files (SG404). `cmake` is empty when the project has no CMake file."""

    packaging: tuple[PackagingFacts, ...] = ()
    cmake: tuple[CMakeFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class Registries:
    """The functions that register or look up names in a string-keyed registry (TVM's FFI).

    Matched by the last part of the called name, so `tvm.get_global_func`, `tvm_ffi.get_global_func`
    and a bare `get_global_func` are one function. The defaults are TVM's.
    """

    register: tuple[str, ...] = ("register_func", "register_global_func", "register_object")
    lookup: tuple[str, ...] = ("get_global_func",)
    init_api: tuple[str, ...] = ("_init_api", "init_ffi_api")


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """What parsing one file may cost (`parse_timeout`, `parse_memory_mb`, `max_file_mb`).

    The user's ceilings (command-line options, environment variables, else these defaults) bound
    them; the analysed tree's `[tool.scopeguard]` may only lower them (config.limits). `*_from` says
    where each value was set, for the SG001 message of a file it makes unanalysable ("" for the
    built-in default).
    """

    timeout: float = 60.0  # seconds of wall time per file
    memory_mb: int = 2048  # per worker process, beyond what it inherits
    max_file_mb: int = 8  # larger files are reported, not read
    timeout_from: str = ""
    memory_from: str = ""
    max_file_from: str = ""


@dataclass(frozen=True, slots=True)
class Reporting:
    """What `check` reports and what fails the run, from `[tool.scopeguard]` (CLI flags override).

    `per_file_ignores` maps gitignore-style globs (relative to the project root) to code prefixes;
    `fail_on` is the lowest severity that fails the run ("error", "warning", or "never").
    """

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    require_reason: bool = False
    fail_on: str = "warning"


@dataclass(frozen=True, slots=True)
class DynamicImportDeclaration:
    """`[[tool.scopeguard.dynamic_imports]]`: what the project states a dynamic import loads, where
    the analysis cannot know. The site is found by `path`, its enclosing `function` (qualified in
    its module, "" at module level) and its `call` text as scopeguard shows it, never by line.
    `loads` holds module names ("pkg.a") and prefixes ("pkg.b.*": any module under pkg.b); empty:
    it loads no project module. `index` is its position in the array (for messages)."""

    path: str
    function: str
    call: str
    loads: tuple[str, ...]
    reason: str
    index: int = 0
    line: int = 0  # of its `call` key in the config file (0: unknown)


@dataclass(frozen=True, slots=True)
class Config:
    """A validated `[tool.scopeguard]` table."""

    root: str  # absolute project root (the config file's folder)
    config_path: str  # absolute path of the file read, or "" for defaults
    source_roots: tuple[str, ...]
    extra_roots: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    toggles: tuple[Toggle, ...] = ()
    scopes: tuple[Scope, ...] = ()
    registries: Registries = Registries()
    limits: ParseLimits = ParseLimits()
    reporting: Reporting = Reporting()
    # The user's ceilings, before the tree's config lowered any: what `check --diff` parses both
    # sides with, so that a pull request's config cannot make its own files unanalysable.
    ceilings: ParseLimits = ParseLimits()
    dynamic_imports: tuple[DynamicImportDeclaration, ...] = ()

    def toggle(self, name: str) -> Toggle | None:
        return next((t for t in self.toggles if t.name == name), None)

    def scope_of(self, module: str) -> Scope | None:
        return next((s for s in self.scopes if s.contains(module)), None)

    def scope_named(self, name: str) -> Scope:
        """The scope called `name`, or UnknownScope whose message suggests the near miss."""
        scope = next((s for s in self.scopes if s.name == name), None)
        if scope is not None:
            return scope
        import difflib  # only for this message: every run loads this module

        known = [s.name for s in self.scopes]
        near = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {near[0]!r}?" if near else f"configured scopes: {', '.join(known) or 'none'}"
        raise UnknownScope(f"{name!r} is not a configured scope; {hint}")


class UnknownScope(LookupError):
    """A scope name given on the command line that the configuration does not declare."""


def code_selected(code: str, select: Sequence[str] = (), ignore: Sequence[str] = ()) -> bool:
    """A rule code starts with a selected prefix (any code when none is) and with no ignored one.
    Prefixes are upper case (`SG2` selects every SG2xx); `--select`/`--ignore` give them so."""
    return (not select or any(code.startswith(p) for p in select)) and not any(code.startswith(p) for p in ignore)


@dataclass(frozen=True, slots=True)
class ScanSettings:
    """Everything scanning a file depends on besides its bytes and place, derived once from the
    config: the same value drives every scan (plain, cached, both sides of --diff) and keys the
    facts cache."""

    toggles: tuple[Toggle, ...] = ()
    registries: Registries = Registries()

    @classmethod
    def of(cls, config: Config) -> ScanSettings:
        return cls(tuple(config.toggles), config.registries)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Step:
    """One link of an import chain, located: `module` is entered at path:line:column."""

    module: str
    path: str = ""
    line: int = 0
    column: int = 0


@dataclass(frozen=True, slots=True)
class Related:
    """A consequence attached to a finding (a note under it): what the finding's root cause also
    causes, reported by rule `code` at path:line, with the chain of imports that carries it."""

    code: str
    path: str
    line: int
    column: int
    message: str
    chain: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()


@_compact_pickle
@dataclass(frozen=True, slots=True)
class Violation:
    """One finding. ``importer`` is a module name, or a path for files outside the source roots."""

    code: str
    path: str
    line: int
    column: int
    message: str
    importer: str = ""
    imported: str = ""
    scope: str = ""
    severity: Severity = Severity.ERROR
    chain: tuple[str, ...] = field(default=())
    # The names a `from X import (a, b, ...)` statement imports from `imported`, when several.
    names: tuple[str, ...] = ()
    # Consequences of this finding's root cause, reported under it (see rules.consequences).
    related: tuple[Related, ...] = ()

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)

    @property
    def identity(self) -> tuple[str, str, str, str, str]:
        """The finding without its position: (code, path, importer, imported, scope) — what crosses
        which boundary, where. The baseline, SARIF fingerprints and `--diff` match findings by it,
        so that an edit above a line does not make its finding new."""
        return (self.code, self.path, self.importer, self.imported, self.scope)
