"""Import sites: `import`/`from` statements, `__all__`, and calls that import by name, each with the
guards the walk found: importlib.import_module (relative with a known `package`, through aliases,
assigned names and `getattr(importlib, "import_module")`), `__import__` (also importlib's and
builtins'; `level` and `fromlist` honoured: a fromlist submodule that is missing is skipped, not
raised), importlib.util.find_spec (a probe), `exec`/`eval` of literal code (its imports, scanned
like the file's own), pytest.importorskip (an optional import: a skip when missing),
runpy.run_module and pkgutil.walk_packages (every subpackage under a prefix: unresolved)."""

from __future__ import annotations

import ast

import libcst as cst

from ..base.model import Guard, GuardKind, ImportSite, NameReference, ReferenceKind, SiteKind, UnresolvedImport
from .bindings import FIND_SPEC, IMPORT_MODULE, ImportBindings, namespace_writes, resolve_relative
from .guard_walk import Guards, guards_have_function
from .strings import KnownStrings
from .syntax import code, dotted_name, last_name, string_value

# What each callable recognised here does, by its absolute name; `callable_aliases` adds the local
# names a file binds to them by assignment (`load = importlib.import_module`).
DYNAMIC_CALLABLES = {
    IMPORT_MODULE: "import_module",
    "importlib.__import__": "__import__",
    "builtins.__import__": "__import__",
    "__import__": "__import__",
    FIND_SPEC: "find_spec",
    "exec": "exec",
    "eval": "exec",
    "pytest.importorskip": "importorskip",
    "runpy.run_module": "run_module",
    "pkgutil.walk_packages": "walk_packages",
}
# The rest of the import machinery (issue 24): every function of importlib, importlib.util,
# importlib.resources, pkgutil and runpy that imports or runs a module by name or path is modelled or
# unresolved (SG208). "anchor": imports the package named by its first argument (a module object
# imports nothing); "find_spec": imports the parent of the name; "resolve_name": `pkg.mod:attr`;
# "unknown": runs code whose module cannot be named (a path, a loader). Not here: `importlib.reload`
# (re-runs a module already loaded), `importlib.metadata` (the other tables), `compile` (runs nothing).
MACHINERY_CALLABLES = {
    **{f"importlib.resources.{f}": "anchor" for f in (
        "files", "read_text", "read_binary", "open_text", "open_binary", "path", "contents", "is_resource")},
    **{f"importlib_resources.{f}": "anchor" for f in ("files", "read_text", "read_binary", "open_text", "open_binary", "path")},
    "pkgutil.get_data": "anchor",
    "pkgutil.get_loader": "find_spec",
    "pkgutil.find_loader": "find_spec",
    "pkgutil.resolve_name": "resolve_name",
    "pydoc.locate": "resolve_name",  # imports the longest importable prefix of a dotted name, as resolve_name
    "runpy.run_path": "unknown",
    "importlib.util.spec_from_file_location": "unknown",
    "importlib.machinery.SourceFileLoader": "unknown",
    "importlib.machinery.SourcelessFileLoader": "unknown",
    "importlib.machinery.ExtensionFileLoader": "unknown",
}
# Methods that execute a module whatever their receiver: a loader's.
MACHINERY_METHODS = frozenset({"exec_module", "load_module"})
# Modules whose function reached by a computed `getattr(module, name)` may be an import.
MACHINERY_MODULES = frozenset({"importlib", "importlib.util", "importlib.resources", "importlib.machinery",
                               "pkgutil", "runpy", "builtins"})
MACHINERY_CALLEES = frozenset({f.rpartition(".")[2] for f in MACHINERY_CALLABLES} | MACHINERY_METHODS | {"getattr()"})

# An alias of a function of MACHINERY_MODULES looked up by a computed name (callable_aliases).
COMPUTED = "<computed>"

# Call names (the last part) worth handing to this pass, beyond bindings.DYNAMIC_IMPORT_NAMES.
EXTRA_CALLEES = frozenset({"exec", "eval", "importorskip", "run_module", "walk_packages"})
_MAX_EXEC_DEPTH = 3


