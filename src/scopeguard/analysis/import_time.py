"""May it run at import time? One project-wide answer (issue 24), from every file's effects
(facts/effects.py), used by the graph (edges), the unknown-import verdicts and through them by
check, delete-plan and audit alike.

The closed world. Code runs at import time when it is module-level code (class bodies included) of
a module being imported, or when code that runs at import time
- calls it (a function, a method through `self`/`cls`, a class: its `__init__`/`__new__`, and -
  the instance now exists - every special method and property of the class and its project bases,
  which operators, `with`, `for`, hashing, truth tests and attribute reads may call),
- applies it as a decorator, or hands a function to a decorator or call that may call it: a project
  function that calls, passes on or otherwise uses its parameter as a value (not: returns it, keeps
  it in a module-level name, reads a harmless attribute); any callee outside the project except a
  closed list known not to call what it is given (`atexit.register`, `functools.wraps`, ...); for
  a project decorator factory (`@deco(n=6)`), what each `return` of it gives: a parameter the call
  does not fill whose default is a constant calls nothing, `functools.partial(f, a1..an)` hands the
  function to f's parameter n, a filled parameter or an unnamed value may call it,
- uses it as a value in any other way (the value may be called: stored in a module-level name that
  import-time code then reads, put in a literal, captured by a lambda, returned by a factory whose
  result is called),
- creates a class: its metaclass's `__new__`/`__init__`/`__prepare__`, its project bases'
  `__init_subclass__`; an enum class also builds its members (constructors and specials of the class
  and its project bases); subscripting a class runs `__class_getitem__`,
- looks up a module's namespace by computed name (`globals()`, `vars()`, `sys.modules[...]`,
  `getattr(module, name)`, `exec`/`eval`): every function and class of that module,
- imports a name a module does not bind from a module with a `__getattr__`.

Guards are carried along (each path's own; past three per function, unguarded), and so is the chain
of call sites. What comes out, per module B whose import reaches a function of module A: the import
sites inside that function, as edges from B at B's statement that starts the chain, with the chain
through A (`via`): the rules report them at B, the deletion simulation follows them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from ..base.model import MAIN, TYPE_CHECKING, Effect, EffectKind, FileFacts, Guard, GuardKind, ImportSite

_MAX_GUARD_VARIANTS = 3  # distinct guard stacks kept per function and origin; beyond, unguarded
_MAX_CHAIN = 24
_MAX_RESOLVE_DEPTH = 6

# Callees outside the project known not to call a function handed to them (before returning).
_NON_CALLING = frozenset({
    "isinstance", "issubclass", "hasattr", "getattr", "id", "repr", "str", "type", "callable", "len", "print",
    "staticmethod", "classmethod", "super", "vars", "dir", "hash",
    "atexit.register", "atexit.unregister", "functools.wraps", "functools.update_wrapper", "functools.lru_cache",
    "functools.cache", "functools.cached_property", "functools.singledispatch", "functools.singledispatchmethod",
    "abc.abstractmethod", "typing.overload", "typing.final", "typing.cast", "typing.no_type_check",
    "typing.runtime_checkable", "typing_extensions.overload", "typing_extensions.final", "typing_extensions.deprecated",
    "contextlib.contextmanager", "contextlib.asynccontextmanager", "dataclasses.dataclass",
    "dataclasses.fields", "dataclasses.is_dataclass", "enum.unique", "weakref.ref", "weakref.WeakMethod",
    "weakref.finalize", "inspect.signature", "inspect.getsource", "inspect.getfile", "inspect.isfunction",
    "inspect.isclass", "inspect.ismethod", "inspect.getmodule", "inspect.getdoc", "signal.signal",
    "warnings.warn", "logging.getLogger", "copy.copy", "copy.deepcopy", "pickle.dumps", "textwrap.dedent",
})
# Decorator factories outside the project whose result wraps (or marks) a function without calling it.
_NON_CALLING_FACTORIES = ("pytest.mark.", "pytest.fixture", "unittest.mock.patch", "unittest.skip",
                          "unittest.expectedFailure", "functools.wraps", "functools.lru_cache",
                          "functools.singledispatchmethod", "typing_extensions.deprecated", "warnings.deprecated")
_CLASS_LEVEL = ("__init_subclass__", "__class_getitem__", "__set_name__")


@dataclass(frozen=True, slots=True)
class Reached:
    """A function that may run while `origin`'s module is imported: the guards on the way and the
    call sites from `origin`'s statement to it ("path:line what")."""

    function: str  # absolute qualified name
    origin: str  # node whose module-level code starts the chain
    line: int  # the statement of `origin` that starts it
    column: int
    guards: tuple[Guard, ...]
    via: tuple[str, ...]


def analysis_of(files: dict[str, FileFacts], modules: frozenset[str]) -> ImportTime:
    """The analysis of these facts, built once per run: reachability asks it for edges, the
    unknown-import verdicts for the functions holding dynamic imports (same effects and sites,
    though `unresolved` may since have changed: the graph depends on neither)."""
    key = (modules, tuple(sorted((node, id(f.effects), id(f.sites), f.module, f.extra) for node, f in files.items())))
    global _LAST
    if _LAST is not None and _LAST[0] == key:
        _LAST[1].files = files
        return _LAST[1]
    analysis = ImportTime(files, modules)
    _LAST = (key, analysis)
    return analysis


