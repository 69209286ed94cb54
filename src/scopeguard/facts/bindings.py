"""Import bindings: which local name an import statement binds to which module or object.

The one place import aliases are tracked: the name collector follows them to name monkeypatched
modules, the guard walk asks which names are importlib's import_module/find_spec.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable


def resolve_relative(module: str, is_package: bool, level: int, written: str) -> str | None:
    """The absolute module of `from <level dots><written> import ...` inside `module`.

    Inside `pkg/__init__.py` (module `pkg`) one dot means `pkg` itself, elsewhere the parent.
    None when the dots climb above the top-level package.
    """
    if level == 0:
        return written
    parts = module.split(".") if module else []
    base = parts if is_package else parts[:-1]
    if level - 1 > len(base) - 1 or not base:
        return None
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([written] if written else []))


# Calls that import (or probe for) a module by name; local names bound to them are found below.
IMPORT_MODULE = "importlib.import_module"
FIND_SPEC = "importlib.util.find_spec"
DYNAMIC_IMPORT_NAMES = frozenset({"import_module", "__import__", "find_spec"})


class ImportBindings:
    """Every (local name, absolute dotted target) an import statement binds, in source order.

    `import a.b` binds `a` to `a`; `import a.b as c` binds `c` to `a.b`; `from a import b as c`
    binds `c` to `a.b` (relative imports resolved; star imports bind nothing known).
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.pairs = list(pairs)
        self._last = dict(self.pairs)

    @classmethod
    def of(cls, statements: Iterable[ast.stmt], module: str, is_package: bool) -> ImportBindings:
        pairs = []
        for stmt in statements:
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        pairs.append((alias.asname, alias.name))
                    else:
                        head = alias.name.split(".", 1)[0]
                        pairs.append((head, head))
            elif isinstance(stmt, ast.ImportFrom):
                base = resolve_relative(module, is_package, stmt.level, stmt.module or "")
                if base is None:
                    continue
                for alias in stmt.names:
                    if alias.name != "*":
                        pairs.append((alias.asname or alias.name, f"{base}.{alias.name}" if base else alias.name))
        return cls(pairs)

    def target(self, name: str) -> str | None:
        """What `name` was last bound to by an import."""
        return self._last.get(name)

    def names_for(self, target: str) -> frozenset[str]:
        """Every local name any import binds to `target`."""
        return frozenset(local for local, bound in self.pairs if bound == target)

    def absolute(self, dotted: str | None) -> str | None:
        """`dotted` with its first name replaced by what an import bound it to; None if not imported."""
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        base = self._last.get(head)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base

    def dynamic_callees(self) -> frozenset[str]:
        """Call names worth a look as dynamic imports: import_module/__import__/find_spec and the
        local names bound to them (`from importlib import import_module as load`)."""
        return DYNAMIC_IMPORT_NAMES | self.names_for(IMPORT_MODULE) | self.names_for(FIND_SPEC)


# --- name bindings per scope (the toggle evaluation's view of the file) ---------------------------
#
# Flow-insensitive on purpose: every binding a name receives anywhere in its scope is one of the
# values it may hold where it is read (a union), so a rebinding before or after a test, in a branch
# or in a function declaring `global`, is never missed. Python's scoping rules decide which scope a
# name belongs to: a name bound anywhere in a function is local to all of it; class bodies are not
# seen from the functions inside them.

IMPORTED = "import"  # payload: the absolute dotted name bound (`from a import b as c` -> "a.b")
ASSIGNED = "expr"  # payload: the expression assigned (evaluated in the binding's scope)
OPAQUE = "unknown"  # parameters, loop/with/except targets, unpacking, augmented assignment
DEFINED = "def"  # a function defined here
CLASS = "class"  # payload: the class body's Scope


class Scope:
    """One Python scope: its bindings, `global` names, and its parent."""

    __slots__ = ("kind", "parent", "names", "globals", "star", "dynamic")

    def __init__(self, kind: str, parent: Scope | None) -> None:
        self.kind = kind  # "module" | "function" | "class"
        self.parent = parent
        self.names: dict[str, list[tuple[str, object, Scope]]] = {}
        self.globals: set[str] = set()
        self.star = False  # `from x import *` here: any free name may be bound by it
        # module scope only: a write to the namespace by a name not known (`globals().update(d)`,
        # `exec(code)`, `globals()[key] = v`): every module-level or free name may hold anything
        self.dynamic = False

    def bind(self, name: str, kind: str, payload: object = None, where: Scope | None = None) -> None:
        self.names.setdefault(name, []).append((kind, payload, where or self))


