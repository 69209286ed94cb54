"""What runs when (issue 15), one file's share: the functions it defines, the project functions it
calls (with what its string arguments hold, as terms), its dynamic imports whose target is not a
literal (their argument as a term), its module-level string tables and the registries its
functions fill (`TABLE[key] = value`).

On the `ast` view, with the guards the libcst walk found for each statement; it only adds facts.
The project-level resolution (values through calls, import-time reach) is `scopeguard.reach`.

A term is a tuple of parts (see model.Term): locals assigned once keep their value, `for x in
TABLE` makes x an entry of TABLE, `if x in TABLE:` narrows x to an entry, `TABLE[x]` and
`TABLE.get(x)` are lookups, f-strings and `+` concatenate.
"""

from __future__ import annotations

import ast

from ..base.model import (
    CallFact,
    DynamicImportFact,
    FunctionFact,
    Guard,
    StoreFact,
    TableFact,
    Term,
    UnresolvedImport,
    UnresolvedReason,
)
from .astnodes import dotted as _dotted
from .astnodes import every_node
from .bindings import FIND_SPEC, IMPORT_MODULE, ImportBindings
from .imports import MACHINERY_CALLABLES
from .strings import template_of, template_start

ANY: Term = (("any", ""),)
# `obj.__module__`: the module that defined an object that exists, so already imported - unless
# the project assigns `__module__` (MODULE_NAMES below lists what it assigns, per file).
MODULE_OF: Term = (("modof", ""),)
# The first dotted part of a name (`name.split(".")[0]`, `name.partition(".")[0]`): a top-level
# module's name, whatever the rest (analysis/unknowns.py: it cannot name a scope below the top).
HEAD: Term = (("head", ""),)
# A file's table of the values it assigns to `__module__` (`X.__module__ = "pkg.mod"`, a class
# body's `__module__ = ...`, `setattr(X, "__module__", ...)`, a `"__module__"` key, `module=`).
MODULE_NAMES = "<__module__>"
_MAX_PARTS = 8
_MAX_ALTERNATIVES = 256
# Calls that import the package named by their argument (`importlib.resources.files(pkg)`), and
# probes that import only its parent (`importlib.util.find_spec("a.b")` imports `a`).
_ANCHORS = frozenset(name for name, what in MACHINERY_CALLABLES.items() if what == "anchor")
_PROBES = frozenset({FIND_SPEC, *(name for name, what in MACHINERY_CALLABLES.items() if what == "find_spec")})
_ANCHOR_KEYWORDS = ("anchor", "package", "name", "fullname")
ANY_EXPR = ast.Tuple(elts=[], ctx=ast.Load())  # a value nothing is known of