_LAST: tuple | None = None


class ImportTime:
    """The analysis over one project's facts. `reached()` lists every (function, origin) found."""

    def __init__(self, files: dict[str, FileFacts], modules: frozenset[str]) -> None:
        self.files = files
        self.modules = modules
        self.by_module = {f.module: f for f in files.values() if not f.extra}
        self.effects: dict[tuple[str, str], list[Effect]] = {}  # (node, context) -> effects
        self.defs: dict[str, tuple[FileFacts, Effect]] = {}
        self.classes: dict[str, tuple[FileFacts, Effect]] = {}
        self.members: dict[str, dict[str, str]] = {}  # class -> {name: function}
        self.properties: set[str] = set()
        self.stores: dict[str, list[str]] = {}  # module-level name -> names kept in it
        self.bound: dict[str, set[str]] = {}  # module with __getattr__ -> names it binds
        for facts in files.values():
            prefix = facts.module
            for effect in facts.effects:
                self.effects.setdefault((facts.node, effect.function), []).append(effect)
                if effect.kind is EffectKind.DEF:
                    qualified = f"{prefix}.{effect.name}"
                    self.defs.setdefault(qualified, (facts, effect))
                    if effect.how == "method":
                        owner, _, name = qualified.rpartition(".")
                        self.members.setdefault(owner, {})[name] = qualified
                elif effect.kind is EffectKind.CLASS:
                    self.classes.setdefault(effect.name, (facts, effect))
                elif effect.kind is EffectKind.USE:
                    if effect.how == "property":
                        self.properties.add(effect.name)
                    elif effect.how.startswith("store:"):
                        self.stores.setdefault(effect.how[6:], []).append(effect.name)
                elif effect.kind is EffectKind.BIND and not facts.extra:
                    self.bound.setdefault(facts.module, set()).add(effect.name)
        self._attributes: dict[str, list[str]] = {}  # class -> classes of instances its body keeps
        for table, kept in self.stores.items():
            owner = table.rpartition(".")[0]
            if owner in self.classes:
                self._attributes.setdefault(owner, []).extend(k[:-9] for k in kept if k.endswith("#instance"))
        self._top_defs: dict[str, list[str]] = {}  # module -> its module-level functions
        for qualified, (owner, e) in self.defs.items():
            if "." not in e.name and not owner.extra:
                self._top_defs.setdefault(owner.module, []).append(qualified)
        self._top_classes: dict[str, list[str]] = {}
        for klass, (owner, e) in self.classes.items():
            if not owner.extra and klass.count(".") == owner.module.count(".") + 1:
                self._top_classes.setdefault(owner.module, []).append(klass)
        self._runs: dict[tuple, list[str]] = {}
        self._built: dict | None = None
        self._callers: dict[str, set[str]] | None = None  # function -> functions that may call it
        self._walked: tuple[set[str], list[Reached]] | None = None  # (wanted, what the walk found)
        self._kept_memo: dict[int, tuple[Effect, tuple[Guard, ...]]] = {}
        self._steps: dict[str, list[tuple]] = {}  # function -> its call edges, for the walk
        self._steps_for: set[str] | None = None  # ... to the functions of this relevant set
        self._stacks: list[tuple[Guard, ...]] = [()]  # guard stacks by number (the walk's)
        self._stack_numbers: dict[tuple[Guard, ...], int] = {(): 0}
        self._joined: dict[tuple[int, int, bool], int] = {}  # (stack, kept, entering) -> stack
        self._handed_index: dict[tuple[str, str], list[tuple[str, str]]] | None = None
        self._subclass_index: dict[str, list[str]] | None = None
        self._sites: dict[str, list[ImportSite]] | None = None
        self._returns: dict[str, list[str]] = {}
        self._resolved: dict[str, list[str]] = {}
        self._invokes: dict[tuple[str, str], bool] = {}
        self._param_stores()

    # names

    def resolve(self, dotted: str, depth: int = 0) -> str:
        """The project definition `dotted` names, through re-exports (`from .x import f`)."""
        if dotted in self.defs or dotted in self.classes or dotted in self.stores or depth > _MAX_RESOLVE_DEPTH:
            return dotted
        module, _, name = dotted.rpartition(".")
        facts = self.by_module.get(module)
        if facts is not None:
            for site in facts.sites:
                if site.name == name and site.target and not any(g.kind is GuardKind.FUNCTION for g in site.guards):
                    if f"{site.target}.{name}" in self.modules:
                        return f"{site.target}.{name}"  # a submodule
                    return self.resolve(f"{site.target}.{name}", depth + 1)
        elif module and depth < _MAX_RESOLVE_DEPTH:
            head = self.resolve(module, depth + 1)
            if head != module:
                return self.resolve(f"{head}.{name}", depth + 1)
        return dotted

    def called(self, dotted: str) -> list[str]:
        """The functions that calling `dotted` may run ("X()": what calling X's result runs)."""
        if dotted in self._resolved:
            return self._resolved[dotted]
        self._resolved[dotted] = []  # cycles: nothing more
        found: list[str] = []
        if dotted.endswith("#instance"):
            name = self.resolve(dotted[:-9])
            found += self._instance(name) if name in self.classes else []
        elif dotted.endswith("()"):
            for function in self.called(dotted[:-2]):
                for returned in self._returned(function):
                    found += self.called(returned)
        else:
            name = self.resolve(dotted)
            if name in self.defs:
                found.append(name)
            elif name in self.classes:
                found += self._instance(name)
            elif name in self.stores:
                for kept in self.stores[name]:
                    found += self.called(kept)
            else:
                found += self._served(name) or self._method(name)
        found = list(dict.fromkeys(found))
        self._resolved[dotted] = found
        return found

    def _method(self, name: str, depth: int = 0) -> list[str]:
        """`receiver.attr` that names no definition: a method of what the receiver holds - a
        project class's (or an instance's, `K().m`) own or its bases' `attr`, a `super()`'s,
        an instance a module-level name keeps, what a function returns (`make().m()`), a name a
        module binds by a star import; a local or loop variable arrives here as what it holds
        (facts/effects.py `_local_receivers`). A receiver nothing names ("?": a parameter, an
        element, an attribute of another object) is not followed: the known gap docs/guards.md names."""
        receiver, _, attr = name.rpartition(".")
        if not receiver or receiver == "?" or depth > _MAX_RESOLVE_DEPTH:
            return []
        if receiver.endswith("#self"):  # an instance of the class or of any subclass
            holder = self.resolve(receiver[:-5])
            if holder not in self.classes:
                return []
            classes = list(dict.fromkeys([*self._bases(holder), *self._subclasses(holder)]))
            if attr == "*":
                return [f for klass in classes for f in self.members.get(klass, {}).values()]
            return self._members(classes, (attr,))
        if receiver.endswith("#super"):
            holder = self.resolve(receiver[:-6])
            return self._members(self._bases(holder)[1:], (attr,)) if holder in self.classes else []
        instance = receiver.endswith(("#instance", "()"))
        base = receiver[:-9] if receiver.endswith("#instance") else receiver[:-2] if receiver.endswith("()") else receiver
        holder = self.resolve(base)
        if holder in self.classes:
            bases = self._bases(holder)
            if attr == "*":
                return [f for klass in bases for f in self.members.get(klass, {}).values()]
            return self._members(bases, (attr,))
        if instance and holder in self.defs:  # what the function returns, its method
            return [f for r in self._returned(holder) if r != "?" for f in self._method(f"{r}.{attr}", depth + 1)]
        if holder in self.modules:
            return self._starred(holder, attr)
        if holder in self.stores:
            return [f for kept in self.stores[holder] for f in self._method(f"{kept}.{attr}", depth + 1)]
        return []  # a value the analysis does not follow: the known gap (docs/guards.md)

    def _subclasses(self, klass: str) -> list[str]:
        """Every project class that has `klass` among its bases, at any depth."""
        if self._subclass_index is None:
            index: dict[str, list[str]] = {}
            for other in self.classes:
                for base in self._bases(other)[1:]:
                    index.setdefault(base, []).append(other)
            self._subclass_index = index
        return self._subclass_index.get(klass, [])

    def _starred(self, module: str, attr: str, depth: int = 0) -> list[str]:
        """`module.attr` where `module` binds `attr` by a star import (`from .ops import *`)."""
        facts = self.by_module.get(module)
        if facts is None or depth > _MAX_RESOLVE_DEPTH:
            return []
        for site in facts.sites:
            if site.name == "*" and site.target and not any(g.kind is GuardKind.FUNCTION for g in site.guards):
                found = self.called(f"{site.target}.{attr}") if f"{site.target}.{attr}" != f"{module}.{attr}" else []
                if found:
                    return found
        return []

    def _served(self, name: str) -> list[str]:
        """A name a module with `__getattr__` does not bind: its `__getattr__` serves it."""
        module, _, attr = name.rpartition(".")
        getter = f"{module}.__getattr__"
        if getter in self.defs and module in self.by_module and name not in self.modules \
                and attr not in self.bound.get(module, ()) and f"{module}.{attr}" not in self.defs \
                and f"{module}.{attr}" not in self.classes:
            return [getter]
        return []

    def _bases(self, klass: str, depth: int = 0) -> list[str]:
        """The class and its project bases (depth first, each once)."""
        out = [klass]
        if depth > 8 or klass not in self.classes:
            return out
        for base in self.classes[klass][1].extra:
            if base.startswith("metaclass=") or base == "enum":
                continue
            resolved = self.resolve(base)
            if resolved in self.classes and resolved not in out:
                out += [b for b in self._bases(resolved, depth + 1) if b not in out]
        return out

    def _metaclass(self, klass: str) -> str | None:
        for base in self._bases(klass):
            for item in self.classes[base][1].extra if base in self.classes else ():
                if item.startswith("metaclass="):
                    resolved = self.resolve(item[10:])
                    return resolved if resolved in self.classes else None
        return None

    def _instance(self, klass: str) -> list[str]:
        """Constructing `klass`: its constructors, and every special method and property of the
        instance (operators, protocols and attribute reads may run them from now on)."""
        found = []
        for base in self._bases(klass):
            for name, function in self.members.get(base, {}).items():
                if (name.startswith("__") and name.endswith("__") and name not in _CLASS_LEVEL) \
                        or function in self.properties:
                    found.append(function)
        return found + self._meta_members(klass, ("__call__",))

    def _constructed(self, klass: str) -> list[str]:
        """Building an instance that is not used yet: constructors, `__del__` and the metaclass's `__call__`."""
        return (self._members(self._bases(klass), ("__init__", "__new__", "__post_init__", "__del__"))
                + self._meta_members(klass, ("__call__",)))

    def _members(self, classes, names) -> list[str]:
        """The methods called `names` of each of `classes` (not their bases: callers pass those)."""
        return [f for klass in classes for n, f in self.members.get(klass, {}).items() if n in names]

    def _meta_members(self, klass: str, names) -> list[str]:
        """The methods called `names` of `klass`'s project metaclass itself."""
        meta = self._metaclass(klass)
        return self._members((meta,), names) if meta is not None else []

    def _created(self, klass: str) -> list[str]:
        """What a class statement runs: its metaclass, its bases' `__init_subclass__`, an enum's members."""
        meta = self._metaclass(klass)
        found = self._members(self._bases(meta), ("__new__", "__init__", "__prepare__")) if meta is not None else []
        bases = self._bases(klass)
        found += self._members(bases[1:], ("__init_subclass__",))
        for kept in self._attributes.get(klass, ()):  # instances in the class body: their __set_name__
            found += self._members(self._bases(self.resolve(kept)), ("__set_name__",))
        if klass in self.classes and any(self.classes[b][1].extra and "enum" in self.classes[b][1].extra
                                         for b in bases if b in self.classes):
            found += self._instance(klass)
        return found

    def _return_uses(self, function: str) -> list[Effect]:
        """The `return` uses of a project function (what it may give its caller)."""
        facts, effect = self.defs[function]
        return [e for e in self.effects.get((facts.node, effect.name), ()) if e.kind is EffectKind.USE
                and e.how == "return"]

    def _returned(self, function: str) -> list[str]:
        found = self._returns.get(function)
        if found is None:
            found = self._returns[function] = [
                e.name for e in self._return_uses(function) if not e.name.startswith("@")] or ["?"]
        return found

    def _returns_unknown(self, dotted: str) -> bool:
        """Whether calling `dotted` may give a value the effects do not name (a factory that returns
        a known decorator on one path, a local or its parameter on another, or nothing at all):
        what it returns may then call whatever it is handed."""
        function = self.resolve(dotted)
        if function in self.defs:  # a function (a class's instance: what its methods say, as before)
            returns = [e.name for e in self._return_uses(function)]
            if not returns or any(name == "?" or name.startswith("@") for name in returns):
                return True
        return False

    def _result_invokes(self, factory: str, position: str, filled: tuple[str, ...]) -> bool | None:
        """Whether what a call of the project function `factory` returns (the call filling the
        parameters `filled`: positions and keywords, "*" for any) may call a value handed to it at
        `position` — the decorator factory `@deco(n=6)` applied to a function. Return by return:
        a parameter the call does not fill, whose default is a constant, is that constant (calling
        it calls nothing); `functools.partial(f, a1..an)` calls f with the value at n + position;
        a parameter the call fills, or anything unnamed, may call it; a named value, what calling
        it runs. None when `factory` is no project function (the caller's general rule decides)."""
        function = self.resolve(factory)
        if function not in self.defs:
            return None
        returns = self._return_uses(function)
        if not returns:
            return True  # (returns None, or falls off the end: as the general rule says)
        inert = self._inert(function)
        params = self._params(function)
        for returned in returns:
            name = returned.name
            if name == "?" or (name.startswith("@") and "." in name):
                return True
            if name.startswith("@"):
                param = name[1:]
                if "*" in filled or param not in inert or param in filled or (
                        param in params and str(params.index(param)) in filled):
                    return True
                continue  # the constant default
            at = position
            if returned.extra[:1] == ("partial",):
                if position.isdigit():
                    at = str(int(returned.extra[1]) + int(position))
                elif position in returned.extra[2:]:
                    return True  # (a keyword the partial also binds: the caller's replaces it)
            targets = self.called(name)
            if not targets or any(t not in self.defs or self.invokes(t, at) for t in targets):
                return True
        return False

    # parameters

    def _params(self, function: str) -> list[str]:
        """The parameters a caller's positions fill (a method's `self`/`cls` left out)."""
        effect = self.defs[function][1]
        params = list(effect.extra)
        if "=" in params:  # (then the parameters whose default is a constant: _inert)
            params = params[:params.index("=")]
        if effect.how == "method" and params and params[0] in ("self", "cls"):
            params = params[1:]
        return params

    def _inert(self, function: str) -> set[str]:
        """The parameters whose default is a constant (facts/effects.py: after "=" in the def's extra)."""
        extra = self.defs[function][1].extra
        return set(extra[extra.index("=") + 1:]) if "=" in extra else set()

    def invokes(self, function: str, position: str) -> bool:
        """Whether `function` may call (or lose track of) what its caller hands it at `position`
        (an index or a keyword; one that matches no named parameter: any use counts)."""
        key = (function, position)
        if key in self._invokes:
            return self._invokes[key]
        self._invokes[key] = False  # a recursion: what the other uses say
        facts, effect = self.defs[function]
        params = self._params(function)
        if position.isdigit():
            name = params[int(position)] if int(position) < len(params) else None
        else:
            name = position if position in params else None
        answer = False
        for use in self.effects.get((facts.node, effect.name), ()):
            if not use.name.startswith("@") or (name is not None and use.name[1:] != name):
                continue
            if use.kind is EffectKind.CALL or (use.kind is EffectKind.USE and self._passes(use)):
                answer = True
                break
        self._invokes[key] = answer
        return answer

    def _passes(self, use: Effect) -> bool:
        """Whether handing a value over as `use` does may call it."""
        how = use.how
        if how in ("safe", "return", "property") or how.startswith("store:"):
            return False
        if how.startswith("arg:"):
            callee, _, position = how[4:].rpartition(":")
            if callee == "setattr" and position == "0":
                return False  # an attribute set on it
            if callee in _NON_CALLING or callee.rpartition(".")[2] in ("isinstance", "issubclass", "hasattr"):
                return False
            if callee.endswith("()") and callee[:-2] not in self.defs and any(
                    callee[:-2] == p or callee.startswith(p) for p in _NON_CALLING_FACTORIES):
                return False
            if callee.endswith("()") and use.extra[:1] == ("call",):
                answer = self._result_invokes(callee[:-2], position, use.extra[1:])
                if answer is not None:
                    return answer
            targets = self.called(callee) if callee and callee != "?" else []
            if not targets or callee.endswith("()") and self._returns_unknown(callee[:-2]):
                return True  # outside the project, or not known: it may call it
            return any(t in self.defs and self.invokes(t, position) for t in targets) or any(
                t not in self.defs for t in targets)
        return True  # "value", "subscript": it may be called

    def _param_stores(self) -> None:
        """A function that keeps its parameter in a module-level name keeps what its callers hand it."""
        keeps: dict[str, list[tuple[str, str]]] = {}  # function -> (param, table)
        for (node, context), items in self.effects.items():
            for use in items:
                if use.kind is EffectKind.USE and use.name.startswith("@") and use.how.startswith("store:"):
                    facts = self.files[node]
                    keeps.setdefault(f"{facts.module}.{context}", []).append((use.name[1:], use.how[6:]))
        if not keeps:
            return
        for items in list(self.effects.values()):
            for use in items:
                if use.kind is not EffectKind.USE or not use.how.startswith("arg:") or use.name.startswith("@"):
                    continue
                callee, _, position = use.how[4:].rpartition(":")
                for target in self.called(callee) if callee not in ("?", "") else ():
                    params = self._params(target) if target in keeps else []
                    for param, table in keeps.get(target, ()):
                        if (position.isdigit() and int(position) < len(params) and params[int(position)] == param) \
                                or position == param:
                            self.stores.setdefault(table, []).append(use.name)
        self._resolved.clear()

    # what one effect runs

    def runs(self, effect: Effect, facts: FileFacts) -> list[str]:
        if effect.kind is EffectKind.CALL and effect.name.startswith("@") and "." in effect.name:
            param, _, attr = effect.name[1:].partition(".")
            key = (effect.kind, effect.name, f"{facts.module}.{effect.function}")
            found = self._runs.get(key)
            if found is None:
                found = self._runs[key] = [
                    f for value in self._handed(f"{facts.module}.{effect.function}", param)
                    for f in self._method(f"{value}.{attr}")]
            return found
        key = (effect.kind, effect.name, effect.how)
        found = self._runs.get(key)
        if found is None:
            found = self._runs[key] = self._runs_uncached(effect)
        return found

    def _handed(self, function: str, param: str, depth: int = 0) -> list[str]:
        """What the callers of `function` hand it as `param`, when the effects name it (an instance
        `K#instance`, a module-level name, a class); a caller's own parameter handed on is what its
        callers hand it (a few levels). A value nothing names adds nothing: the known gap."""
        if self._handed_index is None:
            index: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for (node, context), items in self.effects.items():
                caller = f"{self.files[node].module}.{context}"
                for use in items:
                    if use.kind is not EffectKind.USE or not use.how.startswith("arg:"):
                        continue
                    callee, _, position = use.how[4:].rpartition(":")
                    if callee in ("?", "") or callee.startswith("@"):
                        continue
                    for target in self.called(callee):
                        if target not in self.defs:
                            continue
                        params = self._params(target)
                        # a keyword names its parameter (keyword-only ones are not in the DEF's list)
                        name = (params[int(position)] if int(position) < len(params) else None) \
                            if position.isdigit() else position if position != "**" else None
                        if name is not None:
                            index.setdefault((target, name), []).append((use.name, caller))
            self._handed_index = index
        found: list[str] = []
        for value, caller in self._handed_index.get((function, param), ()):
            if value.startswith("@"):
                if depth < _MAX_RESOLVE_DEPTH and "." not in value:
                    found += self._handed(caller, value[1:], depth + 1)
            else:
                found.append(value)
        return list(dict.fromkeys(found))

    def _runs_uncached(self, effect: Effect) -> list[str]:
        kind, how = effect.kind, effect.how
        if kind is EffectKind.CALL:
            if effect.name.startswith("@"):
                return []
            name = self.resolve(effect.name)
            if name in self.classes and how != "used":
                return self._constructed(name)  # the instance is dropped or kept in a name: built only
            return self.called(effect.name)
        if kind is EffectKind.CLASS:
            return self._created(effect.name)
        if kind is EffectKind.LOOKUP and effect.name not in self.by_module:
            # a function's or class body's own names (exec/eval/locals there): what it defines inside
            prefix = effect.name + "."
            found = [f for f in self.defs if f.startswith(prefix) and "." not in f[len(prefix):]]
            for klass in self.classes:
                if klass.startswith(prefix) and "." not in klass[len(prefix):]:
                    found += self._instance(klass)
            return found
        if kind is EffectKind.LOOKUP:
            module = effect.name
            found = [f for f in self._top_defs.get(module, ())]
            for klass in self._top_classes.get(module, ()):
                found += self._instance(klass)
            looked = self.by_module.get(module)
            for site in looked.sites if looked is not None else ():  # names the module imports
                if site.name and site.name != "*" and not _never(site.guards) \
                        and not any(g.kind is GuardKind.FUNCTION for g in site.guards):
                    found += self.called(f"{site.target}.{site.name}")
            return found
        if kind is not EffectKind.USE or effect.name.startswith("@"):
            return []
        if how.startswith("store:") or how == "return":
            # reading a name that holds an instance uses it (a descriptor's __get__, a property)
            name = self.resolve(effect.name)
            return [f for kept in self.stores.get(name, ()) if kept.endswith("#instance") for f in self.called(kept)]
        if how == "subscript":
            name = self.resolve(effect.name)
            if name in self.classes:
                return (self._members(self._bases(name), ("__class_getitem__",))
                        + self._meta_members(name, ("__getitem__",)))
            return self.called(effect.name) if name in self.stores else []
        if how == "value" or (how.startswith("arg:") and self._passes(effect)):
            name = self.resolve(effect.name)
            if name in self.stores or name in self.defs or name in self.classes:
                return self.called(effect.name)
            return self._served(name) or self._method(name)
        return []

    # the walk

    def unresolved_functions(self) -> set[str]:
        """Functions holding an unresolved dynamic import (what the unknown-import verdicts ask about)."""
        out = set()
        for facts in self.files.values():
            if facts.extra or not facts.unresolved:
                continue
            lines = self._def_lines(facts)
            for item in facts.unresolved:
                context = _context_of(item.guards, lines)
                if context:
                    out.add(f"{facts.module}.{context}")
        return out

    def reached(self, also: Iterable[str] = ()) -> list[Reached]:
        """Every function with import sites (and every one of `also`) that a module's import may run."""
        graph = self._graph()
        wanted = {*self.function_sites(), *also}
        # The walk enters only relevant functions, and what it finds for one of them depends only
        # on the paths to it, all of which run through relevant functions (a caller of a relevant
        # function is relevant), in the same order whatever else is relevant. So the walk over a
        # larger relevant set, filtered, is this walk: each call widens the one stored walk and the
        # next call that asks for no more is a filter (checked by tests/test_import_time_reached.py).
        # Only the functions asked about are kept: the functions in between are passed through, not
        # answered (on transformers a module's import passes ~40,000 of them; keeping each for each
        # of 2,951 modules exhausted 24 GB).
        # The functions holding an unresolved dynamic import are asked about in nearly every run
        # (the unknown-import verdicts): walked from the start, so that asking does not walk again
        # (a second whole walk on transformers: ~8 minutes).
        stored = self._walked
        if stored is None or not wanted <= stored[0]:
            wider = (wanted | self.unresolved_functions()) if stored is None else wanted | stored[0]
            relevant = self._relevant(graph, wider)
            found: list[Reached] = []
            shared: dict[tuple, list] = {}
            for node in sorted(self.files):
                if (node, "") in graph:
                    found += self._from(node, graph, relevant, wider, shared)
            stored = self._walked = (wider, found)
        if len(wanted) == len(stored[0]):
            return list(stored[1])
        return [item for item in stored[1] if item.function in wanted]

    def _graph(self) -> dict[tuple[str, str], list[tuple[str, Effect]]]:
        """context -> (function it may run, the effect that runs it), built once."""
        if self._built is not None:
            return self._built
        graph: dict[tuple[str, str], list[tuple[str, Effect]]] = {}
        for (node, context), items in self.effects.items():
            facts = self.files[node]
            out = []
            for effect in items:
                if _never(effect.guards):
                    continue
                for target in self.runs(effect, facts):
                    if target in self.defs:
                        out.append((target, effect))
            if out:
                graph[(node, context)] = out
        # from-imports of a name a module's __getattr__ serves
        for facts in self.files.values():
            for site in facts.sites:
                if site.name and site.name != "*" and not _never(site.guards):
                    for getter in self._served(f"{site.target}.{site.name}"):
                        context = _context_of(site.guards, self._def_lines(facts))
                        if context is not None:
                            graph.setdefault((facts.node, context), []).append(
                                (getter, _site_effect(site, context)))
        self._built = graph
        return graph

    def _def_lines(self, facts: FileFacts) -> dict[int, str]:
        cached = getattr(self, "_lines_cache", None)
        if cached is None:
            cached = self._lines_cache = {}
        if facts.node not in cached:
            cached[facts.node] = {e.line: e.name for e in facts.effects if e.kind is EffectKind.DEF}
        return cached[facts.node]

    def function_sites(self) -> dict[str, list[ImportSite]]:
        """Import sites inside functions, by the function's absolute name (those the file itself
        already copies as import-time are left out: facts/calltime.py reported them)."""
        if self._sites is not None:
            return self._sites
        out = self._sites = {}
        for facts in self.files.values():
            if facts.extra or not facts.effects:
                continue
            copied = {(s.line, s.column, s.target, s.name) for s in facts.sites
                      if not any(g.kind is GuardKind.FUNCTION for g in s.guards)}
            lines = self._def_lines(facts)
            for site in facts.sites:
                if not any(g.kind is GuardKind.FUNCTION for g in site.guards) or _never(site.guards):
                    continue
                if any(g.kind is GuardKind.DECORATOR for g in site.guards):
                    continue  # a configured toggle decorator runs the body only while its toggle is on
                if (site.line, site.column, site.target, site.name) in copied:
                    continue
                context = _context_of(site.guards, lines)
                if context is None and [g for g in site.guards if g.kind is GuardKind.FUNCTION][-1].text == "lambda":
                    context = _lambda_at(facts, site)
                if context:
                    out.setdefault(f"{facts.module}.{context}", []).append(site)
        return out

    def _relevant(self, graph, sites) -> set[str]:
        """Functions from which a function with import sites can be reached."""
        callers = self._callers
        if callers is None:
            callers = self._callers = {}
            for (node, context), out in graph.items():
                if not context:
                    continue
                caller = f"{self.files[node].module}.{context}"
                for target, _ in out:
                    callers.setdefault(target, set()).add(caller)
        relevant = set(sites)
        work = list(relevant)
        while work:
            for caller in callers.get(work.pop(), ()):
                if caller not in relevant:
                    relevant.add(caller)
                    work.append(caller)
        return relevant

    def _kept_of(self, effect: Effect) -> tuple[Guard, ...]:
        """`_kept(effect.guards)`, once per effect (the walks pass each call edge many times)."""
        memo = self._kept_memo
        found = memo.get(id(effect))
        if found is None or found[0] is not effect:
            found = memo[id(effect)] = (effect, _kept(effect.guards))
        return found[1]

    def _from(self, node: str, graph, relevant: set[str], wanted: set[str], shared: dict[tuple, list]) -> list[Reached]:
        """Every function of `wanted` the import of `node` may run, with guards and chain.

        The walk depends only on the calls the module's own code makes and their guards, in order:
        modules that make the same ones (2,646 modules of transformers make 1,785 different lists)
        share one walk (`shared`), each with its own statements and first link of the chain."""
        facts = self.files[node]
        entries = []
        for target, effect in graph.get((node, ""), ()):
            if target in relevant and not any((MAIN, True) in g.knowledge for g in effect.guards):
                # (`if __name__ == "__main__":` runs when the module is run, not when it is imported)
                entries.append((target, _entered(_kept(effect.guards), target), effect))
        key = tuple((target, guards) for target, guards, _ in entries)
        walk = shared.get(key)
        if walk is None:
            walk = shared[key] = self._walk(key, graph, relevant, wanted)
        out = []
        for function, guards, index, tail in walk:
            target, _, effect = entries[index]
            first = f"{facts.path}:{effect.line} {_short(target)}"
            out.append(Reached(function, node, effect.line, effect.column, guards, (first, *tail)))
        return out

    def _walk(self, entries: tuple, graph, relevant: set[str], wanted: set[str]) -> list[tuple]:
        """(function, guards, index of the entry it starts from, chain after the entry's link) for
        each function of `wanted` the calls `entries` ((function, guards) in order) may run.

        Guard stacks are numbered (`_stack`), so that comparing and extending them is an integer
        operation; a (function, stack) already queued is not queued again (its second copy would be
        skipped when taken: by then the first has put its stack, or the empty one, in `seen`)."""
        seen: dict[str, list[int]] = {}
        queued: set[tuple[str, int]] = set()
        out: list[tuple] = []
        steps = self._steps_of
        stack = self._stack
        joined = self._joined
        stacks = self._stacks
        # a state's chain is a linked list ((previous, link) or None) with its length, made a tuple
        # only for the functions kept
        queue: deque = deque()
        for index, (target, guards) in enumerate(entries):
            number = stack(guards)
            if (target, number) not in queued:
                queued.add((target, number))
                queue.append((target, number, index, None, 1))
        while queue:
            function, number, index, tail, length = queue.popleft()
            variants = seen.setdefault(function, [])
            if number in variants or 0 in variants:
                continue
            if len(variants) >= _MAX_GUARD_VARIANTS:
                number = 0
                if 0 in variants:
                    continue
            variants.append(number)
            if function in wanted:
                out.append((function, stacks[number], index, _unlinked(tail)))
            if length >= _MAX_CHAIN:
                continue
            for target, kept, link, entering in steps(function, graph, relevant):
                prior = seen.get(target)
                if prior is not None and 0 in prior:
                    continue  # (what the pop would skip: its variants only grow)
                key = (number, kept, entering)
                entered = joined.get(key)
                if entered is None:
                    guards = (*stacks[number], *stacks[kept])
                    entered = joined[key] = stack(_entered(guards, target) if entering else guards)
                if (prior is not None and entered in prior) or (target, entered) in queued:
                    continue
                queued.add((target, entered))
                queue.append((target, entered, index, (tail, link), length + 1))
        return out

    def _stack(self, guards: tuple[Guard, ...]) -> int:
        """The number of a guard stack (0 is the empty one)."""
        number = self._stack_numbers.get(guards)
        if number is None:
            number = self._stack_numbers[guards] = len(self._stacks)
            self._stacks.append(guards)
        return number

    def _steps_of(self, function: str, graph, relevant: set[str]) -> list[tuple]:
        """(target, number of the kept guards, chain link, whether entering adds a guard) for each
        call edge out of `function` to a function of `relevant`, computed once per relevant set."""
        if self._steps_for is not relevant:
            self._steps, self._steps_for = {}, relevant
        found = self._steps.get(function)
        if found is None:
            owner, effect = self.defs[function]
            found = self._steps[function] = [
                (target, self._stack(self._kept_of(step)), f"{owner.path}:{step.line} {_short(target)}",
                 _converts_on_entry(target))
                for target, step in graph.get((owner.node, effect.name), ()) if target in relevant]
        return found


