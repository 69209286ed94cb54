"""Names code attaches to other modules by a name it is handed (issue 26, item 5).

Two facts, both read on the `ast` view:

- a **namespace writer**: a module-level function that writes a name its caller chooses into a
  module namespace, `globals()[name] = value` or `setattr(module, name, value)` with `name` one of
  its parameters (TVM's `register_script_namespace(name, namespace)`). Its targets are its own
  module (for `globals()`/`sys.modules[__name__]`) and the dotted modules its body names in string
  literals (the `for m in ["pkg.a", "pkg.b"]: setattr(sys.modules.get(m), name, v)` pattern);
- an **attaching argument**: a call argument that is a loop variable whose values are all known
  strings: `for name, ns in namespaces().items(): register(name, ns)` where `namespaces()` is a
  function of the file returning dict literals with string keys, or a loop over a literal list,
  tuple, set or dict (directly or through a module-level name bound once). Literal arguments are
  in the call facts already.

analysis/attachments.py joins them: a scope that calls a writer attaches the names it passes to
the writer's targets, and code outside the scope that reads `target.name` breaks once it is gone.
"""

from __future__ import annotations

import ast
import re
import sys

from ..base.model import AttachFact
from .astnodes import every_node
from .bindings import ImportBindings

_STDLIB = frozenset(sys.stdlib_module_names) | {"builtins"}
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def attachment_facts(tree: ast.Module, module: str, bindings: ImportBindings) -> dict:
    """The FileFacts field this pass fills: `attaches`.

    One walk of the tree finds what could make a fact (a `setattr`/`globals` name, a `for` loop
    over known strings); the passes that read a context's own nodes run only where it found one,
    which most files never do."""
    found: list[AttachFact] = []
    writer_hint, loops, changed = _survey(tree)
    if writer_hint:
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found += _writer(stmt, module)
    known = _known_loops(tree, loops, changed)
    if known:
        for context, node in _functions(tree):
            own = list(_own(node))
            values = _loop_values(own, known)
            if not values:
                continue
            for call in own:
                if not isinstance(call, ast.Call):
                    continue
                callee = _callee(call.func, module, bindings)
                if callee is None or callee.partition(".")[0] in _STDLIB:
                    continue  # a writer is a project function
                for position, arg in enumerate(call.args):
                    if isinstance(arg, ast.Name) and arg.id in values:
                        found.append(AttachFact("argument", context, callee, call.lineno, call.col_offset + 1,
                                                position, tuple(values[arg.id])))
    found.sort(key=lambda f: (f.line, f.column, f.position))
    return {"attaches": tuple(found)} if found else {}


_WRITER_NAMES = frozenset({"setattr", "globals"})


def _survey(tree: ast.Module) -> tuple[bool, list, set[str]]:
    """In one walk: whether the file names `setattr` or `globals` (a writer needs one), its `for`
    loops, and the names code changes in place (a module constant must not be one of them)."""
    writer_hint = False
    loops = []
    changed: set[str] = set()
    for node in every_node(tree):
        kind = type(node)
        if kind is ast.Name:
            if not writer_hint and node.id in _WRITER_NAMES:
                writer_hint = True
        elif kind is ast.Attribute:
            if type(node.value) is ast.Name and node.attr in _MUTATORS and type(node.ctx) is ast.Load:
                changed.add(node.value.id)
        elif kind is ast.Subscript:
            if type(node.value) is ast.Name and type(node.ctx) is not ast.Load:
                changed.add(node.value.id)
        elif kind is ast.For or kind is ast.AsyncFor:
            loops.append(node)
        elif kind is ast.Global:
            changed.update(node.names)
        elif kind is ast.AugAssign:
            if type(node.target) is ast.Name:
                changed.add(node.target.id)
    return writer_hint, loops, changed


_MUTATORS = frozenset({"append", "extend", "update", "add", "insert", "setdefault", "pop", "remove"})


def _known_loops(tree: ast.Module, loops: list, changed: set[str]) -> dict[int, tuple[list[str], bool]]:
    """id(loop) -> (the strings it iterates, whether items are (key, value) pairs), for the loops
    whose iterable is all known strings. The function and constant tables are built only when a
    loop reads one."""
    tables: dict[str, dict] = {}

    def returns() -> dict[str, list[str]]:
        if "returns" not in tables:
            tables["returns"] = _dict_returning_functions(tree)
        return tables["returns"]

    def constants() -> dict[str, list[str]]:
        if "constants" not in tables:
            tables["constants"] = _module_constants(tree, changed)
        return tables["constants"]

    known = {}
    for loop in loops:
        values, pairs = _iterated(loop.iter, returns, constants)
        if values is not None:
            known[id(loop)] = (values, pairs)
    return known


def _writer(function, module: str) -> list[AttachFact]:
    """A module-level function writing a namespace by one of its parameters."""
    params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    found = []
    targets: list[str] = []
    own = False
    written: list[tuple[str, int]] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _DOTTED.fullmatch(node.value):
            targets.append(node.value)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (isinstance(target, ast.Subscript) and _is_call(target.value, "globals")
                        and isinstance(target.slice, ast.Name) and target.slice.id in params):
                    written.append((target.slice.id, node.lineno))
                    own = True
        elif isinstance(node, ast.Call) and _is_call(node, "setattr") and len(node.args) >= 2:
            name = node.args[1]
            if isinstance(name, ast.Name) and name.id in params:
                written.append((name.id, node.lineno))
                if _this_module(node.args[0]):
                    own = True
    seen = set()
    for param, line in written:
        if param in seen:
            continue
        seen.add(param)
        where = tuple(dict.fromkeys([*([module] if own else []), *targets]))
        if where:
            found.append(AttachFact("writer", function.name, param, line, 1, params.index(param), where))
    return found