def callable_aliases(tree: ast.Module | None, bindings: ImportBindings) -> dict[str, str]:
    """Module-level `NAME = <a dynamic-import callable>`, bound once: {NAME: its absolute name}."""
    if tree is None:
        return {}
    found: dict[str, str] = {}
    seen: dict[str, int] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    seen[target.id] = seen.get(target.id, 0) + 1
            if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                absolute = _absolute(stmt.value, bindings)
                if absolute in DYNAMIC_CALLABLES:
                    found[stmt.targets[0].id] = absolute
                elif (isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name)
                      and stmt.value.func.id == "getattr" and len(stmt.value.args) >= 2
                      and bindings.target("getattr") is None):
                    # `load = getattr(importlib, name)`: the module's function, by a name not written
                    owner = _absolute(stmt.value.args[0], bindings)
                    attr = stmt.value.args[1]
                    if isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                        if f"{owner}.{attr.value}" in DYNAMIC_CALLABLES:
                            found[stmt.targets[0].id] = f"{owner}.{attr.value}"
                    elif owner in MACHINERY_MODULES:
                        found[stmt.targets[0].id] = COMPUTED
    return {name: target for name, target in found.items() if seen.get(name) == 1}


def _absolute(expr: ast.expr, bindings: ImportBindings) -> str | None:
    if isinstance(expr, ast.Name) and expr.id in ("__import__", "exec", "eval") and bindings.target(expr.id) is None:
        return expr.id
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    base = bindings.target(expr.id)
    if base is None:
        return None
    return ".".join([base, *reversed(parts)])