def _unlinked(tail) -> tuple[str, ...]:
    out = []
    while tail is not None:
        tail, link = tail
        out.append(link)
    return tuple(reversed(out))


def _converts_on_entry(function: str) -> bool:
    """Whether entering `function` adds a guard (_entered): `__set_name__`, whose error Python < 3.12 wraps."""
    return function.endswith(".__set_name__")


def _entered(guards: tuple[Guard, ...], function: str) -> tuple[Guard, ...]:
    """The guards inside `function` when the walk enters it: an error of `__set_name__` may leave
    it as a RuntimeError (Python < 3.12), which a handler of the failure outside may not catch."""
    if _converts_on_entry(function):
        # as facts/calltime.py's set_name_converter (facts is not imported here: it loads libcst)
        return (*guards, Guard(GuardKind.CONVERTS, 0, "__set_name__ (Python < 3.12 wraps its error in RuntimeError)",
                               catches=frozenset({"*", "->RuntimeError"})))
    return guards


def _never(guards: Iterable[Guard]) -> bool:
    return any((TYPE_CHECKING, True) in g.knowledge or g.kind is GuardKind.DEAD for g in guards)


def _kept(guards: tuple[Guard, ...]) -> tuple[Guard, ...]:
    """The guards that hold on the way (not the FUNCTION ones: the walk is why it runs)."""
    return tuple(g for g in within(guards) if g.kind is not GuardKind.FUNCTION and (MAIN, True) not in g.knowledge)