class FileBindings:
    """Every scope of one libcst module and the bindings in each; where the expressions the guard
    walk asks about (tests, decorators, calls ending a block) live. Built once per file that can
    mention a toggle."""

    def __init__(self, tree, module: str, is_package: bool, walrus=False) -> None:
        """`walrus`: the file's `ast` module (or True) when it may hold `:=`; its top-level
        statements that do are found with it (a whole-tree libcst visit costs ~0.5 s on an
        8,000-line file)."""
        import libcst as cst

        self._cst = cst
        self.module_name = module
        self.is_package = is_package
        self.module = Scope("module", None)
        self.scopes: list[Scope] = [self.module]
        self.where: dict[int, Scope] = {}  # id(expression node) -> the scope it is evaluated in
        self.attributes: list[tuple[object, object, Scope]] = []  # `x.y = value` targets
        self._attr_index: dict[str, list[tuple[str, object, Scope]]] | None = None
        self.functions: dict[int, Scope] = {}
        self._block(tree.body, self.module)
        if walrus:
            self._walrus(tree, walrus)

    # -- questions ------------------------------------------------------------------------------

    def scope_of(self, node) -> Scope | None:
        return self.where.get(id(node))

    def lookup(self, name: str, scope: Scope | None) -> list[tuple[str, object, Scope]] | None:
        """The bindings `name` may have where read in `scope` (None: anywhere in the file); None
        when the file binds it nowhere that the read can see (a builtin, or a star import)."""
        if scope is None:
            found = [b for s in self.scopes for b in s.names.get(name, ())]
            return self._dynamic(found or None)
        s, first = scope, True
        while s is not None:
            if s.kind == "class" and not first:
                s = s.parent
                continue
            if name in s.globals:
                return self._dynamic(self.module.names.get(name))
            if name in s.names:
                return s.names[name] if s is not self.module else self._dynamic(s.names[name])
            first = False
            s = s.parent
        return self._dynamic(None)

    def _dynamic(self, found):
        """A module-level (or free) name's bindings, with an unknown one when the namespace is
        written by names the analysis cannot see (namespace_writes: "*")."""
        if not self.module.dynamic:
            return found
        return [*(found or ()), (OPAQUE, None, self.module)]

    def attribute_bindings(self, dotted: str, resolve) -> list[tuple[str, object, Scope]]:
        """Assignments `a.b = value` in the file whose target resolves (by `resolve`) to `dotted`."""
        if self._attr_index is None:
            index: dict[str, list] = {}
            for base, (attr, value), scope in self.attributes:
                for name in resolve(base, scope):
                    binding = (ASSIGNED, value, scope) if value is not None else (OPAQUE, None, scope)
                    index.setdefault(f"{name}.{attr}", []).append(binding)
            self._attr_index = index
        return self._attr_index.get(dotted, [])

    # -- the pass -------------------------------------------------------------------------------

    def _block(self, statements, scope: Scope) -> None:
        cst = self._cst
        for stmt in statements:
            if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                for small in stmt.body:
                    self._small(small, scope)
            else:
                self._compound(stmt, scope)

    def _suite(self, suite, scope: Scope) -> None:
        cst = self._cst
        self._block(suite.body if isinstance(suite, cst.IndentedBlock) else [suite], scope)

    def _bind(self, scope: Scope, name: str, kind: str, payload: object = None) -> None:
        target = self.module if name in scope.globals else scope
        target.bind(name, kind, payload, scope)

    def _target(self, target, scope: Scope, value=None) -> None:
        cst = self._cst
        if isinstance(target, cst.Name):
            if value is None:
                self._bind(scope, target.value, OPAQUE)
            else:
                self._bind(scope, target.value, ASSIGNED, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._target(element.value, scope)
        elif isinstance(target, cst.StarredElement):
            self._target(target.value, scope)
        elif isinstance(target, cst.Attribute):
            self.attributes.append((target.value, (target.attr.value, value), scope))
        elif isinstance(target, cst.Subscript) and _is_call_to(target.value, ("globals", "vars", "locals")):
            # `globals()["NAME"] = value` binds a module name (vars()/locals(): treated alike).
            key = _literal_key(target)
            if key is not None:
                self.module.bind(key, ASSIGNED if value is not None else OPAQUE, value, scope)

    def _small(self, small, scope: Scope) -> None:
        cst = self._cst
        if isinstance(small, cst.Import):
            for alias in small.names:
                name = _dotted(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._bind(scope, alias.asname.name.value, IMPORTED, name)
                else:
                    head = name.split(".", 1)[0]
                    self._bind(scope, head, IMPORTED, head)
        elif isinstance(small, cst.ImportFrom):
            level = len(small.relative)
            written = _dotted(small.module) if small.module is not None else ""
            base = resolve_relative(self.module_name, self.is_package, level, written)
            if isinstance(small.names, cst.ImportStar):
                scope.star = True
                return
            for alias in small.names:
                name = _dotted(alias.name)
                local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
                self._bind(scope, local, IMPORTED if base is not None else OPAQUE,
                           (f"{base}.{name}" if base else name) if base is not None else None)
        elif isinstance(small, cst.Assign):
            for target in small.targets:
                self._target(target.target, scope, small.value)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self._target(small.target, scope, small.value)
        elif isinstance(small, cst.AugAssign):
            self._target(small.target, scope)
        elif isinstance(small, cst.Global):
            scope.globals.update(n.name.value for n in small.names)
        elif isinstance(small, cst.Nonlocal):
            parent = scope.parent
            while parent is not None and parent.kind == "class":
                parent = parent.parent
            for n in small.names:
                if parent is not None:
                    parent.bind(n.name.value, OPAQUE)
        elif isinstance(small, cst.Del):
            for name in _deleted_names(small.target, cst):
                self._bind(scope, name, OPAQUE)
        if not isinstance(small, (cst.Import, cst.ImportFrom, cst.Del)):
            for name in namespace_writes(small):
                if name == "*":
                    self.module.dynamic = True
                else:
                    self.module.bind(name, OPAQUE, None, scope)
        if isinstance(small, cst.Expr):
            if isinstance(small.value, cst.Call):
                call = small.value
                self.where[id(call.func)] = scope
                self.where[id(call)] = scope
                if isinstance(call.func, cst.Name) and call.func.value == "setattr" and len(call.args) == 3:
                    # `setattr(obj, "NAME", value)`: as `obj.NAME = value`.
                    attr = call.args[1].value
                    if isinstance(attr, cst.SimpleString) and isinstance(attr.evaluated_value, str):
                        self.attributes.append((call.args[0].value, (attr.evaluated_value, call.args[2].value), scope))

    def _compound(self, stmt, scope: Scope) -> None:
        cst = self._cst
        if isinstance(stmt, cst.If):
            self.where[id(stmt.test)] = scope
            self._suite(stmt.body, scope)
            orelse = stmt.orelse
            if isinstance(orelse, cst.If):
                self._compound(orelse, scope)
            elif orelse is not None:
                self._suite(orelse.body, scope)
        elif isinstance(stmt, cst.FunctionDef):
            for decorator in stmt.decorators:
                self.where[id(decorator)] = scope
                self.where[id(decorator.decorator)] = scope
            self._bind(scope, stmt.name.value, DEFINED, stmt)
            inner = Scope("function", scope)
            self.scopes.append(inner)
            self.functions[id(stmt)] = inner
            params = stmt.params
            for group in (params.params, params.posonly_params, params.kwonly_params):
                for param in group:
                    inner.bind(param.name.value, OPAQUE)
            for star in (params.star_arg, params.star_kwarg):
                if isinstance(star, cst.Param):
                    inner.bind(star.name.value, OPAQUE)
            self._suite(stmt.body, inner)
        elif isinstance(stmt, cst.ClassDef):
            for decorator in stmt.decorators:
                self.where[id(decorator)] = scope
                self.where[id(decorator.decorator)] = scope
            inner = Scope("class", scope)
            self.scopes.append(inner)
            self._bind(scope, stmt.name.value, CLASS, inner)
            self._suite(stmt.body, inner)
        elif isinstance(stmt, cst.While):
            self.where[id(stmt.test)] = scope
            self._suite(stmt.body, scope)
            if stmt.orelse is not None:
                self._suite(stmt.orelse.body, scope)
        elif isinstance(stmt, cst.For):
            self._target(stmt.target, scope)
            self._suite(stmt.body, scope)
            if stmt.orelse is not None:
                self._suite(stmt.orelse.body, scope)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                self.where[id(item.item)] = scope
                if item.asname is not None:
                    self._target(item.asname.name, scope)
            self._suite(stmt.body, scope)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            self._suite(stmt.body, scope)
            for handler in stmt.handlers:
                if handler.name is not None:
                    self._target(handler.name.name, scope)
                self._suite(handler.body, scope)
            for part in (stmt.orelse, stmt.finalbody):
                if part is not None:
                    self._suite(part.body, scope)
        elif isinstance(stmt, cst.Match):
            self.where[id(stmt.subject)] = scope
            for case in stmt.cases:
                for node in _pattern_names(case.pattern, cst):
                    self._bind(scope, node, OPAQUE)
                self._suite(case.body, scope)
        else:
            body = getattr(stmt, "body", None)
            if body is not None and hasattr(body, "body"):
                self._suite(body, scope)

    def _walrus(self, tree, parsed) -> None:
        """`(name := value)` binds name in the enclosing function (or the module)."""
        cst = self._cst
        owner = self
        statements = _statements_with_walrus(tree, parsed) if parsed is not True else None

        class Finder(cst.CSTVisitor):
            def __init__(self) -> None:
                self.stack = [owner.module]

            def visit_FunctionDef(self, node) -> None:
                self.stack.append(owner.functions.get(id(node), self.stack[-1]))

            def leave_FunctionDef(self, node) -> None:
                self.stack.pop()

            def visit_NamedExpr(self, node) -> None:
                if isinstance(node.target, cst.Name):
                    scope = self.stack[-1]
                    owner._bind(scope, node.target.value, ASSIGNED, node.value)

        if statements is None:
            tree.visit(Finder())
            return
        for stmt in statements:
            stmt.visit(Finder())


def _statements_with_walrus(tree, parsed):
    """The top-level libcst statements holding a `:=`, found in the file's `ast` module `parsed`
    (the two trees' top-level statements pair up in order: a libcst line of `a; b` is two `ast`
    statements); None when they do not pair up (then the whole tree is visited)."""
    import ast

    import libcst as cst

    flat = parsed.body
    chosen, at = [], 0
    for stmt in tree.body:
        count = len(stmt.body) if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else 1
        if at + count > len(flat):
            return None
        if any(isinstance(n, ast.NamedExpr) for part in flat[at:at + count] for n in ast.walk(part)):
            chosen.append(stmt)
        at += count
    return chosen if at == len(flat) else None


# --- namespace writes the plain bindings above do not see (issue 24) -------------------------------
#
# A module's names are known only through the closed set of writes read above: assignment (plain,
# annotated, augmented, unpacking), `import`, `def`/`class`, `for`/`with`/`except` targets, walrus,
# `del`, `global`, `globals()["NAME"] = value` with a literal key. The writes below make a name (or,
# "*", every module-level name) unknown, flow-insensitively (everywhere in the file):
#   `globals()`/`vars()`/`locals()` mutated: `.update(...)`, `.setdefault(k, v)`, `.pop(k)`,
#     `.__setitem__(k, v)`, `.clear()`, `globals()[key] = ...` / `del globals()[key]` with a
#     computed key; `setattr(sys.modules[__name__], k, v)`;
#   `exec(code)`/`eval(code)` without a dict literal as globals: the names literal code binds
#     (assignments, `def`, `class`, imports, walrus), or "*" for code that is not a literal.

_NAMESPACE_CALLS = ("globals", "vars", "locals")
_NAMESPACE_METHODS = frozenset({"update", "setdefault", "pop", "__setitem__", "__delitem__", "clear", "popitem"})


def namespace_writes(small) -> set[str]:
    """The module-level names a small statement writes other than by a plain binding: {"*"} when
    it may write any name."""
    import libcst as cst

    found: set[str] = set()
    if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign, cst.Del)):
        targets = ([t.target for t in small.targets] if isinstance(small, cst.Assign)
                   else [small.target])
        for target in targets:
            for part in _target_parts(target, cst):
                if isinstance(part, cst.Subscript) and _is_call_to(part.value, _NAMESPACE_CALLS):
                    key = _literal_key(part)
                    found.add(key if key is not None else "*")
    for call in _calls_in(small, cst):
        func = call.func
        if (isinstance(func, cst.Attribute) and _is_call_to(func.value, _NAMESPACE_CALLS)
                and func.attr.value in _NAMESPACE_METHODS):
            if func.attr.value == "update" and call.args and all(a.keyword is not None for a in call.args):
                found.update(a.keyword.value for a in call.args)
            elif func.attr.value in ("setdefault", "pop", "__setitem__", "__delitem__") and call.args:
                from .syntax import string_value

                key = string_value(call.args[0].value)
                found.add(key if key is not None else "*")
            else:
                found.add("*")
        elif isinstance(func, cst.Name) and func.value == "setattr" and call.args and _is_this_module(call.args[0].value, cst):
            from .syntax import string_value

            key = string_value(call.args[1].value) if len(call.args) > 1 else None
            found.add(key if key is not None else "*")
        elif isinstance(func, cst.Name) and func.value in ("exec", "eval") and call.args:
            found |= _exec_writes(call, cst)
    return found