class ReachFacts:
    def __init__(self, tree: ast.Module, module: str, is_package: bool, bindings: ImportBindings,
                 guarded: list[tuple[ast.stmt, tuple[Guard, ...]]], fixed: dict[str, str]) -> None:
        self.module = module
        self.bindings = bindings
        self.fixed = fixed  # __name__, __package__
        self.guards = {id(stmt): guards for stmt, guards in guarded}
        self.functions: list[FunctionFact] = []
        self.calls: list[CallFact] = []
        self.dynamic: list[DynamicImportFact] = []
        self.tables: list[TableFact] = []
        self.stores: list[StoreFact] = []
        self.unresolved: list[UnresolvedImport] = []  # runpy with a computed target, entry-point loads
        self.import_names = bindings.names_for(IMPORT_MODULE) | {"__import__"}
        self.importlib_names = bindings.names_for("importlib")
        self.local_functions: set[str] = set()
        self.table_names: dict[str, str] = {}  # NAME -> "seq" | "dict"
        self.module_strings: dict[str, str] = {}
        self.unless: tuple[str, ...] = ()
        self.module_values: dict[str, ast.expr] = {}  # module-level NAME = <literal>, bound once, never changed
        self._loop_tables: dict[tuple, str] = {}  # a loop variable's synthetic table, by its binding
        self._tree = tree
        self._changed: set[str] | None = None  # names changed after their binding (asked lazily)
        # known starts of some values of a dynamic import's argument, by call position (line,
        # column): the returns of a function of this file it is the result of (see _returned_starts)
        self.alternatives: dict[tuple[int, int], tuple[str, ...]] = {}
        self._defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}  # "f", "Class.m": this file's defs
        self._collect_module_level(tree)
        self._collect_module_names(tree)

    # module level

    def _collect_module_level(self, tree: ast.Module) -> None:
        counts: dict[str, int] = {}
        for stmt in tree.body:
            for name in _bound_names(stmt):
                counts[name] = counts.get(name, 0) + 1
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.local_functions.add(stmt.name)
                self._defs[stmt.name] = stmt
            elif isinstance(stmt, ast.ClassDef):
                for sub in stmt.body:
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self._defs[f"{stmt.name}.{sub.name}"] = sub
        for stmt in tree.body:
            if not (isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None):
                continue
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if len(targets) != 1 or not isinstance(targets[0], ast.Name):
                continue
            name, value = targets[0].id, stmt.value
            if counts.get(name, 0) != 1:
                continue
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                self.module_strings[name] = value.value
            if isinstance(value, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
                self.module_values[name] = value
            table = _table(name, value)
            if table is not None:
                self.tables.append(table)
                self.table_names[name] = "dict" if isinstance(value, ast.Dict) else "seq"


    def _collect_module_names(self, tree: ast.Module) -> None:
        """What the file assigns to `__module__` (MODULE_NAMES): literals, `__name__`, another
        object's `__module__` (nothing new); anything else leaves the table incomplete."""
        values: list[ast.expr] = []
        for node in every_node(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for sub in ast.walk(target):
                        if (isinstance(sub, ast.Attribute) and sub.attr == "__module__"
                                or isinstance(sub, ast.Name) and sub.id == "__module__"):
                            values.append(node.value if sub is target else ANY_EXPR)
            elif isinstance(node, ast.Call):
                if (isinstance(node.func, ast.Name) and node.func.id == "setattr" and len(node.args) >= 3
                        and isinstance(node.args[1], ast.Constant) and node.args[1].value == "__module__"):
                    values.append(node.args[2])
                values += [k.value for k in node.keywords if k.arg in ("module", "__module__")]
            elif isinstance(node, ast.Dict):
                values += [v for k, v in zip(node.keys, node.values)
                           if isinstance(k, ast.Constant) and k.value == "__module__"]
        if not values:
            return
        entries, complete = [], True
        for value in values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                entries.append(("", value.value, value.lineno))
            elif isinstance(value, ast.Name) and value.id in self.fixed:
                entries.append(("", self.fixed[value.id], value.lineno))
            elif isinstance(value, ast.Attribute) and value.attr == "__module__":
                continue  # another object's module: already loaded, or assigned elsewhere (seen there)
            elif isinstance(value, ast.Constant) and value.value is None:
                continue
            else:
                complete = False
        self.tables.append(TableFact(MODULE_NAMES, tuple(sorted(entries, key=lambda e: e[2])), complete))

    def run(self, tree: ast.Module) -> None:
        self._block(tree.body, "", {}, {})

    # statements

    def _block(self, body, function: str, local: dict[str, Term], narrowed: dict[str, Term]) -> None:
        saved = self.unless
        for stmt in body:
            self._statement(stmt, function, local, narrowed)
            if (function and isinstance(stmt, ast.If) and stmt.body
                    and isinstance(stmt.body[-1], (ast.Return, ast.Raise)) and not stmt.orelse):
                text = ast.unparse(stmt.test)
                if "environ" in text or "getenv" in text:
                    self.unless = (*self.unless, text)
        self.unless = saved

    def _statement(self, stmt: ast.stmt, function: str, local, narrowed) -> None:
        guards = self.guards.get(id(stmt), ())
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for expr in [*stmt.decorator_list, *stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d)]:
                self._expr(expr, function, local, narrowed, stmt, guards)
            qual = f"{function[6:]}.{stmt.name}" if function.startswith("class ") else (
                stmt.name if not function else "")
            if not qual:
                # nested functions: their calls are not followed; only `import_module(x.__module__)`
                # is recorded (its meaning does not depend on the names around it)
                self._nested_module_of(stmt, function, guards)
                return
            params = tuple(a.arg for a in [*stmt.args.posonlyargs, *stmt.args.args, *stmt.args.kwonlyargs])
            # worked out only if a term reads a local name
            inner_local = _LazyLocals(stmt, self._parametrized(stmt))
            info = {"lookup": ""}
            self._current_info = info
            saved, self.unless = self.unless, ()
            self._block(stmt.body, qual, inner_local, {})
            self.unless = saved
            self.functions.append(FunctionFact(qual, params, stmt.lineno, info["lookup"]))
            return
        if isinstance(stmt, ast.ClassDef):
            for expr in [*stmt.decorator_list, *stmt.bases, *(k.value for k in stmt.keywords)]:
                self._expr(expr, function, local, narrowed, stmt, guards)
            # A class body runs where the class statement does; its methods are "Class.name".
            inner = f"class {stmt.name}" if not function else function
            for sub in stmt.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and not function:
                    self._statement(sub, inner, local, narrowed)
                else:
                    self._statement(sub, function, local, narrowed)
            return
        if isinstance(stmt, ast.If):
            self._expr(stmt.test, function, local, narrowed, stmt, guards)
            inner = dict(narrowed)
            test = stmt.test
            if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.In)
                    and isinstance(test.left, ast.Name) and isinstance(test.comparators[0], ast.Name)
                    and test.comparators[0].id in self.table_names):
                table = test.comparators[0].id
                kind = "key" if self.table_names[table] == "dict" else "elem"
                inner[test.left.id] = ((kind, table),)
            self._block(stmt.body, function, local, inner)
            self._block(stmt.orelse, function, local, narrowed)
            return
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            self._expr(stmt.iter, function, local, narrowed, stmt, guards)
            self._block(stmt.body, function, local, narrowed)
            self._block(stmt.orelse, function, local, narrowed)
            return
        if isinstance(stmt, (ast.While, ast.With, ast.AsyncWith, ast.Try)) or type(stmt).__name__ == "TryStar":
            for field in ("test",):
                if hasattr(stmt, field):
                    self._expr(getattr(stmt, field), function, local, narrowed, stmt, guards)
            for item in getattr(stmt, "items", ()):
                self._expr(item.context_expr, function, local, narrowed, stmt, guards)
            for field in ("body", "orelse", "finalbody"):
                self._block(getattr(stmt, field, ()), function, local, narrowed)
            for handler in getattr(stmt, "handlers", ()):
                self._block(handler.body, function, local, narrowed)
            return
        if isinstance(stmt, ast.Match):
            self._expr(stmt.subject, function, local, narrowed, stmt, guards)
            for case in stmt.cases:
                self._block(case.body, function, local, narrowed)
            return
        if function and isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                    and target.value.id in self.table_names and self.table_names[target.value.id] == "dict"):
                self.stores.append(StoreFact(function, target.value.id,
                                             self.term(target.slice, local, narrowed),
                                             self.term(stmt.value, local, narrowed), stmt.lineno))
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                self._expr(child, function, local, narrowed, stmt, guards)

    # expressions

    def _expr(self, expr: ast.expr, function, local, narrowed, stmt, guards) -> None:
        for node in ast.walk(expr):
            if isinstance(node, ast.Call):
                self._call(node, function, local, narrowed, guards)
            elif isinstance(node, ast.Lambda):
                pass

    def _call(self, call: ast.Call, function, local, narrowed, guards) -> None:
        func = call.func
        dotted = _dotted(func)
        if dotted is None:
            return
        head = dotted.split(".", 1)[0]
        is_import = (isinstance(func, ast.Name) and func.id in self.import_names) or (
            isinstance(func, ast.Attribute) and func.attr == "import_module"
            and isinstance(func.value, ast.Name) and func.value.id in self.importlib_names)
        runs = None if is_import else self.bindings.absolute(dotted)
        if runs in _ANCHORS or runs in _PROBES:
            self._machinery(call, runs in _PROBES, function, local, narrowed, guards)
            return
        if is_import:
            if not call.args:
                return
            term = self.term(call.args[0], local, narrowed)
            if all(kind == "lit" for kind, _ in term) and not self._local_name(call.args[0]):
                return  # a literal: an import site already
            package: Term = ()
            if isinstance(func, ast.Attribute) or func.id != "__import__":
                arg = call.args[1] if len(call.args) > 1 else next(
                    (k.value for k in call.keywords if k.arg == "package"), None)
                if arg is not None:
                    package = self.term(arg, local, narrowed)
            starts = self._returned_starts(call.args[0], function, local)
            if starts:
                self.alternatives[(call.lineno, call.col_offset + 1)] = starts
            if function and any(kind == "item" for kind, _ in term):
                info = getattr(self, "_current_info", None)
                if info is not None:
                    info["lookup"] = next(text.partition("|")[2] for kind, text in term if kind == "item")
            self.dynamic.append(DynamicImportFact(function, call.lineno, call.col_offset + 1, term, package, guards))
            return
        if runs in _IMPORT_HOOKS:
            self.unresolved.append(UnresolvedImport(call.lineno, call.col_offset + 1, _text(call), "",
                                                    UnresolvedReason.INSTALLS_HOOK, guards))
            return
        if runs in _RUNS_MODULES or runs in _ENTRY_POINTS:
            first = call.args[0] if call.args else None
            term = self.term(first, local, narrowed) if first is not None else ANY
            if runs in _ENTRY_POINTS or not all(kind == "lit" for kind, _ in term):
                prefix = term[0][1] if runs == "runpy.run_module" and term and term[0][0] == "lit" else ""
                reason = UnresolvedReason.ENTRY_POINTS if runs in _ENTRY_POINTS else UnresolvedReason.NOT_LITERAL
                self.unresolved.append(UnresolvedImport(call.lineno, call.col_offset + 1, _text(call), prefix,
                                                        reason, guards))
            return
        if isinstance(func, ast.Name) and func.id in self.local_functions and self.bindings.target(func.id) is None:
            callee = f"{self.module}.{func.id}"
        else:
            callee = self.bindings.absolute(dotted)
            if callee is None:
                if head in self.local_functions or head in self.table_names:
                    callee = f"{self.module}.{dotted}"
                else:
                    return
        args = tuple(self.term(a, local, narrowed) for a in call.args if not isinstance(a, ast.Starred))
        keywords = tuple((k.arg, self.term(k.value, local, narrowed)) for k in call.keywords if k.arg)
        self.calls.append(CallFact(function, callee, call.lineno, call.col_offset + 1, args, keywords, guards,
                                   self.unless))

    def _nested_module_of(self, func, function: str, guards) -> None:
        for node in ast.walk(func):
            if not (isinstance(node, ast.Call) and node.args and self.term(node.args[0], {}, {}) == MODULE_OF):
                continue
            func_ = node.func
            if (isinstance(func_, ast.Name) and func_.id in self.import_names) or (
                    isinstance(func_, ast.Attribute) and func_.attr == "import_module"
                    and isinstance(func_.value, ast.Name) and func_.value.id in self.importlib_names):
                where = f"{function}.<locals>.{func.name}" if function else f"<locals>.{func.name}"
                self.dynamic.append(DynamicImportFact(where, node.lineno, node.col_offset + 1, MODULE_OF, (), guards))

    def _returned_starts(self, arg: ast.expr, function: str, local) -> tuple[str, ...]:
        """Known starts of the values `arg` may take when it is (or is a local bound once to) the
        result of a call to a function of this file - `f(x)`, or `self.m(x)`/`cls.m(x)` inside a
        method of the class defining `m` - one per `return` of it (both branches of a conditional
        expression), each a literal start of its term in the callee (`f"pkg.backend_{name}"` gives
        "pkg.backend_"). What the other returns give is unknown; the value flow's prefix stays their
        common start. Empty when nothing of the kind is known; led by "" when every return has a
        literal start (then their common start is the value's prefix). A function that may end
        without `return` gives None, which is no name: import_module raises, nothing loads."""
        if isinstance(arg, ast.Name) and arg.id in local:
            value = local[arg.id]
            arg = value if isinstance(value, ast.Call) else arg
        if not isinstance(arg, ast.Call):
            return ()
        func = arg.func
        callee = None
        if isinstance(func, ast.Name) and func.id in self.local_functions and self.bindings.target(func.id) is None:
            callee = self._defs.get(func.id)
        elif (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
              and func.value.id in ("self", "cls") and "." in function):
            callee = self._defs.get(f"{function.partition('.')[0]}.{func.attr}")
        if callee is None:
            return ()
        callee_locals = _LazyLocals(callee)
        starts: list[str] = []
        complete = True
        for node in _walk_function(callee):
            if not isinstance(node, ast.Return) or node.value is None:
                continue
            pending = [node.value]
            while pending:
                expr = pending.pop()
                if isinstance(expr, ast.IfExp):
                    pending += [expr.orelse, expr.body]
                    continue
                term = self.term(expr, callee_locals, {})
                if not (term and term[0][0] == "lit" and term[0][1]):
                    complete = False
                elif term[0][1] not in starts:
                    starts.append(term[0][1])
        if starts and complete and not any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _walk_function(callee)):
            # every return starts with a literal: their common start is the value's, marked by a
            # leading "" (see facts/__init__._with_reach)
            return ("", *starts[:_MAX_ALTERNATIVES])
        return tuple(starts[:_MAX_ALTERNATIVES])

    def _parametrized(self, func) -> dict[str, Term]:
        """The values pytest gives a test's parameters: `@pytest.mark.parametrize("name", [...])`
        (also "a,b" with tuples, and `pytest.param(value, marks=...)` entries) on a `test*` function
        of a `test_*`/`*_test` module, as a table of this file; a value that is not a string literal
        leaves the table incomplete. Not with `indirect` (the fixture's result is passed, not the
        value). Issue 27 (matplotlib's test_backend_bases: ['svg', 'ps', 'pdf', 'pgf'])."""
        last = self.module.rpartition(".")[2]
        if not (func.name.startswith("test") and (last.startswith("test_") or last.endswith("_test"))):
            return {}
        out: dict[str, Term] = {}
        for decorator in func.decorator_list:
            if not (isinstance(decorator, ast.Call) and len(decorator.args) >= 2):
                continue
            dotted = _dotted(decorator.func) or ""
            if (self.bindings.absolute(dotted) or dotted) != "pytest.mark.parametrize":
                continue
            if any(k.arg == "indirect" for k in decorator.keywords) or any(k.arg is None for k in decorator.keywords):
                continue
            spec, values = decorator.args[0], decorator.args[1]
            if isinstance(spec, ast.Constant) and isinstance(spec.value, str):
                names = [n.strip() for n in spec.value.split(",") if n.strip()]
            elif isinstance(spec, (ast.List, ast.Tuple)) and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) for e in spec.elts):
                names = [e.value for e in spec.elts]
            else:
                continue
            if not isinstance(values, (ast.List, ast.Tuple)) or not names:
                continue
            entries: dict[str, list] = {n: [] for n in names}
            complete = {n: True for n in names}
            for element in values.elts:
                if (isinstance(element, ast.Call) and (_dotted(element.func) or "").endswith("param")
                        and not any(isinstance(a, ast.Starred) for a in element.args)):
                    row = list(element.args)
                elif len(names) == 1:
                    row = [element]
                elif isinstance(element, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in element.elts):
                    row = list(element.elts)
                else:
                    row = []
                if len(row) != len(names):
                    complete = dict.fromkeys(names, False)
                    continue
                for name, value in zip(names, row):
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        entries[name].append(("", value.value, value.lineno))
                    else:
                        complete[name] = False
            for name in names:
                table = f"<parametrize {func.lineno}:{func.col_offset + 1} {name}>"
                self.tables.append(TableFact(table, tuple(dict.fromkeys(entries[name])), complete[name]))
                self.table_names[table] = "seq"
                out[name] = (("elem", table),)
        return out

    def _local_name(self, arg: ast.expr) -> bool:
        """A name the import walk cannot resolve (it knows literals and module constants): a local
        or loop variable whose values the value flow may know."""
        return isinstance(arg, ast.Name) and arg.id not in self.module_strings and arg.id not in self.fixed

    def _machinery(self, call: ast.Call, probe: bool, function, local, narrowed, guards) -> None:
        """`importlib.resources.files(pkg)` imports `pkg`; `importlib.util.find_spec(name)` imports
        the parent of `name`: a dynamic import whose argument is a term, like import_module's."""
        arg = call.args[0] if call.args and not isinstance(call.args[0], ast.Starred) else next(
            (k.value for k in call.keywords if k.arg in _ANCHOR_KEYWORDS), None)
        if arg is None:
            return
        if not probe and isinstance(arg, (ast.Name, ast.Attribute)):
            if self.bindings.absolute(_dotted(arg)) is not None:
                return  # a module object (`files(tvm)`): nothing is imported by name
        term = self.term(arg, local, narrowed)
        if all(kind == "lit" for kind, _ in term):
            if not self._local_name(arg):
                return  # a literal: an import site (or a probe) already
            if probe:
                term = (("lit", "".join(text for _, text in term).rpartition(".")[0]),)
        elif probe:
            term = self._parents(term)
        self.dynamic.append(DynamicImportFact(function, call.lineno, call.col_offset + 1, term, (), guards))

    def _parents(self, term: Term) -> Term:
        """A probe's term: for one of this file's loop tables, a table of the entries' parents (what
        find_spec imports); otherwise the term itself (the name probed: no narrower than its parent)."""
        if len(term) == 1 and term[0][0] == "elem" and term[0][1] in self._loop_tables.values():
            table = next(t for t in self.tables if t.name == term[0][1])
            name = f"{table.name}.parent"
            if not any(t.name == name for t in self.tables):
                self.tables.append(TableFact(name, tuple(("", v.rpartition(".")[0], line)
                                                         for _, v, line in table.entries), table.complete))
                self.table_names[name] = "seq"
            return (("elem", name),)
        return term

    def _loop(self, loop: _Loop, local, narrowed, depth: int) -> Term:
        """A variable bound only by loops (`for`, comprehensions): one of the strings its iterables
        yield. Simple loops over a module table keep their table (a registry may fill it); others
        get a table of their own, incomplete where an alternative is not a known string."""
        if len(loop.bindings) == 1:
            iterable, path = loop.bindings[0]
            over = iterable.func.value if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute) \
                else iterable
            if (not path and isinstance(over, ast.Name) and over.id in self.table_names and over.id not in local
                    and _loop_term(iterable) != ANY):
                return _loop_term(iterable)
        key = tuple((id(i), p) for i, p in loop.bindings)
        name = self._loop_tables.get(key)
        if name is None:
            alternatives = self._alternatives(loop, local, depth)
            entries, complete = [], alternatives is not None
            for alternative in alternatives or ():
                if isinstance(alternative, ast.Constant) and isinstance(alternative.value, str):
                    entries.append(("", alternative.value, alternative.lineno))
                    continue
                term = self.term(alternative, local, narrowed, depth + 1) if depth < 6 else ANY
                if all(kind == "lit" for kind, _ in term):
                    entries.append(("", "".join(text for _, text in term), alternative.lineno))
                else:
                    complete = False
            if not entries and not complete:
                return ANY
            first = loop.bindings[0][0]
            name = f"<loop {first.lineno}:{first.col_offset + 1} {len(self._loop_tables)}>"
            self._loop_tables[key] = name
            self.tables.append(TableFact(name, tuple(dict.fromkeys(entries)), complete))
            self.table_names[name] = "seq"
        return (("elem", name),)

    def _alternatives(self, loop: _Loop, local, depth: int) -> list[ast.expr] | None:
        """The expressions a loop variable may hold, or None when not all are known."""
        found: list[ast.expr] = []
        for iterable, path in loop.bindings:
            elements = self._elements(iterable, local, depth + 1)
            if elements is None:
                return None
            for element in elements:
                part = _destructure(element, path)
                if part is None:
                    return None
                if isinstance(part, ast.Name) and part.id in local and isinstance(local[part.id], _Loop):
                    if depth > 6:
                        return None
                    inner = self._alternatives(local[part.id], local, depth + 1)
                    if inner is None:
                        return None
                    found += inner
                else:
                    found.append(part)
                if len(found) > _MAX_ALTERNATIVES:
                    return None
        return found

    def _elements(self, iterable: ast.expr, local, depth: int) -> list[ast.expr] | None:
        """What iterating over `iterable` may yield: the items of a literal list/tuple/set (starred
        parts spread, a comprehension's element expression), a literal dict's keys; through names
        bound once to one (locals, loop variables, module constants never changed); else None."""
        if depth > 8:
            return None
        if isinstance(iterable, (ast.List, ast.Tuple, ast.Set)):
            out: list[ast.expr] = []
            for element in iterable.elts:
                if isinstance(element, ast.Starred):
                    inner = self._elements(element.value, local, depth + 1)
                    if inner is None:
                        return None
                    out += inner
                else:
                    out.append(element)
            return out
        if isinstance(iterable, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            return [iterable.elt]
        if isinstance(iterable, ast.Dict):
            return None if any(k is None for k in iterable.keys) else list(iterable.keys)
        if (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute) and not iterable.args
                and iterable.func.attr in ("keys", "values") and isinstance(iterable.func.value, (ast.Dict, ast.Name))):
            target = iterable.func.value
            if isinstance(target, ast.Name):
                target = self._value_of(target, local)
            if not isinstance(target, ast.Dict) or any(k is None for k in target.keys):
                return None
            return list(target.keys if iterable.func.attr == "keys" else target.values)
        if isinstance(iterable, ast.Name):
            if iterable.id in local and isinstance(local[iterable.id], _Loop):
                alternatives = self._alternatives(local[iterable.id], local, depth + 1)
                if alternatives is None:
                    return None
                out = []
                for alternative in alternatives:
                    inner = self._elements(alternative, local, depth + 1)
                    if inner is None:
                        return None
                    out += inner
                return out
            value = self._value_of(iterable, local)
            return self._elements(value, local, depth + 1) if value is not None else None
        return None

    def _value_of(self, name: ast.Name, local) -> ast.expr | None:
        """The literal a name is bound to once (a local, or a module constant never changed)."""
        if self._changed is None:
            self._changed = _changed_names(self._tree)
        if name.id in self._changed:
            return None
        if name.id in local:
            value = local[name.id]
            return value if isinstance(value, ast.expr) else None
        return self.module_values.get(name.id)

    def term(self, expr: ast.expr, local, narrowed, depth: int = 0) -> Term:
        if depth > 6:
            return ANY
        if isinstance(expr, ast.Attribute) and expr.attr == "__module__":
            return MODULE_OF
        if (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "getattr"
                and len(expr.args) == 2 and isinstance(expr.args[1], ast.Constant) and expr.args[1].value == "__module__"):
            return MODULE_OF
        if isinstance(expr, ast.Constant):
            return (("lit", expr.value),) if isinstance(expr.value, str) else ANY
        if isinstance(expr, ast.Name):
            name = expr.id
            if name in narrowed:
                return narrowed[name]
            if name in local:
                value = local[name]
                if isinstance(value, _Loop):
                    return self._loop(value, local, narrowed, depth)
                if isinstance(value, ast.AST):
                    return self.term(value, local, narrowed, depth + 1)
                return value
            if name in self.fixed:
                return (("lit", self.fixed[name]),)
            if name in self.module_strings:
                return (("lit", self.module_strings[name]),)
            return ANY
        if isinstance(expr, ast.JoinedStr):
            parts: list = []
            for value in expr.values:
                if isinstance(value, ast.FormattedValue):
                    if value.conversion != -1 or value.format_spec is not None:
                        parts += ANY
                    else:
                        parts += self.term(value.value, local, narrowed, depth + 1)
                else:
                    parts += self.term(value, local, narrowed, depth + 1)
            return _simplify(parts)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return _simplify([*self.term(expr.left, local, narrowed, depth + 1),
                              *self.term(expr.right, local, narrowed, depth + 1)])
        template = _template(expr)
        if template is not None:  # "pkg.dialects.%s" % name, "pkg.dialects.{}".format(name)
            return _simplify([("lit", template), *ANY]) if template else ANY
        if isinstance(expr, ast.Subscript) and _is_zero(expr.slice):
            base = expr.value
            if isinstance(base, ast.Name) and base.id not in narrowed:
                base = self._value_of(base, local) or base  # `parts = name.split("."); parts[0]`
            if _splits_at_dot(base):
                return HEAD
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name) and expr.value.id in self.table_names:
            key = expr.slice.id if isinstance(expr.slice, ast.Name) else ""
            return (("item", f"{expr.value.id}|{key}"),)
        if (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "get"
                and isinstance(expr.func.value, ast.Name) and expr.func.value.id in self.table_names
                and len(expr.args) == 1 and not expr.keywords):
            key = expr.args[0].id if isinstance(expr.args[0], ast.Name) else ""
            return (("item", f"{expr.func.value.id}|{key}"),)
        return ANY

    def facts(self) -> dict:
        """The FileFacts fields this pass fills."""
        return dict(functions=tuple(self.functions), calls=tuple(self.calls), dynamic=tuple(self.dynamic),
                    tables=tuple(self.tables), stores=tuple(self.stores))


