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
from .bindings import IMPORT_MODULE, ImportBindings
from .strings import template_of, template_start

ANY: Term = (("any", ""),)
_MAX_PARTS = 8


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
        self._collect_module_level(tree)

    # module level

    def _collect_module_level(self, tree: ast.Module) -> None:
        counts: dict[str, int] = {}
        for stmt in tree.body:
            for name in _bound_names(stmt):
                counts[name] = counts.get(name, 0) + 1
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.local_functions.add(stmt.name)
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
            table = _table(name, value)
            if table is not None:
                self.tables.append(table)
                self.table_names[name] = "dict" if isinstance(value, ast.Dict) else "seq"

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
                return  # nested functions: their calls are not followed
            params = tuple(a.arg for a in [*stmt.args.posonlyargs, *stmt.args.args, *stmt.args.kwonlyargs])
            inner_local = _LazyLocals(stmt)  # worked out only if a term reads a local name
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
        if is_import:
            if not call.args:
                return
            term = self.term(call.args[0], local, narrowed)
            if all(kind == "lit" for kind, _ in term):
                return  # a literal: an import site already
            package: Term = ()
            if isinstance(func, ast.Attribute) or func.id != "__import__":
                arg = call.args[1] if len(call.args) > 1 else next(
                    (k.value for k in call.keywords if k.arg == "package"), None)
                if arg is not None:
                    package = self.term(arg, local, narrowed)
            if function and any(kind == "item" for kind, _ in term):
                info = getattr(self, "_current_info", None)
                if info is not None:
                    info["lookup"] = next(text.partition("|")[2] for kind, text in term if kind == "item")
            self.dynamic.append(DynamicImportFact(function, call.lineno, call.col_offset + 1, term, package, guards))
            return
        runs = self.bindings.absolute(dotted)
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

    def term(self, expr: ast.expr, local, narrowed, depth: int = 0) -> Term:
        if depth > 6:
            return ANY
        if isinstance(expr, ast.Constant):
            return (("lit", expr.value),) if isinstance(expr.value, str) else ANY
        if isinstance(expr, ast.Name):
            name = expr.id
            if name in narrowed:
                return narrowed[name]
            if name in local:
                value = local[name]
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

    __slots__ = ("_func", "_names")

    def __init__(self, func) -> None:
        self._func = func
        self._names: dict | None = None

    def _get(self) -> dict:
        if self._names is None:
            self._names = _function_locals(self._func)
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
    for node in _walk_function(func):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store):
                counts[node.id] = counts.get(node.id, 0) + 1
        elif isinstance(node, ast.Assign):
            if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                assigned[node.targets[0].id] = node.value
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            if isinstance(node.target, ast.Name):
                assigned[node.target.id] = ("for", node.iter)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                counts[name] = counts.get(name, 0) + 2
    local: dict[str, object] = {p: (("param", p),) for p in params}
    for name, count in counts.items():
        if name in params:
            local[name] = ANY  # a parameter rebound: unknown
        elif count == 1 and name in assigned:
            value = assigned[name]
            if isinstance(value, tuple):
                local[name] = _loop_term(value[1])
            else:
                local[name] = value
        else:
            local[name] = ANY
    return local


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