_HANDLERS = (GuardKind.OPTIONAL, GuardKind.TOLERANT, GuardKind.CONVERTS)


def within(guards: tuple[Guard, ...]) -> tuple[Guard, ...]:
    """A guard stack as it holds inside the innermost function when that function is called from
    elsewhere: a handler around the `def` (or around an enclosing one) protects the definition,
    not a call made later, so handlers before the last FUNCTION guard are left out."""
    last = -1
    for i, guard in enumerate(guards):
        if guard.kind is GuardKind.FUNCTION:
            last = i
    if last < 0 or not any(g.kind in _HANDLERS for g in guards[:last]):
        return guards
    return tuple(g for i, g in enumerate(guards) if i > last or g.kind not in _HANDLERS)


def _context_of(guards, lines: dict[int, str]) -> str | None:
    """The function a fact with these guards sits in ("" at module level), by its def's line."""
    inner = [g for g in guards if g.kind is GuardKind.FUNCTION]
    if not inner:
        return ""
    return lines.get(inner[-1].line)


def _lambda_at(facts: FileFacts, site: ImportSite) -> str | None:
    """The lambda an import site without a line of its own sits in (facts/dynamic_calls.py marks an
    import in a lambda's body so): the last lambda that starts at or before it."""
    best = None
    for effect in facts.effects:
        if effect.kind is EffectKind.DEF and effect.name.rpartition(".")[2].startswith("<lambda:") \
                and (effect.line, effect.column) <= (site.line, site.column):
            if best is None or (effect.line, effect.column) > (best.line, best.column):
                best = effect
    return best.name if best is not None else None


def _site_effect(site: ImportSite, context: str) -> Effect:
    return Effect(EffectKind.USE, context, f"{site.target}.{site.name}", site.line, site.column, site.guards, "value")


def _short(function: str) -> str:
    return function.rpartition(".")[2] + "()"