# Calls that run a module named at run time, or whatever installed distributions declare.
_RUNS_MODULES = frozenset({"runpy.run_path", "runpy.run_module"})
_IMPORT_HOOKS = frozenset(f"sys.{hooks}.{method}" for hooks in ("meta_path", "path_hooks")
                          for method in ("append", "insert", "extend"))
_ENTRY_POINTS = frozenset({"importlib.metadata.entry_points", "importlib_metadata.entry_points",
                           "pkg_resources.iter_entry_points"})


def _text(call: ast.Call) -> str:
    try:
        text = ast.unparse(call)
    except (ValueError, RecursionError):
        return "(call)"
    return text if len(text) <= 120 else text[:117] + "..."


def _template(expr: ast.expr) -> str | None:
    """The literal start of a %- or str.format template filled at run time; None if not one."""
    filled = template_of(expr)
    if filled is None or not isinstance(filled[0], ast.Constant) or not isinstance(filled[0].value, str):
        return None
    known = template_start(filled[0].value, filled[1])
    return known[0] if known is not None else None


def _simplify(parts: list) -> Term:
    out: list = []
    for part in parts:
        if part[0] == "lit" and out and out[-1][0] == "lit":
            out[-1] = ("lit", out[-1][1] + part[1])
        elif part[0] == "any" and out and out[-1][0] == "any":
            continue
        else:
            out.append(part)
    if len(out) > _MAX_PARTS:
        out = [*out[:_MAX_PARTS - 1], ("any", "")]
    return tuple(out)


