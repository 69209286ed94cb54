"""What one file's code does with names that may make other code run (issue 24): the facts of the
project-wide "may run at import time" analysis (analysis/import_time.py).

A closed list of what is recorded, per context (module level and class bodies "", a function
"f", a method "C.m", a nested function "f.inner"):

- CALL  `name(...)`: a call of a name the file can spell as an absolute dotted name (a function or
  class of the file, a name an import binds, `self.m`/`cls.m` in a method), or of the context's
  parameter ("@p"). A decorator is a call of the decorator; `@factory(...)` a call of the factory
  and a call of what it returns ("factory()").
- USE   a name as a value, with where it goes (`how`): handed to a call ("arg:<callee>:<i>"),
  kept in a module-level name ("store:<name>": an element of the value assigned, or
  `NAME[k] = f`, `NAME.append(f)`...), returned ("return"), subscripted ("subscript": a class's
  `__class_getitem__`), an attribute read that calls nothing ("safe": `f.__name__`), or anything
  else ("value": it may be called by whoever gets it).
- DEF   every function definition, with its parameters.
- CLASS every class statement, with its bases and metaclass as dotted names (and "enum" when a
  base is spelled as one of the standard library's enums).
- LOOKUP a lookup of the module's namespace by a computed name (`globals()`, `vars()`,
  `sys.modules[...]`, `getattr(module, x)`, `exec`/`eval`): any function of the module may run.
- BIND  names bound at module level otherwise (only in a module with a `__getattr__`: a name it
  does not bind is served by `__getattr__`).

Everything else a name can do is "value" - the analysis takes it as a call (the closed world's safe
default); precision comes from the kinds above, each checked against CPython in the tests.
"""

from __future__ import annotations

import ast

from ..base.model import Effect, EffectKind, Guard, GuardKind

Guards = tuple[Guard, ...]

# Attribute reads of a function or class that call nothing of it.
_SAFE_ATTRIBUTES = frozenset({
    "__name__", "__qualname__", "__module__", "__doc__", "__wrapped__", "__annotations__", "__defaults__",
    "__code__", "__globals__", "__kwdefaults__", "__dict__", "__mro__", "__bases__", "__subclasses__",
})
_LOOKUP_CALLS = frozenset({"globals", "vars", "locals", "exec", "eval"})
_STORE_METHODS = frozenset({"append", "add", "insert", "extend", "update", "setdefault", "appendleft"})
# Builtin decorators that wrap without calling (a property runs when its attribute is read).
_WRAPPERS = frozenset({"property", "staticmethod", "classmethod"})
# Receivers whose methods are the builtins' own: `"".join(...)`, `[].append(...)`, `{}.get(...)`.
_LITERALS = (ast.Constant, ast.JoinedStr, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.SetComp,
             ast.DictComp)
_ENUMS = frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum", "EnumMeta", "EnumType"})


def effects(tree: ast.Module, module: str, bindings, guarded: list[tuple[ast.stmt, Guards]]) -> tuple[Effect, ...]:
    walk = _Effects(tree, module, bindings, guarded)
    try:
        walk.run(tree)
    except RecursionError:
        # Too deep to follow: what it does is not known, so any function of the module may run
        # on import (the closed world's default), and the facts found so far stand.
        walk.out.append(Effect(EffectKind.LOOKUP, "", module, 1, 1))
    return tuple(walk.out)


