"""Import sites: `import`/`from` statements, `__all__`, and calls that import by name
(importlib.import_module, __import__, importlib.util.find_spec), each with the guards the walk found."""

from __future__ import annotations

import libcst as cst

from ..model import ImportSite, NameReference, ReferenceKind, SiteKind, UnresolvedImport
from .bindings import FIND_SPEC, IMPORT_MODULE, ImportBindings, resolve_relative
from .guards import Guards, guards_have_function
from .strings import KnownStrings
from .syntax import code, dotted_name, string_value


class ImportSites:
    """A pass of the guard walk (guards.WalkPass)."""

    def __init__(self, module: str, is_package: bool, positions, bindings: ImportBindings, names: KnownStrings):
        self.module = module
        self.is_package = is_package
        self.positions = positions
        self.names = names
        self.importlib_aliases = bindings.names_for("importlib")  # names bound to the importlib module
        self.import_module_aliases = bindings.names_for(IMPORT_MODULE)
        self.util_aliases = bindings.names_for("importlib.util")
        self.find_spec_aliases = bindings.names_for(FIND_SPEC)
        self.sites: list[ImportSite] = []
        self.unresolved: list[UnresolvedImport] = []
        self.dunder_all: list[str] | None = None
        self.dunder_all_literal = True
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

    def literal_dunder_all(self) -> tuple[str, ...] | None:
        return tuple(self.dunder_all) if self.dunder_all is not None and self.dunder_all_literal else None

    # calls

    def dynamic_call(self, call: cst.Call, position: tuple[int, int], guards: Guards) -> None:
        # Whether the callee is importlib's is decided in finish(): `import importlib` may come
        # later in the file than a function that uses it.
        self.candidate_calls.append((call, position, guards))

    def finish(self) -> None:
        for call, (line, column), guards in self.candidate_calls:
            func = call.func
            is_import = (isinstance(func, cst.Name) and func.value in self.import_module_aliases | {"__import__"}) or (
                isinstance(func, cst.Attribute)
                and func.attr.value == "import_module"
                and isinstance(func.value, cst.Name)
                and func.value.value in self.importlib_aliases
            )
            is_probe = not is_import and self._is_find_spec(func)
            if not (is_import or is_probe) or not call.args:
                continue  # e.g. runtime.Module.import_module(path): a method, not importlib
            self.import_calls.add((line, column))
            # A literal, or an f-string/concatenation of literals, `__name__` and module constants.
            known = self.names.resolve_cst(call.args[0].value)
            text, complete = known if known is not None else ("", False)
            if complete and not text.startswith("."):
                if is_probe:
                    self._probe(text, call, line, column, guards)
                else:
                    self.sites.append(ImportSite(text, None, line, column, SiteKind.DYNAMIC, guards))
                continue
            reason = "relative dynamic import" if complete else "target is not a literal"
            self.unresolved.append(UnresolvedImport(line, column, code(call), text, reason, guards))
        self.sites.sort(key=lambda site: (site.line, site.column))

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