def _bound_names(stmt: ast.stmt):
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield stmt.name
    elif isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    yield node.id
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        if isinstance(stmt.target, ast.Name):
            yield stmt.target.id
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            yield (alias.asname or alias.name).split(".")[0]
    else:
        for child in ast.walk(stmt):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                yield child.id
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and child is not stmt:
                yield child.name


def _table(name: str, value: ast.expr) -> TableFact | None:
    if isinstance(value, (ast.Tuple, ast.List, ast.Set)):
        entries, complete = [], True
        for element in value.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                entries.append(("", element.value, element.lineno))
            else:
                complete = False
        return TableFact(name, tuple(entries), complete) if entries or not value.elts else None
    if isinstance(value, ast.Dict):
        entries, complete = [], True
        for key, item in zip(value.keys, value.values):
            if (isinstance(key, ast.Constant) and isinstance(key.value, str)
                    and isinstance(item, ast.Constant) and isinstance(item.value, str)):
                entries.append((key.value, item.value, key.lineno))
            else:
                complete = False
        return TableFact(name, tuple(entries), complete)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict" and not value.args \
            and not value.keywords:
        return TableFact(name, (), True)
    return None


class _LazyLocals:
    """_function_locals of a function, computed on the first question (most functions never ask)."""

    __slots__ = ("_func", "_names", "_given")

    def __init__(self, func, given: dict | None = None) -> None:
        self._func = func
        self._names: dict | None = None
        self._given = given or {}  # parameters whose values are known (pytest's parametrize)

    def _get(self) -> dict:
        if self._names is None:
            self._names = _function_locals(self._func)
            for name, term in self._given.items():
                if self._names.get(name) == (("param", name),):  # not rebound in the body
                    self._names[name] = term
        return self._names

    def __contains__(self, name: str) -> bool:
        return name in self._get()

    def __getitem__(self, name: str):
        return self._get()[name]