def _exec_writes(call, cst) -> set[str]:
    from .syntax import string_value

    scope = call.args[1].value if len(call.args) > 1 and call.args[1].keyword is None else None
    if scope is None:
        scope = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "globals"), None)
    if isinstance(scope, cst.Dict):
        return set()  # its own namespace
    text = string_value(call.args[0].value)
    if text is None:
        return {"*"}
    import ast

    try:
        tree = ast.parse(text, mode="eval" if call.func.value == "eval" else "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()  # raises when it runs
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add("*" if alias.name == "*" else (alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval", "globals", "setattr", "vars"):
            names.add("*")
    return names


def _target_parts(target, cst):
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _target_parts(element.value, cst)
    elif isinstance(target, cst.StarredElement):
        yield from _target_parts(target.value, cst)
    else:
        yield target


def _deleted_names(target, cst) -> list[str]:
    return [p.value for p in _target_parts(target, cst) if isinstance(p, cst.Name)]


def _is_this_module(node, cst) -> bool:
    """`sys.modules[__name__]` (the module itself)."""
    return (isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index)
            and isinstance(node.slice[0].slice.value, cst.Name) and node.slice[0].slice.value.value == "__name__")


def _calls_in(small, cst) -> list:
    """The call a small statement makes at its top: `f(...)`, `x = f(...)`, `return f(...)`
    (a write nested deeper in an expression is not looked for: a whole-tree visit per file is
    too slow for the cost of every file with a toggle)."""
    value = getattr(small, "value", None)
    if isinstance(value, cst.Await):
        value = value.expression
    return [value] if isinstance(value, cst.Call) else []


def _is_call_to(node, names: tuple[str, ...]) -> bool:
    import libcst as cst

    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in names and not node.args


def _literal_key(subscript) -> str | None:
    import libcst as cst

    if len(subscript.slice) == 1 and isinstance(subscript.slice[0].slice, cst.Index):
        value = subscript.slice[0].slice.value
        if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
            return value.evaluated_value
    return None


def _dotted(node) -> str:
    import libcst as cst

    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _pattern_names(pattern, cst) -> list[str]:
    names: list[str] = []

    class Names(cst.CSTVisitor):
        def visit_MatchAs(self, node) -> None:
            if node.name is not None:
                names.append(node.name.value)

        def visit_MatchStar(self, node) -> None:
            if node.name is not None:
                names.append(node.name.value)

        def visit_MatchMapping(self, node) -> None:
            if node.rest is not None:
                names.append(node.rest.value)

    pattern.visit(Names())
    return names