class ImportSites:
    """A pass of the guard walk (guards.WalkPass)."""

    def __init__(
        self, module: str, is_package: bool, positions, bindings: ImportBindings, names: KnownStrings,
        aliases: dict[str, str] | None = None, depth: int = 0,
    ):
        self.module = module
        self.is_package = is_package
        self.positions = positions
        self.names = names
        self.bindings = bindings
        self.aliases = aliases or {}  # assigned names of dynamic-import callables
        self.depth = depth  # exec("...") inside exec("..."): how deep
        self.snippet = None  # scans literal code given to exec/eval (set by scan._walk)
        self.importlib_aliases = bindings.names_for("importlib")  # names bound to the importlib module
        self.import_module_aliases = bindings.names_for(IMPORT_MODULE)
        self.util_aliases = bindings.names_for("importlib.util")
        self.find_spec_aliases = bindings.names_for(FIND_SPEC)
        self.sites: list[ImportSite] = []
        self.unresolved: list[UnresolvedImport] = []
        self.dunder_all: list[str] | None = None
        self.dunder_all_literal = True
        self.dunder_all_unknown = False
        self.candidate_calls: list[tuple[cst.Call, tuple[int, int], Guards]] = []
        self.probes: list[NameReference] = []  # find_spec("a.b"): a name probed, None when missing
        self.import_calls: set[tuple[int, int]] = set()  # positions of importlib calls recognised

    # statements

    def small_statement(self, small: cst.BaseSmallStatement, index: int, guards: Guards) -> None:
        if isinstance(small, cst.Import):
            for i, alias in enumerate(small.names):
                target = dotted_name(alias.name)
                line, column = self.positions.alias(index, alias, i)
                self.sites.append(ImportSite(target, None, line, column, SiteKind.IMPORT, guards))
        elif isinstance(small, cst.ImportFrom):
            self._import_from(small, index, guards)
        elif isinstance(small, (cst.Assign, cst.AugAssign)) and not guards_have_function(guards):
            self._dunder_all(small)
        self._dunder_all_writes(small, guards)

    def _import_from(self, small: cst.ImportFrom, index: int, guards: Guards) -> None:
        level = len(small.relative)
        written = dotted_name(small.module) if small.module is not None else ""
        target = resolve_relative(self.module, self.is_package, level, written)
        names = small.names
        if target is None:
            line, column = self.positions.line(index, small)
            dots = "." * level
            self.unresolved.append(
                UnresolvedImport(line, column, f"from {dots}{written} import ...", "", "relative import beyond top-level package", guards)
            )
            return
        if isinstance(names, cst.ImportStar):
            line, column = self.positions.alias(index, names, 0)
            self.sites.append(ImportSite(target, "*", line, column, SiteKind.FROM, guards))
            return
        for i, alias in enumerate(names):
            name = dotted_name(alias.name) or ""
            line, column = self.positions.alias(index, alias, i)
            self.sites.append(ImportSite(target, name, line, column, SiteKind.FROM, guards))

    def _dunder_all(self, small: cst.CSTNode) -> None:
        if isinstance(small, cst.Assign):
            if not any(isinstance(t.target, cst.Name) and t.target.value == "__all__" for t in small.targets):
                return
            self.dunder_all = []
        elif isinstance(small.target, cst.Name) and small.target.value == "__all__":
            self.dunder_all = self.dunder_all or []
        else:
            return
        value = small.value
        if isinstance(value, (cst.List, cst.Tuple)):
            for element in value.elements:
                text = string_value(element.value)
                if text is None:
                    self.dunder_all_literal = False
                else:
                    self.dunder_all.append(text)
        else:
            self.dunder_all_literal = False

    def _dunder_all_writes(self, small: cst.CSTNode, guards: Guards) -> None:
        """`__all__` written other than by a module-level assignment (issue 24): `.append`/`.extend`/
        `.insert` of literals adds them; anything else (a computed item, a write in a function, a
        namespace write, another method) makes it unknown."""
        if "__all__" in namespace_writes(small) or "*" in namespace_writes(small):
            self.dunder_all_unknown = True
            return
        in_function = guards_have_function(guards)
        if isinstance(small, (cst.Assign, cst.AugAssign)) and in_function:
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            if any(isinstance(t, cst.Name) and t.value == "__all__" for t in targets):
                self.dunder_all_unknown = True
            return
        call = small.value if isinstance(small, cst.Expr) else None
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                and isinstance(call.func.value, cst.Name) and call.func.value.value == "__all__"):
            return
        method = call.func.attr.value
        if method in ("remove", "pop", "clear", "sort", "reverse", "index", "count", "copy"):
            return  # takes names away, or reads: a superset is still right
        items: list[cst.BaseExpression] = []
        if method == "append" and len(call.args) == 1:
            items = [call.args[0].value]
        elif method == "insert" and len(call.args) == 2:
            items = [call.args[1].value]
        elif method == "extend" and len(call.args) == 1 and isinstance(call.args[0].value, (cst.List, cst.Tuple)):
            items = [e.value for e in call.args[0].value.elements]
        texts = [string_value(item) for item in items]
        if in_function or not items or any(t is None for t in texts):
            self.dunder_all_unknown = True
            return
        self.dunder_all = (self.dunder_all or []) + texts

    def literal_dunder_all(self) -> tuple[str, ...] | None:
        """The names of `__all__`; None when the module has none; ("*",) when it is not known."""
        if self.dunder_all_unknown or (self.dunder_all is not None and not self.dunder_all_literal):
            return ("*",)
        return tuple(self.dunder_all) if self.dunder_all is not None else None

    # calls

    def dynamic_call(self, call: cst.Call, position: tuple[int, int], guards: Guards) -> None:
        # Whether the callee is importlib's is decided in finish(): `import importlib` may come
        # later in the file than a function that uses it.
        self.candidate_calls.append((call, position, guards))

    def finish(self) -> None:
        for call, (line, column), guards in self.candidate_calls:
            machinery = self._machinery(call)
            if machinery is not None:
                self._machinery_call(call, machinery, line, column, guards)
                continue
            what = self._callee(call.func)
            if what is None or not call.args:
                continue  # e.g. runtime.Module.import_module(path): a method, not importlib
            self.import_calls.add((line, column))
            if what == "exec":
                self._exec(call, line, column, guards)
                continue
            if what == "walk_packages":
                self._walk_packages(call, line, column, guards)
                continue
            # A literal, or an f-string/concatenation of literals, `__name__` and module constants.
            known = self.names.resolve_cst(call.args[0].value)
            text, complete = known if known is not None else ("", False)
            fromlist: list[ImportSite] = []
            if complete and what == "import_module" and text.startswith("."):
                text = self._relative_to_package(call, text)
                if text is None:
                    self.unresolved.append(UnresolvedImport(line, column, code(call), "", "relative dynamic import", guards))
                    continue
            elif complete and what == "__import__":
                level = _int_argument(call, 4, "level")
                if level is None:
                    self.unresolved.append(UnresolvedImport(line, column, code(call), text, "target is not a literal", guards))
                    continue
                if level > 0:
                    resolved = resolve_relative(self.module, self.is_package, level, text)
                    if resolved is None:
                        continue
                    text = resolved
                for name in _fromlist(call):
                    optional = Guard(GuardKind.OPTIONAL, line, "__import__ fromlist", catches=frozenset({"ModuleNotFoundError"}))
                    target = f"{text}.{name}" if text else name
                    fromlist.append(ImportSite(target, None, line, column, SiteKind.DYNAMIC, guards + (optional,)))
            if complete and text and not text.startswith("."):
                if what == "find_spec":
                    self._probe(text, call, line, column, guards)
                elif what == "importorskip":
                    optional = Guard(GuardKind.OPTIONAL, line, "pytest.importorskip", catches=frozenset({"ImportError"}))
                    self.sites.append(ImportSite(text, None, line, column, SiteKind.DYNAMIC, guards + (optional,)))
                else:
                    raises = "ImportError" if what == "run_module" else ""
                    self.sites.append(ImportSite(text, None, line, column, SiteKind.DYNAMIC, guards, raises))
                self.sites.extend(fromlist)  # after the module they are looked up in
                continue
            reason = "relative dynamic import" if complete else "target is not a literal"
            if not complete and what == "import_module" and text.startswith("."):
                # import_module(f".{name}", "pkg.sub"): the start is known once resolved against
                # the package argument ("pkg.sub."), or stays relative (unknown) without it.
                level = len(text) - len(text.lstrip("."))
                base = self._relative_to_package(call, "." * level)
                if base is not None:
                    text = f"{base}.{text[level:]}"
            self.unresolved.append(UnresolvedImport(line, column, code(call), text, reason, guards))
        self.sites.sort(key=lambda site: (site.line, site.column))

    def _callee(self, func: cst.BaseExpression) -> str | None:
        """What a call's callee does (a DYNAMIC_CALLABLES value), or None."""
        if isinstance(func, cst.Call):  # getattr(importlib, "import_module")
            if last_name(func.func) != "getattr" or len(func.args) < 2:
                return None
            owner, attr = dotted_name(func.args[0].value), string_value(func.args[1].value)
            if owner is None or attr is None:
                return None
            func_name = f"{owner}.{attr}"
        else:
            func_name = dotted_name(func)
            if func_name is None:
                return None
        if func_name in self.aliases:
            return DYNAMIC_CALLABLES.get(self.aliases[func_name])
        if func_name in ("__import__", "exec", "eval") and self.bindings.target(func_name) is None:
            return DYNAMIC_CALLABLES[func_name]
        if isinstance(func, cst.Name) and func_name in self.import_module_aliases:
            return "import_module"
        if self._is_find_spec(func) if not isinstance(func, cst.Call) else False:
            return "find_spec"
        absolute = self.bindings.absolute(func_name)
        return DYNAMIC_CALLABLES.get(absolute) if absolute is not None else None

    def _machinery(self, call: cst.Call) -> str | None:
        """What a call of the rest of the import machinery does (a MACHINERY_CALLABLES value,
        "method" for a loader's exec_module/load_module, "computed" for `getattr(importlib, name)`)."""
        func = call.func
        if isinstance(func, cst.Call):
            if last_name(func.func) == "getattr" and len(func.args) >= 2 and string_value(func.args[1].value) is None:
                owner = dotted_name(func.args[0].value)
                absolute = self.bindings.absolute(owner) if owner else None
                if absolute in MACHINERY_MODULES or owner == "builtins":
                    return "computed"
            return None
        if isinstance(func, cst.Attribute) and func.attr.value in MACHINERY_METHODS:
            if func.attr.value == "exec_module":
                return "method"
            # `load_module` is a common name (TVM's runtime.load_module(path) loads a shared
            # library): a loader's only when its receiver is one (`spec.loader`, `loader`,
            # `importlib.machinery.SourceFileLoader(...)`) or importlib's
            receiver = func.value.func if isinstance(func.value, cst.Call) else func.value
            owner = dotted_name(receiver) or ""
            absolute = self.bindings.absolute(owner) or ""
            if "loader" in owner.rpartition(".")[2].lower() or absolute.startswith(("importlib", "imp.", "zipimport")):
                return "method"
            return None
        name = dotted_name(func)
        if name is not None and self.aliases.get(name) == COMPUTED:
            return "computed"
        absolute = self.bindings.absolute(name) if name else None
        return MACHINERY_CALLABLES.get(absolute) if absolute is not None else None

    def _machinery_call(self, call: cst.Call, what: str, line: int, column: int, guards: Guards) -> None:
        if what in ("computed", "method", "unknown"):  # the module it runs cannot be named
            self.unresolved.append(UnresolvedImport(line, column, code(call), "", "target is not a literal", guards))
            return
        first = call.args[0].value if call.args and call.args[0].keyword is None else None
        if first is None:
            first = next((a.value for a in call.args if a.keyword is not None
                          and a.keyword.value in ("anchor", "package", "name", "fullname")), None)
        if first is None:
            return
        if isinstance(first, (cst.Name, cst.Attribute)) and self.bindings.absolute(dotted_name(first)) is not None:
            return  # a module object (`files(tvm)`): nothing is imported by name
        known = self.names.resolve_cst(first)
        text, complete = known if known is not None else ("", False)
        if what == "resolve_name" and complete:
            text = text.partition(":")[0]
        if not complete or not text or text.startswith("."):
            self.unresolved.append(UnresolvedImport(line, column, code(call), text, "target is not a literal", guards))
        elif what == "find_spec":
            self._probe(text, call, line, column, guards)
        else:
            self.sites.append(ImportSite(text, None, line, column, SiteKind.DYNAMIC, guards))

    def _relative_to_package(self, call: cst.Call, text: str) -> str | None:
        """`import_module(".x", package)` as importlib resolves it, when the package is known."""
        package = call.args[1].value if len(call.args) > 1 and call.args[1].keyword is None else None
        if package is None:
            package = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "package"), None)
        known = self.names.resolve_cst(package) if package is not None else None
        if known is None or not known[1] or not known[0]:
            return None
        level = len(text) - len(text.lstrip("."))
        bits = known[0].rsplit(".", level - 1)
        if len(bits) < level:
            return None
        rest = text[level:]
        return f"{bits[0]}.{rest}" if rest else bits[0]

    def _exec(self, call: cst.Call, line: int, column: int, guards: Guards) -> None:
        """exec/eval of literal code: its imports, at the call's position with its guards."""
        known = self.names.resolve_cst(call.args[0].value)
        if known is None or not known[1]:
            if not self._cannot_import(call):
                self.unresolved.append(UnresolvedImport(line, column, code(call), "", "target is not a literal", guards))
            return
        if self.depth >= _MAX_EXEC_DEPTH:
            return
        inner = self.snippet(known[0], self.depth + 1) if self.snippet is not None else None
        if inner is None:
            return
        sites, unresolved = inner
        for site in sites:
            self.sites.append(ImportSite(site.target, site.name, line, column, site.kind, guards + site.guards, site.raises))
        for item in unresolved:
            self.unresolved.append(UnresolvedImport(line, column, code(call), item.prefix, item.reason, guards + item.guards))

    def _cannot_import(self, call: cst.Call) -> bool:
        """exec/eval of code that cannot import: `eval(repr(x))` (a repr is a literal by contract: the
        round trip of a value), or globals that take the builtins away (`{"__builtins__": {}}`: an
        `import` statement and `__import__` both need them)."""
        first = call.args[0].value
        if (isinstance(first, cst.Call) and isinstance(first.func, cst.Name) and first.func.value == "repr"
                and self.bindings.target("repr") is None and len(first.args) == 1):
            return True
        scope = call.args[1].value if len(call.args) > 1 and call.args[1].keyword is None else None
        if scope is None:
            scope = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "globals"), None)
        if not isinstance(scope, cst.Dict):
            return False
        value = None
        for element in scope.elements:
            if not isinstance(element, cst.DictElement):
                return False  # `**other` may put the builtins back
            if string_value(element.key) == "__builtins__":
                value = element.value  # the last one wins
        return (isinstance(value, cst.Dict) and not value.elements) or (
            isinstance(value, cst.Name) and value.value == "None")

    def _walk_packages(self, call: cst.Call, line: int, column: int, guards: Guards) -> None:
        """pkgutil.walk_packages(path, prefix) imports every package it meets under `prefix`."""
        prefix = call.args[1].value if len(call.args) > 1 and call.args[1].keyword is None else None
        if prefix is None:
            prefix = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "prefix"), None)
        known = self.names.resolve_cst(prefix) if prefix is not None else None
        text = known[0] if known is not None else ""
        self.unresolved.append(UnresolvedImport(line, column, code(call), text, "target is not a literal", guards))

    def _is_find_spec(self, func: cst.BaseExpression) -> bool:
        """`importlib.util.find_spec`, `util.find_spec` or `find_spec`, bound by the file's imports."""
        if isinstance(func, cst.Name):
            return func.value in self.find_spec_aliases
        if not isinstance(func, cst.Attribute) or func.attr.value != "find_spec":
            return False
        owner = func.value
        if isinstance(owner, cst.Name):
            return owner.value in self.util_aliases
        return (
            isinstance(owner, cst.Attribute)
            and owner.attr.value == "util"
            and isinstance(owner.value, cst.Name)
            and owner.value.value in self.importlib_aliases
        )

    def _probe(self, name: str, call: cst.Call, line: int, column: int, guards: Guards) -> None:
        """find_spec("a.b.c") imports a.b (an import like any other) and returns None when a.b.c is
        missing: the probed name is a reference, not an import that fails."""
        parent = name.rpartition(".")[0]
        if parent:
            self.sites.append(ImportSite(parent, None, line, column, SiteKind.DYNAMIC, guards))
        callee = dotted_name(call.func) or "find_spec"
        self.probes.append(NameReference(name, line, column, ReferenceKind.PROBE, callee, False, guards))


def _int_argument(call: cst.Call, position: int, keyword: str) -> int | None:
    """A literal int argument (0 when absent); None when not a literal."""
    value = None
    if len(call.args) > position and call.args[position].keyword is None:
        value = call.args[position].value
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            value = arg.value
    if value is None:
        return 0
    return value.evaluated_value if isinstance(value, cst.Integer) else None


def _fromlist(call: cst.Call) -> list[str]:
    """The literal names of __import__'s fromlist (submodules it tries, skipping missing ones)."""
    value = call.args[3].value if len(call.args) > 3 and call.args[3].keyword is None else None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "fromlist":
            value = arg.value
    if not isinstance(value, (cst.List, cst.Tuple)):
        return []
    names = [string_value(e.value) for e in value.elements]
    return [n for n in names if n and n != "*"]