def _function_locals(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict:
    """Names bound exactly once in the function body: `x = expr` keeps expr (evaluated lazily as a
    term); `for x in TABLE` is an entry of TABLE; anything else bound more than once is unknown."""
    counts: dict[str, int] = {}
    assigned: dict[str, object] = {}
    params = {a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
    if func.args.vararg:
        params.add(func.args.vararg.arg)
    if func.args.kwarg:
        params.add(func.args.kwarg.arg)
    loops: dict[str, list[tuple[ast.expr, tuple[int, ...]]]] = {}  # name -> (iterable, position in target)
    for node in _walk_function(func):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store):
                counts[node.id] = counts.get(node.id, 0) + 1
        elif isinstance(node, ast.Assign):
            if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                assigned[node.targets[0].id] = node.value
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            for name, path in _target_paths(node.target, ()):
                loops.setdefault(name, []).append((node.iter, path))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                counts[name] = counts.get(name, 0) + 2
    local: dict[str, object] = {p: (("param", p),) for p in params}
    for name, count in counts.items():
        if name in params:
            local[name] = ANY  # a parameter rebound: unknown
        elif name in loops and len(loops[name]) == count:
            # bound only as a loop variable (statements and comprehensions, however many): one of
            # the values its iterables yield - after a loop, its last one; inside each, its own
            local[name] = _Loop(tuple(loops[name]))
        elif count == 1 and name in assigned:
            local[name] = assigned[name]
        else:
            local[name] = ANY
    return local


class _Loop:
    """A name bound only as a loop target: each binding's iterable and the target position."""

    __slots__ = ("bindings",)

    def __init__(self, bindings: tuple[tuple[ast.expr, tuple[int, ...]], ...]) -> None:
        self.bindings = bindings


def _target_paths(target: ast.expr, path: tuple[int, ...]):
    """(name, position) for each name a loop target binds: `for a, (b, c) in ...` gives a (0,),
    b (1, 0), c (1, 1); a starred part binds a list, left out (so its name stays unknown)."""
    if isinstance(target, ast.Name):
        yield target.id, path
    elif isinstance(target, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in target.elts):
        for index, element in enumerate(target.elts):
            yield from _target_paths(element, (*path, index))


def _destructure(element: ast.expr, path: tuple[int, ...]) -> ast.expr | None:
    """The part of one item a target position takes (`("a", 1)` at (0,) is `"a"`); None if unknown."""
    for index in path:
        if not isinstance(element, (ast.Tuple, ast.List)) or any(isinstance(e, ast.Starred) for e in element.elts):
            return None
        if index >= len(element.elts):
            return None
        element = element.elts[index]
    return element


_MUTATORS = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "__setitem__", "__iadd__",
                       "__ior__", "sort", "reverse"})