class _Effects:
    def __init__(self, tree: ast.Module, module: str, bindings, guarded) -> None:
        self.module = module
        self.bindings = bindings
        self.guards = {id(stmt): guards for stmt, guards in guarded}
        self.out: list[Effect] = []
        self.top: set[str] = set()  # module-level def/class names
        self.module_names: set[str] = set()  # every name bound at module level
        for stmt in tree.body:
            for name in _bound(stmt):
                self.module_names.add(name)
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.top.add(stmt.name)
        self.has_getattr = "__getattr__" in self.top
        self.local_defs: dict[str, str] = {}  # name -> absolute qualified name, in the function being walked
        self.class_locals: dict[str, str] = {}  # the same for the class body being walked
        # a function's local names -> what they may hold that the analysis can name ("K#instance",
        # a module-level table or instance): a method called on the local is theirs (_local_receivers)
        self.local_receivers: dict[str, tuple[str, ...]] = {}
        self.unused: set[int] = set()  # calls whose result is dropped or only bound to a name

    def run(self, tree: ast.Module) -> None:
        self.future = any(isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
                          and any(alias.name == "annotations" for alias in stmt.names) for stmt in tree.body)
        self._body(tree.body, "", (), frozenset(), ())

    # names

    def resolve(self, node: ast.expr, params: frozenset[str], klass: tuple[str, ...]) -> str | None:
        """The absolute dotted name an expression spells, "@p" for a parameter, None otherwise."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = node.id
        parts.reverse()
        if head in self.class_locals:
            return ".".join((self.class_locals[head], *parts))
        if head in self.local_defs:
            return ".".join((self.local_defs[head], *parts))
        if head in params:
            if head in ("self", "cls") and klass and parts:
                return ".".join((self.module, *klass, *parts))
            return f"@{head}" if not parts else None
        if head in self.top or (head in self.module_names and self.bindings.target(head) is None):
            return ".".join((self.module, head, *parts))
        absolute = self.bindings.absolute(head)
        if absolute is not None:
            return ".".join((absolute, *parts))
        return None

    def _named(self, value: ast.expr, params: frozenset[str], klass: tuple[str, ...]) -> bool:
        """A returned value the effects name: a constant (nothing to call), a lambda, a name or
        attribute it resolves, or what a call of a resolved (non-parameter) callee returns."""
        if isinstance(value, (ast.Constant, ast.Lambda)):
            return True
        if isinstance(value, (ast.Name, ast.Attribute)):
            return self.resolve(value, params, klass) is not None
        if isinstance(value, ast.Call) and isinstance(value.func, (ast.Name, ast.Attribute)):
            callee = self.resolve(value.func, params, klass)
            return callee is not None and not callee.startswith("@")
        return False

    # statements

    def _body(self, body, function: str, klass: tuple[str, ...], params: frozenset[str], scope: tuple[str, ...]) -> None:
        for stmt in body:
            self._stmt(stmt, function, klass, params, scope)

    def _emit(self, kind, function, name, node, guards, how="", extra=()) -> None:
        if how == "safe":
            return  # calls nothing: not a fact anyone needs
        self.out.append(Effect(kind, function, name, getattr(node, "lineno", 0), getattr(node, "col_offset", 0) + 1,
                               guards, how, extra))

    def _stmt(self, stmt: ast.stmt, function: str, klass, params, scope) -> None:
        guards = self.guards.get(id(stmt), ())
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self.unused.add(id(stmt.value))
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Call) and all(
                isinstance(t, ast.Name) for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])):
            self.unused.add(id(stmt.value))  # (an instance kept in a module-level name: _stored says so)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            qual = ".".join((*scope, stmt.name))
            args = stmt.args
            names = [a.arg for a in [*args.posonlyargs, *args.args]]
            inner_params = frozenset([*names, *(a.arg for a in args.kwonlyargs),
                                      *(a.arg for a in (args.vararg, args.kwarg) if a is not None)])
            self._emit(EffectKind.DEF, function, qual, stmt, guards, "method" if klass and scope == klass else "",
                       (*names, "=", *_inert_defaults(args)))
            for decorator in stmt.decorator_list:  # applied where the def runs
                self._decorator(decorator, f"{self.module}.{qual}", function, klass, params, guards)
            for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
                self._expr(default, function, klass, params, guards, "value")
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None and arg.annotation is not None:
                    self._annotation(arg.annotation, function, klass, params, guards)
            if stmt.returns is not None:
                self._annotation(stmt.returns, function, klass, params, guards)
            saved, saved_class = self.local_defs, self.class_locals
            self.local_defs = {**saved, **{name: f"{self.module}.{qual}.{name}" for name in _nested_defs(stmt)}}
            self.class_locals = {}  # a class body's names are not visible in its methods
            for name in inner_params:
                self.local_defs.pop(name, None)
            inner_class = klass if scope == klass else ()
            saved_receivers = self.local_receivers
            self.local_receivers = self._local_receivers(stmt, inner_params, inner_class, saved_receivers)
            self._body(stmt.body, qual, inner_class, inner_params, (*scope, stmt.name))
            self.local_defs, self.class_locals, self.local_receivers = saved, saved_class, saved_receivers
            return
        if isinstance(stmt, ast.ClassDef):
            qual = ".".join((*scope, stmt.name))
            bases = []
            for base in stmt.bases:
                target = base.value if isinstance(base, ast.Subscript) else base
                dotted = self.resolve(target, params, klass)
                bases.append(dotted or "?")
                if isinstance(base, ast.Subscript):
                    self._expr(base, function, klass, params, guards, "value")
                elif dotted is None:
                    self._expr(base, function, klass, params, guards, "value")
            extra = list(bases)
            for keyword in stmt.keywords:
                dotted = self.resolve(keyword.value, params, klass)
                if keyword.arg == "metaclass":
                    extra.append(f"metaclass={dotted or '?'}")
                else:
                    self._expr(keyword.value, function, klass, params, guards, "value")
            if any(_ENUMS & {b.rpartition(".")[2]} for b in bases) or any(
                    e.startswith("metaclass=") and e.rpartition(".")[2] in _ENUMS for e in extra):
                extra.append("enum")
            self._emit(EffectKind.CLASS, function, ".".join((self.module, *scope, stmt.name)), stmt, guards, "",
                       tuple(extra))
            for decorator in stmt.decorator_list:
                self._decorator(decorator, ".".join((self.module, *scope, stmt.name)), function, klass, params, guards)
            # the body runs where the class statement does; its methods are "Class.name"
            saved_class = self.class_locals
            prefix = ".".join((self.module, *scope, stmt.name))
            self.class_locals = {name: f"{prefix}.{name}" for sub in stmt.body for name in _bound(sub)}
            self._body(stmt.body, function, (*scope, stmt.name), params, (*scope, stmt.name))
            self.class_locals = saved_class
            return
        if function == "" and self.has_getattr and not klass:
            for name in _bound(stmt):
                if name not in self.top:
                    self._emit(EffectKind.BIND, "", name, stmt, guards)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            value = stmt.value
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            table = None
            if len(targets) == 1 and (not function or (klass and scope == klass)) and isinstance(targets[0], ast.Name):
                table = ".".join((self.module, *scope, targets[0].id))  # module level or a class body
            elif len(targets) == 1 and isinstance(targets[0], ast.Subscript):
                container = targets[0].value
                if isinstance(container, ast.Call) and _spelled(container.func) in ("globals", "vars") \
                        and not container.args:  # the module's namespace: a module-level name
                    key = targets[0].slice
                    literal = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else "?"
                    table = f"{self.module}.{literal}"
                    self._emit(EffectKind.LOOKUP, function, self.module, container, guards)
                else:
                    table = self.resolve(container, params, klass)
            for target in targets:  # a store reads the container only to write into it
                for part in _target_parts(target):
                    self._expr(part, function, klass, params, guards, "value")
            if isinstance(stmt, ast.AnnAssign) and not function:
                self._annotation(stmt.annotation, function, klass, params, guards)
            if value is not None:
                if table is not None and not table.startswith("@"):
                    self._stored(value, table, function, klass, params, guards)
                else:
                    self._expr(value, function, klass, params, guards, "value")
            return
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            value = stmt.value
            if isinstance(value, ast.Call) and isinstance(value.func, (ast.Name, ast.Attribute)):
                callee = self.resolve(value.func, params, klass)
                bound = _partial_of(value, callee)
                if bound is not None:
                    held = self.resolve(value.args[0], params, klass)
                    if held is not None and not held.startswith("@"):  # calling it calls `held`, shifted
                        self._emit(EffectKind.USE, function, held, value, guards, "return", bound)
                    else:
                        self._emit(EffectKind.USE, function, "?", stmt, guards, "return")
                elif callee is not None and not callee.startswith("@"):  # what that call returns, returned
                    self._emit(EffectKind.USE, function, f"{callee}()", value, guards, "return")
            self._expr(value, function, klass, params, guards, "return")
            if not self._named(value, params, klass):
                # a value it cannot name (a local, a conditional, what a parameter's call returns):
                # whoever calls the function may get anything (analysis/import_time.py `_passes`)
                self._emit(EffectKind.USE, function, "?", stmt, guards, "return")  # the statement's place: the
                # value's differs between `ast` and the view lowered from libcst (a parenthesised tuple)
            return
        if isinstance(stmt, (ast.For, ast.AsyncFor)) and (not function or (klass and scope == klass)):
            # a module-level (or class-body) loop variable is a module (class) name holding each
            # element in turn: `for k in [K(), L()]: k.m()` calls K's or L's m
            for name, held in self._loop_holds(stmt, params, klass, {}):
                table = ".".join((self.module, *scope, name))
                for value in held:
                    self._emit(EffectKind.USE, function, value, stmt.iter, guards, f"store:{table}")
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr in _STORE_METHODS:
                table = self.resolve(func.value, params, klass)
                if table is not None and not table.startswith("@") and table.startswith(self.module + "."):
                    for arg in [*call.args, *(k.value for k in call.keywords)]:
                        self._stored(arg, table, function, klass, params, guards)
                    return
        for name, value in ast.iter_fields(stmt):
            if isinstance(value, list):
                if value and isinstance(value[0], ast.stmt):
                    self._body(value, function, klass, params, scope)
                    continue
                for item in value:
                    self._field(item, function, klass, params, scope, guards)
            else:
                self._field(value, function, klass, params, scope, guards)

    def _field(self, item, function, klass, params, scope, guards) -> None:
        if isinstance(item, ast.expr):
            self._expr(item, function, klass, params, guards, "value")
        elif isinstance(item, ast.withitem):
            self._expr(item.context_expr, function, klass, params, guards, "value")
        elif isinstance(item, ast.excepthandler):
            if item.type is not None:
                self._expr(item.type, function, klass, params, guards, "safe")
            self._body(item.body, function, klass, params, scope)
        elif isinstance(item, ast.match_case):
            if item.guard is not None:
                self._expr(item.guard, function, klass, params, guards, "value")
            self._body(item.body, function, klass, params, scope)

    def _decorator(self, decorator, target, function, klass, params, guards) -> None:
        """`@decorator` on the definition `target` (absolute): a call of the decorator with it."""
        if isinstance(decorator, ast.Name) and decorator.id in _WRAPPERS and self.resolve(decorator, params, klass) is None:
            how = "property" if decorator.id == "property" else "safe"
            self._emit(EffectKind.USE, function, target, decorator, guards, how)
            return
        if (isinstance(decorator, ast.Attribute) and decorator.attr in ("setter", "getter", "deleter")
                and isinstance(decorator.value, ast.Name) and klass):
            self._emit(EffectKind.USE, function, target, decorator, guards, "property")
            return
        if isinstance(decorator, ast.Call):
            callee = self.resolve(decorator.func, params, klass)
            self._expr(decorator, function, klass, params, guards, "value")
            how = f"arg:{callee}():0" if callee is not None else "value"
            if callee is not None:
                self._emit(EffectKind.CALL, function, f"{callee}()", decorator, guards)
            # which of the factory's parameters this call fills: what it returns may be one of them
            self._emit(EffectKind.USE, function, target, decorator, guards, how, _filled(decorator))
            return
        callee = self.resolve(decorator, params, klass)
        if callee is None:
            self._expr(decorator, function, klass, params, guards, "value")
            self._emit(EffectKind.USE, function, target, decorator, guards, "value")
            return
        self._emit(EffectKind.CALL, function, callee, decorator, guards)
        self._emit(EffectKind.USE, function, target, decorator, guards, f"arg:{callee}:0")

    # expressions

    def _annotation(self, node: ast.expr, function, klass, params, guards) -> None:
        """An evaluated annotation: names are only read (a string is not evaluated); calls run, and
        a subscripted class runs its `__class_getitem__`. Under `from __future__ import annotations`
        nothing of it runs."""
        if self.future:
            return
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call):
                self._call(inner, function, klass, params, guards)
            elif isinstance(inner, ast.Subscript) and isinstance(inner.value, (ast.Name, ast.Attribute)):
                dotted = self.resolve(inner.value, params, klass)
                if dotted is not None:
                    self._emit(EffectKind.USE, function, dotted, inner.value, guards, "subscript")

    def _stored(self, value, table, function, klass, params, guards) -> None:
        """`value` kept in `table`: its names are stored there (elements of literals too)."""
        if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
            for element in value.elts:
                self._stored(element, table, function, klass, params, guards)
            return
        if isinstance(value, ast.Dict):
            for key, element in zip(value.keys, value.values):
                if key is not None:
                    self._expr(key, function, klass, params, guards, "value")
                self._stored(element, table, function, klass, params, guards)
            return
        if isinstance(value, (ast.Name, ast.Attribute)):
            dotted = self.resolve(value, params, klass)
            if dotted is not None:
                self._emit(EffectKind.USE, function, dotted, value, guards, f"store:{table}")
                return
        if isinstance(value, ast.Call):  # an instance kept: read later, it is used
            self._instance(value, function, klass, params, guards, f"store:{table}")
        self._expr(value, function, klass, params, guards, f"store:{table}" if isinstance(value, ast.Lambda) else "value")

    def _instance(self, call: ast.Call, function, klass, params, guards, how: str) -> None:
        """The instance `call` makes, kept or handed over (`how`): a use of it, where it is known
        (not an unknown call's result, not `super()`)."""
        made = self._receiver(call, params, klass)
        if made != "?" and not made.endswith("#super"):
            self._emit(EffectKind.USE, function, made, call, guards, how)

    def _expr(self, node: ast.expr, function, klass, params, guards, how: str) -> None:
        if isinstance(node, (ast.Name, ast.Attribute)):
            dotted = self.resolve(node, params, klass)
            if dotted is not None:
                self._emit(EffectKind.USE, function, dotted, node, guards, how)
                return
            if isinstance(node, ast.Attribute):
                if node.attr == "__dict__":
                    self._emit(EffectKind.LOOKUP, function, self.module, node, guards)
                inner = node.value
                if isinstance(inner, (ast.Name, ast.Attribute)):
                    dotted = self.resolve(inner, params, klass)
                    if dotted is not None:
                        self._emit(EffectKind.USE, function, dotted, inner, guards,
                                   "safe" if node.attr in _SAFE_ATTRIBUTES else "value")
                        return
                self._expr(inner, function, klass, params, guards, "value")
                receiver = self._receiver(inner, params, klass)
                if node.attr not in _SAFE_ATTRIBUTES and receiver != "?":
                    # an attribute of an object read (`K().m`): a bound method may be called later
                    self._emit(EffectKind.USE, function, f"{receiver}.{node.attr}", node, guards, "value")
            return
        if isinstance(node, ast.Call):
            self._call(node, function, klass, params, guards)
            return
        if isinstance(node, ast.Subscript):
            target = node.value
            if isinstance(target, ast.Call) and isinstance(target.func, ast.Name) and target.func.id in ("globals", "vars") \
                    and not target.args and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str) \
                    and self.bindings.target(target.func.id) is None and target.func.id not in self.module_names:
                # globals()["name"]: that one name, read
                self._emit(EffectKind.USE, function, f"{self.module}.{node.slice.value}", node, guards, how)
                return
            dotted = self.resolve(target, params, klass) if isinstance(target, (ast.Name, ast.Attribute)) else None
            if dotted is not None:
                self._emit(EffectKind.USE, function, dotted, target, guards, "subscript")
                if _is_modules(target):
                    self._emit(EffectKind.LOOKUP, function, self.module, node, guards)
            else:
                self._expr(target, function, klass, params, guards, "value")
            self._expr(node.slice, function, klass, params, guards, "value")
            return
        if isinstance(node, ast.Lambda):
            # a function of its own: its body runs when it is called; the lambda goes where `how` says
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
                self._expr(default, function, klass, params, guards, "value")
            args = node.args
            names = [a.arg for a in [*args.posonlyargs, *args.args]]
            inner = frozenset([*names, *(a.arg for a in args.kwonlyargs),
                               *(a.arg for a in (args.vararg, args.kwarg) if a is not None)])
            qual = f"{function}.<lambda:{node.lineno}:{node.col_offset}>" if function else \
                f"<lambda:{node.lineno}:{node.col_offset}>"
            self._emit(EffectKind.DEF, function, qual, node, guards, "", tuple(names))
            self._expr(node.body, qual, (), inner, guards, "return")
            if not self._named(node.body, inner, ()):
                self._emit(EffectKind.USE, qual, "?", node, guards, "return")
            self._emit(EffectKind.USE, function, f"{self.module}.{qual}", node, guards, how)
            return
        if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name) and not function and not klass:
            # `(k := K())` at module level binds a module-level name: it keeps the value
            self._stored(node.value, f"{self.module}.{node.target.id}", function, klass, params, guards)
            return
        pending = [node]  # operators, literals, comprehensions: their parts, without recursion
        while pending:
            current = pending.pop()
            identity = isinstance(current, ast.Compare) and all(isinstance(op, (ast.Is, ast.IsNot)) for op in current.ops)
            for child in ast.iter_child_nodes(current):
                if identity and isinstance(child, ast.Name):
                    continue  # `x is None` runs no code of x's (nor calls it)
                if isinstance(child, ast.comprehension):
                    pending.append(child.iter)
                    pending.extend(child.ifs)
                    continue
                if isinstance(child, ast.keyword):
                    child = child.value
                if not isinstance(child, ast.expr):
                    continue
                if isinstance(child, (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Lambda)):
                    self._expr(child, function, klass, params, guards, "value")
                else:
                    pending.append(child)

    def _call(self, call: ast.Call, function, klass, params, guards) -> None:
        func = call.func
        callee = self.resolve(func, params, klass) if isinstance(func, (ast.Name, ast.Attribute)) else None
        spelled = _spelled(func)
        if spelled in _LOOKUP_CALLS and isinstance(func, ast.Name) and self.bindings.target(spelled) is None \
                and spelled not in self.module_names:
            self._emit(EffectKind.LOOKUP, function, self.module, call, guards)
            if spelled != "globals" and (function or klass):  # exec/eval/vars/locals see the local names too
                body = ".".join(klass)
                local = body if klass and not function.startswith(body + ".") else function
                self._emit(EffectKind.LOOKUP, function, f"{self.module}.{local}", call, guards)
        elif spelled == "getattr" and isinstance(func, ast.Name) and call.args:
            owner, name = call.args[0], call.args[1] if len(call.args) > 1 else None
            dotted = self.resolve(owner, params, klass) if isinstance(owner, (ast.Name, ast.Attribute)) else None
            literal = name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else None
            if dotted is not None and not dotted.startswith("@") and literal is not None:
                self._emit(EffectKind.USE, function, f"{dotted}.{literal}", call, guards, "value")
            elif dotted is None and not _is_modules(owner) and self._receiver(owner, params, klass) != "?":
                # getattr(K(), "m"): its method m; getattr(K(), name): any method of it
                self._expr(owner, function, klass, params, guards, "value")
                self._emit(EffectKind.USE, function, f"{self._receiver(owner, params, klass)}.{literal or '*'}",
                           call, guards, "value")
            elif dotted in ("@self", "@cls") and klass and literal is None and owner.id in params:
                # getattr(self, computed) in a method: an attribute of the instance - a method of its
                # class, its bases or a subclass (values kept in its attributes were used when kept)
                self._emit(EffectKind.USE, function, f"{'.'.join((self.module, *klass))}#self.*", call, guards, "value")
            elif _is_modules(owner) and literal is not None and _own_module(owner):
                self._emit(EffectKind.USE, function, f"{self.module}.{literal}", call, guards, "value")
            elif _is_modules(owner) or dotted is None or literal is None:
                module = self.module
                if isinstance(owner, ast.Subscript) and isinstance(owner.slice, ast.Constant) \
                        and isinstance(owner.slice.value, str):
                    module = owner.slice.value
                elif dotted is not None and not dotted.startswith("@"):
                    module = dotted
                self._emit(EffectKind.LOOKUP, function, module, call, guards)
        if callee is not None:
            self._emit(EffectKind.CALL, function, callee, call, guards, "" if id(call) in self.unused else "used")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, (ast.Name, ast.Attribute)):
            owner = self.resolve(func.value, params, klass)
            if owner is not None:  # a method of a value: the value may be called through it
                self._emit(EffectKind.USE, function, owner, func.value, guards,
                           "safe" if func.attr in _SAFE_ATTRIBUTES else "value")
                if owner.startswith("@") and func.attr not in _SAFE_ATTRIBUTES:
                    # `p.m()` on a parameter: the m of what the callers hand over (analysis/import_time.py)
                    self._emit(EffectKind.CALL, function, f"{owner}.{func.attr}", call, guards)
            else:
                self._expr(func.value, function, klass, params, guards, "value")
                if isinstance(func.value, ast.Name) and func.attr not in _SAFE_ATTRIBUTES:
                    for held in self.local_receivers.get(func.value.id, ()):  # `k = K(); k.m()`
                        self._emit(EffectKind.CALL, function, f"{held}.{func.attr}", call, guards)
        elif isinstance(func, ast.Attribute) and not isinstance(func.value, _LITERALS):
            self._expr(func.value, function, klass, params, guards, "value")
            receiver = self._receiver(func.value, params, klass)
            if receiver != "?":  # X(...).m(), super().m(): that object's method m
                self._emit(EffectKind.CALL, function, f"{receiver}.{func.attr}", call, guards)
        elif isinstance(func, ast.Lambda):
            self._expr(func.body, function, klass, params, guards, "value")
        elif isinstance(func, ast.Call):
            self._call(func, function, klass, params, guards)
            inner = self.resolve(func.func, params, klass) if isinstance(func.func, (ast.Name, ast.Attribute)) else None
            if inner is not None:  # factory(...)(...): what the factory returns is called
                self._emit(EffectKind.CALL, function, f"{inner}()", call, guards)
        else:
            self._expr(func, function, klass, params, guards, "value")
        label = callee if callee is not None else (spelled or "?")
        if callee is None and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            receiver = self._receiver(func.value, params, klass)
            if receiver != "?":  # `R().run(x)`, `super().__init__(x)`: that object's method gets x
                label = f"{receiver}.{func.attr}"
        for index, arg in enumerate(call.args):
            value = arg.value if isinstance(arg, ast.Starred) else arg
            self._arg(value, f"arg:{label}:{index}", function, klass, params, guards)
        for keyword in call.keywords:
            self._arg(keyword.value, f"arg:{label}:{keyword.arg or '**'}", function, klass, params, guards)

    def _held(self, value: ast.expr, params, klass, local: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
        """What a value may be that the analysis can name: an instance (`K()`, "K#instance"), a
        name it resolves (a module-level table, class or instance), a local's own (`local`), and
        the elements of a literal list, tuple or set of those; () when nothing is known."""
        if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
            return tuple(h for element in value.elts for h in self._held(element, params, klass, local))
        if isinstance(value, ast.Call):
            made = self._receiver(value, params, klass)
            return (made,) if made != "?" else ()
        if isinstance(value, ast.Name) and value.id in local:
            return local[value.id]
        if isinstance(value, (ast.Name, ast.Attribute)):
            dotted = self.resolve(value, params, klass)
            return (dotted,) if dotted is not None and not dotted.startswith("@") else ()
        return ()

    def _loop_holds(self, loop, params, klass, local) -> list[tuple[str, tuple[str, ...]]]:
        """(loop variable, what it may hold) for a `for` over a literal, a named table or a local
        (`.values()`/`.keys()` of one too; `.items()` gives the second of a pair)."""
        source, target = loop.iter, loop.target
        if isinstance(source, ast.Call) and isinstance(source.func, ast.Attribute) and not source.args \
                and source.func.attr in ("values", "keys", "items"):
            if source.func.attr == "items":
                if not (isinstance(target, ast.Tuple) and len(target.elts) == 2):
                    return []
                target = target.elts[1]
            source = source.func.value
        if not isinstance(target, ast.Name):
            return []
        held = self._held(source, params, klass, local)  # a named table: its stores name its elements
        return [(target.id, held)] if held else []

    def _local_receivers(self, function, params, klass, enclosing) -> dict[str, tuple[str, ...]]:
        """A function's local names -> every value the analysis can name that a binding in its own
        body gives them (`k = K()`, `for k in [K(), L()]`, `for k in TABLE`, `k = other_local`), the
        enclosing function's too (a closure reads them). Every binding adds: a local bound also to
        something unknown keeps what is known (the unknown part stays the known gap, docs/guards.md)."""
        bindings: list[tuple[str, object]] = []
        pending = list(function.body)
        while pending:
            node = pending.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                bindings += [(t.id, node.value) for t in targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                bindings.append((node.target.id, node.value))
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                bindings.append(("", node))
            pending.extend(ast.iter_child_nodes(node))
        if not bindings:
            return enclosing
        local: dict[str, tuple[str, ...]] = {k: v for k, v in enclosing.items() if k not in params}
        for _ in range(4):  # locals read from locals: a few rounds reach a fixpoint in real code
            changed = False
            for name, value in bindings:
                found = self._loop_holds(value, params, klass, local) if not name else \
                    [(name, self._held(value, params, klass, local))]
                for target, held in found:
                    if target in params or not held:
                        continue
                    merged = tuple(dict.fromkeys((*local.get(target, ()), *held)))
                    if merged != local.get(target):
                        local[target] = merged
                        changed = True
            if not changed:
                break
        return local

    def _receiver(self, node: ast.expr, params, klass) -> str:
        """How the analysis names an object no name holds: "X#instance" for what calling the
        project's or an import's X returns, "C#super" for `super()` in a method of C, "?" otherwise
        (a parameter, a local, an element: a method called on it is not followed - docs/guards.md)."""
        if isinstance(node, ast.Call) and _spelled(node.func) == "super" and klass and not node.args \
                and self.resolve(node.func, params, klass) is None:
            return f"{'.'.join((self.module, *klass))}#super"  # the method of the class's bases
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            made = self.resolve(node.func, params, klass)
            if made is not None and not made.startswith("@"):
                return f"{made}#instance"
        return "?"

    def _arg(self, value, how, function, klass, params, guards) -> None:
        if isinstance(value, (ast.Name, ast.Attribute)):
            dotted = self.resolve(value, params, klass)
            if dotted is not None:
                self._emit(EffectKind.USE, function, dotted, value, guards, how)
                return
            if isinstance(value, ast.Name):  # a local handed over: what it holds
                for held in self.local_receivers.get(value.id, ()):
                    self._emit(EffectKind.USE, function, held, value, guards, how)
        elif isinstance(value, ast.Call):  # `f(K())`: the instance handed over
            self._instance(value, function, klass, params, guards, how)
        self._expr(value, function, klass, params, guards, how if isinstance(value, ast.Lambda) else "value")


def _nested_defs(func) -> list[str]:
    """Names of the functions and classes defined directly in a function's body (any block)."""
    found, pending = [], list(func.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append(node.name)
            continue
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            pending.extend(getattr(node, name, ()) or ())
    return found


def _spelled(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_modules(node: ast.expr) -> bool:
    """`sys.modules` or `sys.modules[...]`."""
    if isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Attribute) and node.attr == "modules" and isinstance(node.value, ast.Name) \
        and node.value.id == "sys"


def _target_parts(target: ast.expr):
    """The expressions an assignment target evaluates besides the container it writes into."""
    if isinstance(target, ast.Subscript):
        if not isinstance(target.value, (ast.Name, ast.Attribute)):
            yield target.value
        yield target.slice
    elif isinstance(target, ast.Attribute):
        if not isinstance(target.value, (ast.Name, ast.Attribute)):
            yield target.value
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _target_parts(element)
    elif isinstance(target, ast.Starred):
        yield from _target_parts(target.value)


def _own_module(node: ast.Subscript) -> bool:
    """`sys.modules[__name__]`."""
    return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Name) and node.slice.id == "__name__"


def _bound(stmt: ast.stmt):
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield stmt.name
        return
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            if alias.name != "*":
                yield (alias.asname or alias.name).split(".")[0]
        return
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            yield node.id
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not stmt:
            yield node.name


def function_guarded(guards: Guards) -> bool:
    return any(g.kind is GuardKind.FUNCTION for g in guards)


def _inert_defaults(args: ast.arguments) -> list[str]:
    """The parameters whose default is a constant (`None`, a number, a string): a function that
    returns such a parameter, called without it, returns that constant, and calling a constant
    calls nothing (CPython raises TypeError)."""
    positional = [*args.posonlyargs, *args.args]
    pairs = [*zip(positional[len(positional) - len(args.defaults):], args.defaults),
             *zip(args.kwonlyargs, args.kw_defaults)]
    return [arg.arg for arg, default in pairs if isinstance(default, ast.Constant)]


def _filled(call: ast.Call) -> tuple[str, ...]:
    """("call", positions and keywords a call fills); "*" when `*args`/`**kwargs` may fill any."""
    filled = ["call"]
    for index, arg in enumerate(call.args):
        filled.append("*" if isinstance(arg, ast.Starred) else str(index))
    filled += [k.arg if k.arg is not None else "*" for k in call.keywords]
    return tuple(filled)


def _partial_of(value: ast.Call, callee: str | None) -> tuple[str, ...] | None:
    """("partial", n, keywords...) for `functools.partial(f, a1..an, k=v)` with no `*`/`**`: calling
    it calls f with n arguments before the caller's; None for any other call."""
    if callee != "functools.partial" or not value.args or not isinstance(value.args[0], (ast.Name, ast.Attribute)):
        return None
    if any(isinstance(a, ast.Starred) for a in value.args) or any(k.arg is None for k in value.keywords):
        return None
    return ("partial", str(len(value.args) - 1), *(k.arg for k in value.keywords))