def _is_call(node, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _this_module(node) -> bool:
    """`sys.modules[__name__]`."""
    return (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Name) and node.slice.id == "__name__"
            and isinstance(node.value, ast.Attribute) and node.value.attr == "modules")


def _functions(tree: ast.Module):
    """(qualified context, node) for module level ("") and every function, methods as `C.m`."""
    yield "", tree

    def walk(body, prefix):
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{stmt.name}"
                yield name, stmt
                yield from walk(stmt.body, f"{name}.")
            elif isinstance(stmt, ast.ClassDef):
                yield from walk(stmt.body, f"{prefix}{stmt.name}.")
            elif isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
                for field in ("body", "orelse", "finalbody"):
                    yield from walk(getattr(stmt, field, []) or [], prefix)
                for handler in getattr(stmt, "handlers", []):
                    yield from walk(handler.body, prefix)

    yield from walk(tree.body, "")


def _own(node):
    """The nodes of one context, not descending into nested functions, classes or lambdas."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        item = stack.pop()
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield item
        stack.extend(ast.iter_child_nodes(item))


def _callee(func, module: str, bindings: ImportBindings) -> str | None:
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    dotted = ".".join([func.id, *reversed(parts)])
    found = bindings.absolute(dotted)
    if found is not None:
        return found
    return f"{module}.{dotted}" if module else dotted


def _loop_values(own: list, known: dict[int, tuple[list[str], bool]]) -> dict[str, list[str]]:
    """Loop variables of one context (its own nodes) whose values are all known strings: name -> values."""
    found: dict[str, list[str]] = {}
    for item in own:
        if id(item) not in known:
            continue
        values, first_of_pair = known[id(item)]
        target = item.target
        if first_of_pair:
            if not (isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name)):
                continue
            target = target.elts[0]
        if isinstance(target, ast.Name):
            found.setdefault(target.id, []).extend(values)
    if not found:
        return {}
    assigned: dict[str, int] = {}
    for item in own:
        for target in _assigned(item):
            assigned[target] = assigned.get(target, 0) + 1
    # A name bound elsewhere in the context too may hold other values: not known.
    return {name: list(dict.fromkeys(values)) for name, values in found.items() if assigned.get(name, 0) == 1}


def _assigned(item) -> list[str]:
    targets = []
    if isinstance(item, (ast.For, ast.AsyncFor, ast.comprehension)):
        targets = [item.target]
    elif isinstance(item, ast.Assign):
        targets = item.targets
    elif isinstance(item, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
        targets = [item.target]
    elif isinstance(item, (ast.With, ast.AsyncWith)):
        targets = [w.optional_vars for w in item.items if w.optional_vars is not None]
    names = []
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.append(sub.id)
    return names


def _iterated(node, returns, constants) -> tuple[list[str] | None, bool]:
    """The strings a `for` loop's iterable yields (keys for a dict), and whether each item is a
    (key, value) pair (`.items()`); (None, False) when not all known."""
    pairs = False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args \
            and node.func.attr in ("items", "keys"):
        pairs = node.func.attr == "items"
        node = node.func.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args and not node.keywords:
        values = returns().get(node.func.id)
        return (list(values), pairs) if values is not None else (None, False)
    if isinstance(node, ast.Name):
        values = constants().get(node.id)
        return (list(values), pairs) if values is not None else (None, False)
    values = _literal_strings(node)
    return (values, pairs) if values is not None else (None, False)


def _literal_strings(node) -> list[str] | None:
    if isinstance(node, ast.Dict):
        items = node.keys
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = node.elts
    else:
        return None
    if not items or not all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in items):
        return None
    return [k.value for k in items]


def _dict_returning_functions(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level functions every `return` of which is a dict literal with string keys: name -> keys."""
    found = {}
    for stmt in tree.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or isinstance(stmt, ast.AsyncFunctionDef):
            continue
        returns = sorted((n for n in _own(stmt) if isinstance(n, ast.Return)), key=lambda n: (n.lineno, n.col_offset))
        if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own(stmt)):
            continue
        keys: list[str] = []
        for ret in returns:
            if not isinstance(ret.value, ast.Dict):
                keys = []
                break
            values = _literal_strings(ret.value)
            if values is None:
                keys = []
                break
            keys += values
        if keys and returns:
            found[stmt.name] = list(dict.fromkeys(keys))
    return found


def _module_constants(tree: ast.Module, changed: set[str]) -> dict[str, list[str]]:
    """Module-level names bound once, to a literal of strings, and never changed in the file
    (`changed`: the names `_survey` saw mutated, subscript-assigned, declared global or augmented)."""
    bound: dict[str, int] = {}
    values: dict[str, list[str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            bound[name] = bound.get(name, 0) + 1
            literal = _literal_strings(stmt.value)
            if literal is not None:
                values[name] = literal
    return {name: v for name, v in values.items() if bound.get(name) == 1 and name not in changed}