_READERS = frozenset({"len", "sorted", "list", "tuple", "set", "frozenset", "iter", "reversed", "any", "all",
                      "enumerate", "zip", "min", "max", "isinstance", "repr", "str", "print"})


def _changed_names(tree: ast.Module) -> set[str]:
    """Module names whose value may change after their binding: mutated in place (`X.append`, `X[k]
    = v`, `X += ...`), declared `global` somewhere, or handed to a call that may keep and change it
    (anything but a reader such as `len`/`sorted`)."""
    changed: set[str] = set()
    for node in every_node(tree):
        if isinstance(node, ast.Global):
            changed.update(node.names)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            changed.add(node.target.id)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
            if isinstance(node.value, ast.Name):
                changed.add(node.value.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in _MUTATORS:
            changed.add(node.value.id)
        elif isinstance(node, ast.Call):
            reader = isinstance(node.func, ast.Name) and node.func.id in _READERS
            if not reader:
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    if isinstance(arg, ast.Starred):
                        arg = arg.value
                    if isinstance(arg, ast.Name):
                        changed.add(arg.id)
    return changed


def _loop_term(iterable: ast.expr) -> Term:
    if isinstance(iterable, ast.Name):
        return (("iter", iterable.id),)  # a sequence's entries or a dict's keys, told at resolution
    if (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute)
            and isinstance(iterable.func.value, ast.Name) and not iterable.args):
        if iterable.func.attr == "keys":
            return (("key", iterable.func.value.id),)
        if iterable.func.attr == "values":
            return (("elem", iterable.func.value.id),)
    return ANY


def _walk_function(func):
    """The nodes of a function body, nested functions and classes left out."""
    stack = list(func.body)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.append(child)


def _is_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value == 0


def _splits_at_dot(node: ast.expr) -> bool:
    """`x.split(".")`, `x.split(".", n)` or `x.partition(".")`: element 0 is the part before the
    first dot (the whole string when it has none), so it holds no dot."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.keywords):
        return False
    args = node.args
    if not args or not (isinstance(args[0], ast.Constant) and args[0].value == "."):
        return False
    if node.func.attr == "partition":
        return len(args) == 1
    return node.func.attr == "split" and (len(args) == 1 or (len(args) == 2 and isinstance(args[1], ast.Constant)
                                                             and type(args[1].value) is int and args[1].value != 0))
